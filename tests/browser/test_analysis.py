"""An analysed game's page: the evaluation graph, ?!/?/?? beside the moves, accuracy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Dashboard, log_in, scripts_ready, snap

pytestmark = pytest.mark.browser


def test_an_analysed_game_shows_graph_judgments_and_accuracy(
    page: Page, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    page.goto(f"/games/{dashboard.analysed_game}")
    scripts_ready(page)
    panel = page.locator("[data-analysis]")
    expect(panel.get_by_role("heading", name=re.compile("Analysis"))).to_contain_text(
        "Stockfish 15.1"
    )
    # The graph: an SVG picture with a line and one dot per judged move.
    graph = panel.locator("[data-eval-graph] svg")
    expect(graph).to_be_visible()
    expect(graph.locator("polyline.eval-line")).to_have_count(1)
    expect(graph.locator("circle.j-blunder")).to_have_count(1)
    expect(graph.locator("[data-judged-ply]")).to_have_count(3)
    box = graph.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 30

    # The marks beside the moves, the best move on hover (title).
    for ply, mark, kind in ((5, "?!", "Inaccuracy"), (12, "?", "Mistake"), (17, "??", "Blunder")):
        move = page.locator(f".move[data-ply='{ply}']")
        expect(move.locator(".judgment")).to_have_text(mark)
        expect(move).to_have_attribute("title", re.compile(rf"^{kind}; best was \S+$"))
    expect(page.locator(".move .judgment")).to_have_count(3)

    # Each side's figures: White had the inaccuracy and the blunder, Black the mistake.
    white, black = panel.locator("tr[data-side=white]"), panel.locator("tr[data-side=black]")
    expect(white.locator("[data-accuracy]")).to_have_text("88.4%")
    expect(black.locator("[data-accuracy]")).to_have_text("61.9%")
    expect(white.locator("[data-acpl]")).to_have_text("23")
    expect(white.locator("td")).to_have_text(["88.4%", "23", "1", "0", "1"])
    expect(black.locator("td")).to_have_text(["61.9%", "71", "0", "1", "0"])

    # A dot in the graph goes to its move.
    graph.locator("[data-judged-ply='17']").click()
    expect(page.locator("[data-board]")).to_have_attribute("data-ply", "17")
    snap(page, "game-analysis")


def test_a_game_without_analysis_has_no_analysis_panel(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    page.goto(f"/games/{dashboard.analysed_game - 1}")
    expect(page.locator("[data-board]")).to_be_visible()
    expect(page.locator("[data-analysis]")).to_have_count(0)
    expect(page.locator(".move .judgment")).to_have_count(0)
