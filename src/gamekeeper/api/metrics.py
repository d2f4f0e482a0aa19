"""Prometheus metrics: request latency (measured here) and gauges read at scrape time."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamekeeper.bootstrap import Services

#: Methods labelled as themselves; any other (a client may send any token) is `other`.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def route_label(scope: Scope) -> str:
    """The route template, not the path: ids would make a series per game."""
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unmatched"


def status_label(status: int) -> str:
    """The status class (`4xx`): with methods and routes bounded, the set stays small."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


class RequestTimer:
    """Request latency by method, route and status class, in a registry of this app's own.

    Every label has a fixed set of values, whatever a client sends: a series per made-up
    method or path would let anyone grow the server's memory one request at a time.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "gamekeeper_http_request_duration_seconds",
            "Time to answer a request (streams: time to the response head).",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        labels = (method_label(scope.get("method", "")), route_label(scope), status_label(status))
        self.latency.labels(*labels).observe(seconds)


class TimedRequests:
    """Pure ASGI middleware feeding a `RequestTimer` (outermost, so refusals count too)."""

    def __init__(self, app: ASGIApp, *, timer: RequestTimer) -> None:
        self.app = app
        self.timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                self.timer.observe(scope, status, time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


def metrics_authorized(token: str | None, authorization: str | None) -> bool:
    """With a metrics token set, the scraper must send it as a bearer token."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


class _Snapshot(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


async def render_metrics(services: Services, timer: RequestTimer) -> tuple[bytes, str]:
    jobs = GaugeMetricFamily("gamekeeper_jobs", "Jobs by status.", labels=["status"])
    for status, count in sorted((await services.system.job_counts()).items()):
        jobs.add_metric([status], count)
    games = GaugeMetricFamily("gamekeeper_games_stored", "Games in the database.")
    games.add_metric([], await services.system.games_stored())
    requests = CounterMetricFamily(
        "gamekeeper_upstream_requests", "Requests sent upstream.", labels=["host"]
    )
    limited = CounterMetricFamily(
        "gamekeeper_upstream_rate_limited", "429 answers from upstream.", labels=["host"]
    )
    for stats in services.upstreams.stats():
        requests.add_metric([stats.host], stats.requests)
        limited.add_metric([stats.host], stats.rate_limited)
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot([jobs, games, requests, limited]))
    return generate_latest(snapshot) + generate_latest(timer.registry), CONTENT_TYPE_LATEST
