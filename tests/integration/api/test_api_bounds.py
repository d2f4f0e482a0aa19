"""Hostile but fair input: out-of-range numbers, NUL characters and odd names are a 4xx
in the API's error shape, on SQLite and PostgreSQL alike, and never show driver text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Api

HUGE = (2**31, 2**63, 2**64)


def _no_server_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, (response.request.url, response.text)
    assert 400 <= response.status_code < 500, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    assert set(body["error"]) >= {"code", "message"}
    assert "psycopg" not in response.text and "sqlite" not in response.text.lower()
    return body


def sync_body(**parameters: Any) -> dict[str, Any]:
    return {
        "job_type": "sync_games",
        "parameters": {"platform": "lichess", "username": "hikaru", **parameters},
    }


@pytest.mark.parametrize("value", HUGE)
def test_numbers_beyond_their_columns_are_refused(api: Api, value: int) -> None:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as client:
        account = client.post("/api/accounts", json={"platform": "lichess", "username": "hikaru"})
        account_id = account.json()["id"]
        cases: list[tuple[str, str, Any]] = [
            ("POST", "/api/jobs", {"job_type": "sync_games", "parameters": {"account_id": value}}),
            ("POST", "/api/jobs", {"job_type": "sync_moves", "parameters": {"account_id": value}}),
            ("POST", "/api/jobs", {"job_type": "sync_moves", "parameters": {"limit": value}}),
            ("POST", "/api/jobs", {"job_type": "sync_moves", "parameters": {"delay_ms": value}}),
            ("POST", f"/api/accounts/{account_id}/sync", {"max": value}),
            ("POST", f"/api/accounts/{account_id}/sync", {"limit": value}),
            ("POST", f"/api/accounts/{account_id}/sync", {"delay_ms": value}),
        ]
        for name in ("max", "limit", "skip", "months_requested"):
            cases.append(("POST", "/api/jobs", sync_body(**{name: value})))
        for method, path, body in cases:
            _no_server_error(client.request(method, path, json=body))
        for name in ("since_ms", "start_date_ms"):  # 2^31 ms is a time in January 1970
            response = client.post("/api/jobs", json=sync_body(**{name: value}))
            if value > 2**31:
                _no_server_error(response)
            assert response.status_code < 500, response.text
        for path in ("/api/jobs", "/api/games", "/api/stats/ratings"):
            _no_server_error(client.get(path, params={"account_id": value}))
        _no_server_error(client.get(f"/api/games/{value}"))
        _no_server_error(client.get(f"/api/accounts/{value}"))


@pytest.mark.parametrize("value", HUGE)
def test_dashboard_pages_take_any_number_without_a_server_error(api: Api, value: int) -> None:
    cookies = {"gamekeeper_token": api.tokens["alice"]}
    with httpx.Client(base_url=api.url, timeout=30, cookies=cookies) as client:
        for path, params in (
            ("/games", {"account": str(value)}),
            ("/charts", {"account": str(value)}),
            (f"/games/{value}", {}),
            (f"/games/{value}/board.svg", {}),
        ):
            response = client.get(path, params=params)
            assert response.status_code < 500, (path, response.text)


def test_a_long_import_path_is_refused(make_api: Any, tmp_path: Any) -> None:
    api = make_api(import_dir=str(tmp_path))
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as client:
        for path in ("/" + "a" * 5000, "x" * 5000, str(tmp_path / ("b" * 300))):
            body = {"job_type": "import_pgn", "parameters": {"path": path}}
            _no_server_error(client.post("/api/jobs", json=body))


NUL_QUERIES = [
    ("/api/jobs", {"job_type": "sync\x00"}),
    ("/api/jobs", {"status": "queued\x00"}),
    ("/api/admin/jobs", {"owner": "alice\x00"}),
    ("/api/admin/jobs", {"job_type": "\x00"}),
    ("/api/games", {"opening": "B0\x007"}),
    ("/api/games/export", {"opening": "\x00"}),
    ("/api/jobs", {"cursor": "\x00"}),
]


def test_nul_anywhere_is_a_422(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as client:
        for path, params in NUL_QUERIES:
            response = client.get(path, params=params)
            assert _no_server_error(response)["error"]["code"] == "validation_error"
            assert response.status_code == 422
        for path in ("/api/jobs/job_%00", "/api/admin/jobs/job_%00", "/api/jobs/%00/cancel"):
            method = "POST" if path.endswith("cancel") else "GET"
            response = client.request(method, path)
            assert response.status_code == 422, (path, response.text)
        for body in (
            {"job_type": "sync_games\x00", "parameters": {}},
            {"job_type": "sync_games", "parameters": {"platform": "lichess", "username": "a\x00"}},
            {"job_type": "sync_games", "parameters": {"account_id": 1, "since": "2024\x00"}},
            {"job_type": "sync_games", "parameters": {"nested": {"deep": ["\x00"]}}},
        ):
            response = client.post("/api/jobs", json=body)
            assert response.status_code == 422, (body, response.text)
        response = client.post("/api/admin/users", json={"name": "eve\x00"})
        assert response.status_code == 422
    cookies = {"gamekeeper_token": api.tokens["alice"]}
    with httpx.Client(base_url=api.url, timeout=30, cookies=cookies) as client:
        for path, params in (("/games", {"opening": "\x00"}), ("/charts", {"account": "\x00"})):
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, response.text)


def test_unicode_usernames_are_refused_by_every_route(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as client:
        for name in ("éva", "名前", "Ωmega"):
            by_jobs = client.post("/api/jobs", json=sync_body(username=name))
            by_accounts = client.post(
                "/api/accounts", json={"platform": "lichess", "username": name}
            )
            assert (by_jobs.status_code, by_accounts.status_code) == (422, 422), name
        assert client.get("/api/accounts").json() == []


def test_bodies_hard_to_parse_are_refused(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as client:
        deep = client.post(
            "/api/jobs", content=b"[" * 200_000, headers={"Content-Type": "application/json"}
        )
        assert 400 <= deep.status_code < 500, deep.text
        many = {"job_type": "sync_games", "parameters": {f"k{i}": i for i in range(40_000)}}
        wide = client.post("/api/jobs", json=many)
        assert wide.status_code == 422, wide.text[:300]
        assert client.get("/healthz").status_code == 200


def test_a_bad_trusted_proxy_setting_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from gamekeeper.settings import Settings

    with pytest.raises(ValidationError, match="trusted_proxy"):
        Settings(trusted_proxy="10.0.0.0/8, not-an-address")
    assert Settings(trusted_proxy="10.0.0.5, 172.16.0.0/12").trusted_proxy
