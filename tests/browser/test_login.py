"""Logging in: the one-time URL `gamekeeper serve` prints, the form, and logging out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import Dashboard, log_in, snap, unlabelled_controls

pytestmark = pytest.mark.browser


def test_pages_need_a_login_and_a_bad_token_is_refused(page: Page, dashboard: Dashboard) -> None:
    page.goto("/games?speed=blitz")
    # Sent to the login form, which remembers where you were going.
    expect(page).to_have_url(re.compile(r"/login\?next=/games%3Fspeed%3Dblitz$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert unlabelled_controls(page) == []
    page.get_by_label("API token").fill("gk_not-a-real-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    snap(page, "login-refused")


def test_the_printed_url_logs_in_with_a_strict_httponly_cookie(
    page: Page, context: BrowserContext, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    expect(page.get_by_role("heading", name="Tasks", exact=True)).to_be_visible()
    [cookie] = [c for c in context.cookies() if c["name"] == "gamekeeper_token"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] in dashboard.login_url
    # The token left the address bar with the redirect.
    assert "token" not in page.url
    snap(page, "tasks-after-login")

    page.get_by_role("button", name=re.compile("^Log out")).click()
    expect(page).to_have_url(re.compile("/login$"))
    assert [c for c in context.cookies() if c["name"] == "gamekeeper_token"] == []
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login\?next=/tasks$"))


def test_the_login_form_takes_a_token_and_returns_where_you_were(
    page: Page, dashboard: Dashboard
) -> None:
    token = dashboard.login_url.split("token=", 1)[1]
    page.goto("/charts")
    page.get_by_label("API token").fill(token)
    page.get_by_label("API token").press("Enter")  # by keyboard
    expect(page).to_have_url(dashboard.url("/charts"))
    expect(page.get_by_role("heading", name="Charts", exact=True)).to_be_visible()


def test_pages_allow_only_this_server_and_static_files_revalidate(
    page: Page, dashboard: Dashboard
) -> None:
    log_in(page, dashboard)
    response = page.goto("/games")
    assert response is not None
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    static = page.request.get("/static/live.js")
    assert static.ok and static.headers["cache-control"] == "no-cache"
    assert "javascript" in static.headers["content-type"]
