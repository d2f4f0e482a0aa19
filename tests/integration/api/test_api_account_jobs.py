"""An account's `last_job` is one its viewer may open: a user sees only their own jobs,
so an admin's job on a user's account is not shown to that user (nor anywhere else)."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import Api


def test_last_job_shows_only_jobs_the_viewer_may_open(api: Api) -> None:
    with (
        httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as alice,
        httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as admin,
    ):
        account = alice.post("/api/accounts", json={"platform": "lichess", "username": "hikaru"})
        account_id = account.json()["id"]
        by_admin = admin.post(
            "/api/jobs", json={"job_type": "sync_games", "parameters": {"account_id": account_id}}
        )
        assert by_admin.status_code == 202, by_admin.text
        job_id = by_admin.json()["id"]
        assert alice.get(f"/api/jobs/{job_id}").status_code == 404  # not hers to open

        for shown in (
            alice.get(f"/api/accounts/{account_id}").json(),
            *alice.get("/api/accounts").json(),
        ):
            last = shown["last_job"]
            assert last is None or alice.get(f"/api/jobs/{last['id']}").status_code == 200
        # The admin, who sees every job, sees it as the account's last.
        assert admin.get(f"/api/accounts/{account_id}").json()["last_job"]["id"] == job_id
    cookies = {"gamekeeper_token": api.tokens["alice"]}
    with httpx.Client(base_url=api.url, timeout=30, cookies=cookies) as page:
        assert job_id not in page.get("/accounts").text
