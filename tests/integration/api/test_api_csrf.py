"""The dashboard's cookie works only from the dashboard: a state-changing request it signs
must come from the same origin (403 otherwise); bearer tokens are not affected."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import Api

EVIL = "http://evil.example"


def _cookie_client(api: Api, token: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, timeout=30, cookies={"gamekeeper_token": token})


def _account(api: Api) -> int:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as client:
        made = client.post("/api/accounts", json={"platform": "lichess", "username": "hikaru"})
        return int(made.json()["id"])


def test_cookie_posts_from_another_origin_are_refused(api: Api) -> None:
    account_id = _account(api)
    refused = [
        {"Origin": EVIL},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": api.url},
        {"Origin": "null"},
        {},  # neither header: not a browser page of ours
    ]
    with _cookie_client(api, api.tokens["alice"]) as client:
        for headers in refused:
            for method, path in (
                ("POST", f"/api/accounts/{account_id}/sync"),
                ("PATCH", f"/api/accounts/{account_id}"),
                ("DELETE", f"/api/accounts/{account_id}"),
                ("POST", "/api/jobs/job_000000000000/cancel"),
                ("POST", "/logout"),
            ):
                body = {"auto_sync_minutes": None} if method == "PATCH" else None
                response = client.request(method, path, headers=headers, json=body)
                assert response.status_code == 403, (headers, path, response.text)
                assert response.json()["error"]["code"] == "cross_origin"
        # The account is still there: nothing above went through.
        assert client.get(f"/api/accounts/{account_id}").status_code == 200
        # From the dashboard's own pages it works, by Sec-Fetch-Site or by Origin.
        ok = client.post(
            f"/api/accounts/{account_id}/sync", headers={"Sec-Fetch-Site": "same-origin"}
        )
        assert ok.status_code == 202, ok.text
        job_id = ok.json()["id"]
        cancel = client.post(f"/api/jobs/{job_id}/cancel", headers={"Origin": api.url})
        assert cancel.status_code == 202, cancel.text


def test_bearer_requests_are_not_affected(api: Api) -> None:
    account_id = _account(api)
    headers = api.auth("alice") | {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    with httpx.Client(base_url=api.url, timeout=30, headers=headers) as client:
        response = client.patch(f"/api/accounts/{account_id}", json={"auto_sync_minutes": 60})
        assert response.status_code == 200, response.text


def test_login_csrf_and_logout_by_post_only(api: Api) -> None:
    token = api.tokens["alice"]
    form = {"token": token, "next": "/tasks"}
    with httpx.Client(base_url=api.url, timeout=30) as client:
        forged = client.post("/login", data=form, headers={"Origin": EVIL})
        assert forged.status_code == 403
        assert "gamekeeper_token" not in forged.cookies
        own = client.post("/login", data=form, headers={"Origin": api.url})
        assert own.status_code == 303 and own.cookies.get("gamekeeper_token") == token
        # A login link opened from another site shows the form: it does not sign in.
        linked = client.get(
            "/login", params={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert linked.status_code == 200 and "gamekeeper_token" not in linked.cookies
        assert "another site" in linked.text
        # Pasted into the address bar (Sec-Fetch-Site: none) it signs in.
        typed = client.get("/login", params={"token": token}, headers={"Sec-Fetch-Site": "none"})
        assert typed.status_code == 303 and typed.cookies.get("gamekeeper_token") == token
    with _cookie_client(api, token) as client:
        assert client.get("/logout").status_code == 405
        out = client.post("/logout", headers={"Sec-Fetch-Site": "same-origin"})
        assert out.status_code == 303 and out.headers["location"] == "/login"


def test_nul_in_the_login_form_is_a_422(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        response = client.post(
            "/login",
            data={"token": "gk_\x00", "next": "/tasks\x00"},
            headers={"Origin": api.url},
        )
    assert response.status_code == 422
