"""Lighthouse-style basics on every page: labelled controls, keyboard use, phones.

(That nothing is fetched from beyond loopback is checked after every browser test,
by the `context` and `phone` fixtures.)
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

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

PAGES = ["/tasks", "/accounts", "/games", "/charts"]


def first_game(page: Page) -> str:
    page.goto("/games")
    href = page.locator("a.game-link").first.get_attribute("href")
    assert href
    return href


def test_every_control_is_labelled_and_the_page_has_landmarks(
    page: Page, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    for path in [*PAGES, first_game(page)]:
        page.goto(path)
        assert unlabelled_controls(page) == [], path
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_dashboard_works_by_keyboard(page: Page, dashboard: Dashboard) -> None:
    log_in(page, dashboard)
    # The first Tab reaches the skip link, which jumps over the navigation.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Tabs, then a game, then its board: Tab and Enter all the way.
    games_tab = tab(page, "Games")
    tab_to(page, games_tab, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(dashboard.url("/games"))
    scripts_ready(page)
    tab_to(page, page.get_by_label("Speed"))
    for _ in range(3):  # a closed select changes with the arrows: Any → … → Blitz
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Speed")).to_have_value("blitz")
    tab_to(page, page.get_by_role("button", name="Apply filters"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(dashboard.url("/games?speed=blitz"))
    tab_to(page, page.locator("a.game-link").first)
    focus = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus != "none", "focus must be visible"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/games/\d+$"))
    scripts_ready(page)
    board = page.locator("[data-board]")
    tab_to(page, board)
    before = int(board.get_attribute("data-ply") or 0)
    page.keyboard.press("ArrowLeft")
    expect(board).to_have_attribute("data-ply", str(before - 1))
    snap(page, "keyboard-game")


@pytest.mark.parametrize("path", ["/tasks", "/accounts", "/games", "game", "/charts"])
def test_pages_fit_a_phone(phone: Page, dashboard: Dashboard, path: str) -> None:
    log_in(phone, dashboard)
    if path == "game":
        path = first_game(phone)
    phone.goto(path)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    # Nothing wider than the screen, except charts, which scroll inside their card.
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
    expect(
        phone.get_by_role("navigation", name="Main").get_by_role("link", name="Charts")
    ).to_be_visible()
    name = "phone-" + ("game" if path.startswith("/games/") else path.strip("/"))
    snap(phone, name)
