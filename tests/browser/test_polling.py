"""The polling fallback (no server-sent events): it polls only while the Tasks view is
in sight or a job is active, stops when all jobs have ended, and starts again with a
new job. The page's timers run on Playwright's fake clock, so no test waits them out;
the page says in `data-polling` whether a poll is scheduled, under way or not."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.support import POLL_PLAYER, Dashboard, log_in, scripts_ready, tab
from tests.browser.test_tasks import add_account

pytestmark = pytest.mark.browser


def is_poll(request: Request) -> bool:
    return "/jobs?" in request.url and "status=running" in request.url


def settled(page: Page) -> str:
    """Wait until no poll is under way; then whether one is scheduled or not."""
    body = page.locator("body")
    expect(body).to_have_attribute("data-polling", re.compile("^(scheduled|idle)$"))
    return str(body.get_attribute("data-polling"))


def test_polling_only_while_tasks_are_in_sight_or_a_job_runs(
    page: Page, dashboard: Dashboard
) -> None:
    def refuse(route: Route) -> None:
        route.abort()

    page.route("**/api/events", refuse)
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if is_poll(request) else None)
    page.clock.install()
    log_in(page, dashboard)
    expect(page.locator("[data-live-status]")).to_have_text("Updating every 1.5 s")
    expect(page.locator("[data-activity-dot]")).to_be_hidden()  # nothing is running
    # The Tasks view in sight keeps polling, to show jobs started elsewhere.
    assert settled(page) == "scheduled"
    before = len(polls)
    page.clock.run_for(1_600)
    assert settled(page) == "scheduled"
    assert len(polls) == before + 1

    # Another page with nothing running: one look, then quiet.
    tab(page, "Games").click()
    scripts_ready(page)
    assert settled(page) == "idle"
    before = len(polls)
    page.clock.run_for(15_000)
    assert settled(page) == "idle"
    assert len(polls) == before

    # A job started here starts the polling again, until it ends.
    card = add_account(page, POLL_PLAYER)
    assert settled(page) == "idle"
    card.get_by_role("button", name="Start sync").click()
    expect(card.get_by_role("status")).to_contain_text("Started job_")
    expect(page.locator("[data-activity-dot]")).to_have_class(re.compile(r"\bis-active\b"))
    assert settled(page) == "scheduled"
    while settled(page) == "scheduled":
        page.clock.run_for(1_600)  # each poll is a round trip: the job runs on meanwhile
    expect(page.locator("[data-activity-dot]")).to_be_hidden()
    before = len(polls)
    page.clock.run_for(15_000)
    assert (settled(page), len(polls)) == ("idle", before)
