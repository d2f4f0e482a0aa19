"""A real `gamekeeper serve` on loopback with emulated upstreams, and Debian's Chromium.

One server and one browser serve the whole package (starting them is the slow part;
both stop when its last test is done); every test gets a fresh browser context (its
own cookies) that records each request the page makes, and fails if one left
127.0.0.1 or a script raised.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from gamekeeper.domain.games import Platform
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.storage import migrator
from gamekeeper.storage.sql.store import SqlStore
from tests.browser.seed import SEED_PLAYER, seed_analysis, seed_games
from tests.browser.support import (
    CANCEL_GAMES,
    CANCEL_PLAYER,
    DESKTOP,
    GAMES_PER_S,
    LICHESS_COOLDOWN_S,
    PHONE,
    POLL_GAMES,
    POLL_PLAYER,
    SYNC_GAMES,
    SYNC_PLAYER,
    WAIT_GAMES,
    WAIT_PLAYER,
    Dashboard,
    Recorder,
    check_recorded,
)

#: Read at import: the autouse `clean_environ` fixture removes GAMEKEEPER_* variables.
REQUIRE_BROWSER = os.environ.get("GAMEKEEPER_REQUIRE_BROWSER") == "1"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Playwright's auto-waiting assertions wait this long (a sync takes seconds, not minutes).
expect.set_options(timeout=30_000)


async def _prepare_database(url: str, analysed: list[int]) -> None:
    """Schema and the seeded games of the admin's `alice` account (no users yet, so
    `serve` creates the admin and prints the one-time login URL); the newest game gets
    an analysis, its id appended to `analysed`."""
    store = SqlStore(url)
    try:
        await asyncio.to_thread(migrator.upgrade, store.engine)
        await store.add_account("admin", Platform.LICHESS, SEED_PLAYER)
        games = seed_games()
        await store.upsert_games(games, job_id=None)
        analysed.append(await asyncio.to_thread(seed_analysis, store.engine, games[-1]))
    finally:
        await store.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OutputReader(threading.Thread):
    """Collects the server's output; `login_url` is set once the first-start link appears."""

    def __init__(self, proc: subprocess.Popen[str], lines: list[str]) -> None:
        super().__init__(name="serve-output", daemon=True)
        self.proc, self.lines = proc, lines
        self.login_url: str | None = None
        self.found = threading.Event()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "/login?token=" in line and self.login_url is None:
                self.login_url = line.strip()
                self.found.set()
        self.found.set()  # the output ended: stop waiting either way


def _wait_until_serving(url: str, proc: subprocess.Popen[str], timeout_s: float = 30) -> None:
    """Poll /healthz: the one wait that is not Playwright's, for a process to listen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gamekeeper serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.05)
    raise RuntimeError("gamekeeper serve did not start listening")


@pytest.fixture(scope="package")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    workdir = tmp_path_factory.mktemp("dashboard")
    database_url = f"sqlite:///{workdir / 'gamekeeper.db'}"
    # In a thread of its own: Playwright's sync API may already run a loop in this one.
    analysed: list[int] = []
    seeding = threading.Thread(
        target=asyncio.run, args=(_prepare_database(database_url, analysed),)
    )
    seeding.start()
    seeding.join()
    accounts = {
        SYNC_PLAYER: SYNC_GAMES,
        CANCEL_PLAYER: CANCEL_GAMES,
        WAIT_PLAYER: WAIT_GAMES,
        POLL_PLAYER: POLL_GAMES,
    }
    lichess = LichessEmulator(LichessCorpus.generate(accounts, seed=5))
    lichess.faults.games_per_s = GAMES_PER_S
    chesscom = ChessComEmulator(ChessComCorpus.generate({"bob": 10}, seed=5))
    with serve_in_thread(lichess) as lichess_url, serve_in_thread(chesscom) as chesscom_url:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
        env |= {
            "GAMEKEEPER_DATABASE_URL": database_url,
            "GAMEKEEPER_LICHESS_URL": lichess_url,
            "GAMEKEEPER_CHESSCOM_URL": chesscom_url,
            "GAMEKEEPER_CONTACT": "tests@gamekeeper.invalid",
            "GAMEKEEPER_LICHESS_COOLDOWN_S": str(LICHESS_COOLDOWN_S),
            "GAMEKEEPER_UPSTREAM_BACKOFF_BASE_S": "0.05",
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", "gamekeeper", "serve", "--host", "127.0.0.1"]
        with (workdir / "serve.stderr").open("w") as stderr:
            proc = subprocess.Popen(
                [*command, "--port", str(port)],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            lines: list[str] = []
            reader = OutputReader(proc, lines)
            reader.start()
            try:
                reader.found.wait(timeout=60)
                assert reader.login_url, f"no login URL printed: {lines}"
                base_url = f"http://127.0.0.1:{port}"
                assert reader.login_url.startswith(base_url + "/login?token=gk_")
                _wait_until_serving(base_url, proc)
                yield Dashboard(base_url, reader.login_url, lichess, lines, analysed[0])
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                reader.join()
                assert proc.stdout is not None
                proc.stdout.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for this package's tests only: Playwright's sync API keeps an event loop
    running in this thread while it is open, which would break the async tests after."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _new_context(
    browser: Browser, dashboard: Dashboard, recorder: Recorder, **options: object
) -> BrowserContext:
    context = browser.new_context(base_url=dashboard.base_url, **options)  # type: ignore[arg-type]
    context.on("request", lambda request: recorder.requests.append(request.url))
    context.on("weberror", lambda error: recorder.errors.append(str(error.error)))
    context.on("console", lambda message: recorder.on_console(message))
    context.on("response", lambda response: recorder.on_response(response))
    return context


@pytest.fixture
def context(browser: Browser, dashboard: Dashboard, recorder: Recorder) -> Iterator[BrowserContext]:
    ctx = _new_context(browser, dashboard, recorder, viewport=DESKTOP)
    yield ctx
    ctx.close()
    check_recorded(recorder)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def phone(browser: Browser, dashboard: Dashboard, recorder: Recorder) -> Iterator[Page]:
    """A phone-sized page (390 px wide, touch) in its own context."""
    ctx = _new_context(browser, dashboard, recorder, viewport=PHONE, is_mobile=True, has_touch=True)
    yield ctx.new_page()
    ctx.close()
    check_recorded(recorder)
