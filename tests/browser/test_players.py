"""The Players page: the crawl's players, a card, and an opening tree that expands."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Dashboard, log_in, tab

pytestmark = pytest.mark.browser


def test_players_page_shows_the_crawl_and_the_tree_expands(
    page: Page, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    started = page.request.post(
        dashboard.url("/api/jobs"),
        data={
            "job_type": "crawl_opponents",
            "parameters": {"platform": "lichess", "username": "alice", "max_players": 3},
        },
        headers={"Origin": dashboard.url("")},
    )
    assert started.ok, started.text()
    job_id = started.json()["id"]
    # The job's event stream ends when the job does.
    events = page.request.get(dashboard.url(f"/api/jobs/{job_id}/events"), timeout=60_000)
    assert '"completed"' in events.text()
    page.goto(dashboard.url("/tasks"))
    tab(page, "Players").click()
    rows = page.locator("[data-frontier] tbody tr")
    expect(rows).to_have_count(3)
    rows.first.get_by_role("link").click()
    expect(page.locator("[data-player-card]")).to_be_visible()
    first = page.locator("[data-tree-move]").first
    move = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", name=f"Opening tree after {move}")).to_be_visible()
    expect(page.locator("[data-tree-games]")).to_contain_text("games reach this position")
