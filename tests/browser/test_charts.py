"""Charts: server-rendered SVG for rating over time, results by opening, games per month."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Dashboard, log_in, snap, tab, unlabelled_controls

pytestmark = pytest.mark.browser


def test_charts_page_draws_the_seeded_games(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    tab(page, "Charts").click()
    expect(page.get_by_role("heading", name="Charts", exact=True)).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    for name in (
        "Rating over time",
        "Results by opening as White",
        "Results by opening as Black",
        "Games per month",
    ):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    ratings = page.locator("#chart-ratings")
    # A line per site and speed: the seeded account played bullet, blitz and rapid.
    expect(ratings.locator("text.legend")).to_contain_text(
        ["lichess bullet", "lichess blitz", "lichess rapid"]
    )
    assert ratings.locator("polyline.line").count() >= 3
    white = page.locator("#chart-openings-white")
    expect(white.locator("text.label").first).to_have_text(re.compile(r"\w"))
    expect(white.locator("rect.c-win").first).to_be_visible()
    expect(page.locator("#chart-monthly g.bar").first).to_be_visible()
    assert page.locator("#chart-monthly g.bar").count() >= 12
    assert unlabelled_controls(page) == []
    # The numbers are there as tables too.
    page.locator("[data-chart=monthly] summary").click()
    expect(page.get_by_role("table", name="Games per month")).to_be_visible()
    snap(page, "charts-full", full_page=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    snap(page, "charts")

    # The same statistics as JSON, for scripts.
    series = page.request.get("/api/stats/ratings").json()
    assert {s["speed"] for s in series} >= {"blitz", "rapid", "bullet"}
    months = page.request.get("/api/stats/monthly").json()
    assert sum(m["games"] for m in months) >= 160


def test_charts_for_one_account(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    page.goto("/charts")
    page.get_by_label("Account").select_option(label="lichess:alice")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/charts\?account=\d+$"))
    expect(page.locator(".hint").first).to_contain_text("lichess:alice")
    expect(page.locator("svg.chart")).to_have_count(4)
    snap(page, "charts-one-account")
