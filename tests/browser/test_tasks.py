"""Accounts and Tasks: add an account, start syncs, watch them live, cancel one.

The server syncs from the Lichess emulator, whose streams are paced so a sync lasts
a few seconds: long enough to see the bar move, short enough for the suite.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.support import (
    CANCEL_PLAYER,
    DESKTOP,
    LICHESS_COOLDOWN_S,
    PHONE,
    SYNC_GAMES,
    SYNC_PLAYER,
    WAIT_PLAYER,
    Dashboard,
    log_in,
    scripts_ready,
    snap,
    tab,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser


def add_account(page: Page, username: str) -> Locator:
    """Add a Lichess account on the Accounts page; its card."""
    tab(page, "Accounts").click()
    scripts_ready(page)
    page.get_by_label("Site").select_option("lichess")
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Add account").click()
    card = page.locator(f"article[data-account='lichess:{username}']")
    expect(card).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts\?added=\d+"))
    scripts_ready(page)
    return card


#: Records every value the page's progress bars take in the `fetching` phase (cards are
#: replaced as jobs start and end, so the observer watches the whole page).
WATCH_PROGRESS_JS = """
() => {
  window.progressSeen = [];
  const record = () => {
    for (const bar of document.querySelectorAll('progress[data-field=progress]')) {
      const phase = bar.closest('article').querySelector('[data-field=phase]').textContent;
      const value = bar.getAttribute('value');
      const seen = window.progressSeen;
      if (phase === 'fetching' && value !== null && seen[seen.length - 1] !== Number(value)) {
        seen.push(Number(value));
      }
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['value'],
  });
  record();
}
"""


def job_card(page: Page, account: str, *, state: str) -> Locator:
    """The card of `account`'s job in the active or the history list."""
    lists = {"active": "[data-active-list]", "history": "[data-history-list]"}
    return page.locator(f"{lists[state]} article.job").filter(has_text=f"lichess:{account}")


def test_add_an_account_sync_it_and_watch_the_progress(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    card = add_account(page, SYNC_PLAYER)
    expect(card.locator("[data-last-sync]")).to_contain_text("never")
    assert unlabelled_controls(page) == []

    card.get_by_label("Kind of sync").select_option("sync_games")
    card.get_by_role("button", name="Start sync").click()
    expect(card.get_by_role("status")).to_contain_text("Started job_")
    # The dot on the Tasks tab pulses while the job runs, on this page too.
    dot = page.locator("[data-activity-dot]")
    expect(dot).to_be_visible()
    expect(dot).to_have_class(re.compile(r"\bis-active\b"))

    tab(page, "Tasks").click()
    page.evaluate(WATCH_PROGRESS_JS)
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    active = job_card(page, SYNC_PLAYER, state="active")
    bar = active.locator("progress")
    expect(bar).to_have_attribute("max", str(SYNC_GAMES))
    # Part of the way there (no sleeps: Playwright waits for the page to get there).
    page.wait_for_function(
        "total => window.progressSeen.some((v) => v > 0 && v < total)", arg=SYNC_GAMES
    )
    expect(active.locator("[data-field=rate]")).to_have_text(re.compile(r"/s$"))
    expect(active.locator("[data-field=phases] li").first).to_have_text("fetching")
    expect(page.locator("[data-activity-dot]")).to_have_class(re.compile(r"\bis-active\b"))
    snap(page, "tasks-sync")
    page.set_viewport_size(PHONE)
    snap(page, "phone-tasks-sync")
    page.set_viewport_size(DESKTOP)

    # It ends: the card moves to the history with the reconciliation, the dot stops.
    done = job_card(page, SYNC_PLAYER, state="history")
    expect(done.locator("[data-field=status]")).to_have_text("completed")
    expect(done.locator("[data-reconcile]")).to_contain_text(
        f"Lichess counts {SYNC_GAMES:,} games; {SYNC_GAMES:,} stored"
    )
    expect(done.locator("[data-counter=inserted]")).to_have_text(f"{SYNC_GAMES:,}")
    expect(page.locator("[data-activity-dot]")).to_be_hidden()
    expect(page.locator("[data-no-active]")).to_be_visible()
    snap(page, "tasks-history")
    # While fetching, the bar moved forward batch by batch, live, without a reload.
    seen: list[int] = page.evaluate("() => window.progressSeen")
    assert seen == sorted(seen) and len({v for v in seen if v > 0}) >= 2, seen

    tab(page, "Accounts").click()
    card = page.locator(f"article[data-account='lichess:{SYNC_PLAYER}']")
    expect(card.locator("[data-last-sync]")).to_contain_text("completed")
    expect(card.get_by_role("link", name=f"{SYNC_GAMES:,} games")).to_be_visible()


def test_cancel_a_running_job_while_polling_without_sse(page: Page, dashboard: Dashboard) -> None:
    # No server-sent events for this page: it must fall back to polling.
    def refuse(route: Route) -> None:
        route.abort()

    page.route("**/api/events", refuse)
    log_in(page, dashboard)
    card = add_account(page, CANCEL_PLAYER)
    card.get_by_role("button", name="Start sync").click()
    expect(card.get_by_role("status")).to_contain_text("Started job_")

    tab(page, "Tasks").click()
    expect(page.locator("[data-live-status]")).to_have_text("Updating every 1.5 s")
    active = job_card(page, CANCEL_PLAYER, state="active")
    expect(active.locator("progress")).to_have_attribute("value", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("[data-activity-dot]")).to_have_class(re.compile(r"\bis-active\b"))

    cancel = active.get_by_role("button", name=f"Cancel Full sync of lichess:{CANCEL_PLAYER}")
    cancel.click()
    expect(cancel).to_be_disabled()
    snap(page, "tasks-cancelling")

    done = job_card(page, CANCEL_PLAYER, state="history")
    expect(done.locator("[data-field=status]")).to_have_text("cancelled")
    # It kept what it had committed.
    expect(done.locator("[data-counter=inserted]")).not_to_have_text("0")
    expect(page.locator("[data-activity-dot]")).to_be_hidden()
    snap(page, "tasks-cancelled")


def test_a_rate_limited_job_waits_with_a_countdown(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    card = add_account(page, WAIT_PLAYER)
    # The next request to Lichess is answered 429: the sync waits out the cool-down.
    dashboard.lichess.faults.rate_limit_burst = 1
    card.get_by_label("Kind of sync").select_option("sync_metadata")
    card.get_by_role("button", name="Start sync").click()
    expect(card.get_by_role("status")).to_contain_text("Started job_")

    tab(page, "Tasks").click()
    active = job_card(page, WAIT_PLAYER, state="active")
    expect(active.locator("[data-field=status]")).to_have_text("waiting")
    wait = active.locator("[data-field=wait]")
    expect(wait).to_be_visible()
    expect(wait).to_contain_text("Resumes in")
    expect(active.locator("[data-field=countdown]")).to_have_text(
        re.compile(rf"^[0-{LICHESS_COOLDOWN_S}] s$|^a moment$")
    )
    snap(page, "tasks-waiting")

    done = job_card(page, WAIT_PLAYER, state="history")
    expect(done.locator("[data-field=status]")).to_have_text("completed")
    expect(done).to_contain_text("Two-stage sync (metadata)")
