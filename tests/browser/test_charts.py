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
    expect(charts).to_have_count(5)
    for name in (
        "Rating over time",
        "Results by opening as White",
        "Results by opening as Black",
        "Games per month",
        "Accuracy over time",
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
    expect(page.locator("svg.chart")).to_have_count(5)
    snap(page, "charts-one-account")


def test_accuracy_over_time_for_the_analysed_account(page: Page, dashboard: Dashboard) -> None:
    # The seeded account has one analysed game: its newest, a blitz game alice played as
    # Black with 61.9 accuracy (tests/browser/seed.py).
    log_in(page, dashboard)
    page.goto("/charts")
    chart = page.get_by_role("img", name="Accuracy over time")
    expect(chart).to_be_visible()
    dots = page.locator("#chart-accuracy circle.dot")
    expect(dots).to_have_count(1)
    expect(dots.locator("title")).to_have_text(re.compile(r"^\d{4}-\d{2}: 61\.90% \(1 game\)$"))
    expect(page.locator("#chart-accuracy-desc")).to_contain_text("over 1 analysed game,")
    by_speed = page.get_by_role("table", name="Accuracy by speed")
    expect(by_speed.locator("tbody tr")).to_have_count(1)
    expect(by_speed.locator("tbody tr")).to_have_text(re.compile(r"blitz\s*61\.90%\s*1"))
    page.locator("[data-chart=accuracy]").scroll_into_view_if_needed()
    snap(page, "charts-accuracy")
    stats = page.request.get("/api/stats/accuracy").json()
    assert stats["by_speed"] == [{"speed": "blitz", "games": 1, "accuracy": 61.9}]
    assert [m["games"] for m in stats["by_month"]] == [1]
