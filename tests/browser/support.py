"""What the browser tests share besides fixtures: the server handle, recording, helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect

from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.sync.deps import BATCH_SIZE

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

#: Emulated Lichess players: one to sync to the end, one big enough to cancel midway,
#: one for the rate-limit wait. Sizes follow the sync's batch size, so the first sync
#: commits two batches and a remainder while its progress moves game by game.
SYNC_PLAYER, SYNC_GAMES = "sync_me", BATCH_SIZE * 5 // 2
CANCEL_PLAYER, CANCEL_GAMES = "cancel_me", BATCH_SIZE * 20
WAIT_PLAYER, WAIT_GAMES = "wait_me", 40
#: One for the polling fallback: a short sync started from the Accounts page.
POLL_PLAYER, POLL_GAMES = "poll_me", 40
#: Streams are paced at a batch every 1.5 s: a sync takes a few seconds, progress moves.
GAMES_PER_S = BATCH_SIZE / 1.5
#: The shared Lichess cool-down after a 429, short enough for a test to wait out.
LICHESS_COOLDOWN_S = 4


@dataclass(slots=True)
class Dashboard:
    """The running server: where it is, how to log in, and its Lichess emulator."""

    base_url: str
    login_url: str
    lichess: LichessEmulator
    output: list[str] = field(default_factory=list)
    #: The seeded game that has an analysis (judgments, accuracy).
    analysed_game: int = 0

    def url(self, path: str) -> str:
        return self.base_url + path


@dataclass(slots=True)
class Recorder:
    """Every request a page made, and every script error it raised."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # A failed load is logged too; `on_response` judges those (a 404 page is fine).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def on_response(self, response: Response) -> None:
        """A page may be a 404; what it loads (scripts, styles, boards, API calls) may not."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"HTTP {response.status} for {response.url}")


def check_recorded(recorder: Recorder) -> None:
    """Nothing was fetched from outside loopback, and no script failed."""
    assert recorder.requests, "the page made no requests at all?"
    outside = [u for u in recorder.requests if urlsplit(u).hostname != "127.0.0.1"]
    assert outside == [], f"requests beyond loopback: {outside}"
    assert recorder.errors == [], f"script errors: {recorder.errors}"


def tab(page: Page, name: str) -> Locator:
    """A tab of the main navigation (Tasks, Accounts, Games, Charts)."""
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(f"^{name}")
    )


def scripts_ready(page: Page) -> None:
    """Wait for the page's (deferred) scripts: before them, forms submit as plain HTML."""
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def log_in(page: Page, dashboard: Dashboard) -> None:
    """The one-time URL `serve` printed signs the browser in and lands on Tasks."""
    page.goto(dashboard.login_url)
    expect(page).to_have_url(dashboard.url("/tasks"))


def snap(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot as a CI artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


#: Every control must have an accessible name: a <label for>, aria-label(ledby), or text.
_UNLABELLED_JS = """
() => {
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if (['BUTTON', 'A', 'SUMMARY'].includes(el.tagName) && el.textContent.trim()) return true;
    return false;
  };
  const controls = document.querySelectorAll([
    'input:not([type=hidden])', 'select', 'textarea', 'button', 'progress', 'a[href]',
    'summary', '[tabindex]:not([tabindex="-1"])',
  ].join(', '));
  return [...controls].filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 160));
}
"""


def unlabelled_controls(page: Page) -> list[str]:
    result: list[str] = page.evaluate(_UNLABELLED_JS)
    return result


def tab_to(page: Page, target: Locator, *, key: str = "Tab", max_presses: int = 40) -> None:
    """Press Tab (or `key`, e.g. Shift+Tab) until `target` has the focus."""
    for _ in range(max_presses):
        page.keyboard.press(key)
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus by Tab")
