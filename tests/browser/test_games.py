"""Games: the filtered list, and a game page whose board steps through the moves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.seed import SEED_PLAYER
from tests.browser.support import (
    Dashboard,
    log_in,
    scripts_ready,
    snap,
    tab,
    tab_to,
    unlabelled_controls,
)

pytestmark = pytest.mark.browser


def test_filter_the_list_and_page_through_it(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    tab(page, "Games").click()
    rows = page.locator("table.games-table tbody tr")
    expect(rows).to_have_count(50)  # a full page of the seeded games
    assert unlabelled_controls(page) == []

    # The seeded account's games (other tests sync more games into other accounts).
    page.get_by_label("Account").select_option(label=f"lichess:{SEED_PLAYER}")
    page.get_by_label("Speed").select_option("blitz")
    page.get_by_label("Colour").select_option("white")
    page.get_by_label("Opening").fill("Sicilian")
    page.get_by_label("From").fill("2025-01-01")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"speed=blitz.*color=white.*opening=Sicilian"))
    expect(page.get_by_label("Speed")).to_have_value("blitz")  # the new page is in
    expect(rows.first).to_be_visible()
    count = rows.count()
    assert 0 < count < 50
    for cell in rows.locator("td[data-label=Speed]").all():
        expect(cell).to_contain_text("blitz")
    for cell in rows.locator("td[data-label=Opening]").all():
        expect(cell).to_contain_text("Sicilian")
    # Alice (you) had White in every row.
    expect(rows.locator(".player.is-me .piece-dot--white")).to_have_count(count)
    snap(page, "games-filtered")

    page.get_by_role("link", name="Reset").click()
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(rows.first).to_be_visible()
    expect(page.get_by_role("link", name="First page")).to_be_visible()


def test_game_page_steps_through_moves_by_button_keyboard_and_list(
    page: Page, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    page.goto("/games")
    page.get_by_label("Account").select_option(label=f"lichess:{SEED_PLAYER}")
    page.get_by_label("Speed").select_option("rapid")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"speed=rapid"))
    page.locator("a.game-link").first.click()
    expect(page).to_have_url(re.compile(r"/games/\d+$"))
    scripts_ready(page)
    board = page.locator("[data-board]")
    image = board.locator("img")
    plies = int(board.get_attribute("data-plies") or 0)
    assert plies > 20
    # Opens on the final position, with clocks and evaluations in the move list.
    expect(board).to_have_attribute("data-ply", str(plies))
    expect(page.locator(".move .clock").first).to_have_text(re.compile(r"^\d+:\d\d"))
    expect(page.locator(".move .eval").first).to_have_text(re.compile(r"^[+-]\d+\.\d\d$"))
    assert unlabelled_controls(page) == []

    page.get_by_role("link", name="Start position").click()
    expect(board).to_have_attribute("data-ply", "0")
    expect(page.locator("[data-board-caption]")).to_contain_text("Start position")
    page.get_by_role("link", name="Next move").click()
    expect(board).to_have_attribute("data-ply", "1")
    expect(page.locator("[data-board-caption]")).to_contain_text("1. ")
    expect(image).to_have_attribute("src", re.compile(r"ply=1&"))

    # The keyboard: back to the board with Shift+Tab, then the arrows, Home and End.
    tab_to(page, board, key="Shift+Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(board).to_have_attribute("data-ply", "3")
    page.keyboard.press("ArrowLeft")
    expect(board).to_have_attribute("data-ply", "2")
    expect(page.locator(".move[aria-current=step]")).to_have_attribute("data-ply", "2")
    page.keyboard.press("End")
    expect(board).to_have_attribute("data-ply", str(plies))
    page.keyboard.press("Home")
    expect(board).to_have_attribute("data-ply", "0")

    # A move in the list jumps there; the board image really loads.
    page.locator(".move[data-ply='10']").click()
    expect(board).to_have_attribute("data-ply", "10")
    expect(page).to_have_url(re.compile(r"\?ply=10$"))
    expect(image).to_have_attribute("src", re.compile(r"ply=10&"))
    page.wait_for_function("() => document.querySelector('[data-board] img').complete")
    assert image.evaluate("img => img.naturalWidth") > 0
    snap(page, "game")

    # Without scripts the same URL shows the same position (the server renders it).
    page.reload()
    expect(board).to_have_attribute("data-ply", "10")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PGN").click()
    pgn = download.value.path().read_text()
    assert '[White "' in pgn and "1. " in pgn and "%clk" in pgn


def test_an_unknown_game_is_a_friendly_404(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    response = page.goto("/games/999999")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    snap(page, "game-not-found")
