"""`/metrics`: every label bounded whatever clients send, and an optional token."""

from __future__ import annotations

import re
import socket

import httpx

from tests.integration.api.conftest import Api, ApiFactory

SERIES = re.compile(r"^gamekeeper_http_request_duration_seconds_count\{(.*)\} ", re.M)


def raw_request(url: str, method: str, path: str) -> None:
    """One request with any method at all (httpx refuses some), answer read and dropped."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        while sock.recv(65536):
            pass


def label_sets(text: str) -> set[str]:
    return set(SERIES.findall(text))


def test_made_up_methods_and_paths_do_not_grow_the_label_set(api: Api) -> None:
    for i in range(200):
        raw_request(api.url, f"M{i:04d}", f"/api/jobs/job_{i:012x}")
        raw_request(api.url, "GET", f"/nowhere/{i}")
    with httpx.Client(base_url=api.url, timeout=30) as client:
        client.get("/api/jobs", headers=api.auth("alice"))
        text = client.get("/metrics").text
    labels = label_sets(text)
    methods = {re.search(r'method="([^"]*)"', s).group(1) for s in labels}  # type: ignore[union-attr]
    routes = {re.search(r'route="([^"]*)"', s).group(1) for s in labels}  # type: ignore[union-attr]
    statuses = {re.search(r'status="([^"]*)"', s).group(1) for s in labels}  # type: ignore[union-attr]
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods
    assert "unmatched" in routes and "/api/jobs/{job_id}" in routes
    assert not [r for r in routes if "job_0" in r or "/nowhere/" in r]
    assert statuses <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    assert len(labels) < 20


def test_a_metrics_token_when_set(make_api: ApiFactory) -> None:
    api = make_api(metrics_token="scrape-secret")
    with httpx.Client(base_url=api.url, timeout=30) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        # An API token is not the metrics token either.
        assert client.get("/metrics", headers=api.auth("admin")).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert ok.status_code == 200 and "gamekeeper_jobs" in ok.text
        assert client.get("/healthz").status_code == 200  # health stays open
