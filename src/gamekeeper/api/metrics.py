"""Prometheus metrics: request latency (measured here) and gauges read at scrape time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from gamekeeper.bootstrap import Services


class RequestTimer:
    """Request latency by method, route and status, in a registry of this app's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "gamekeeper_http_request_duration_seconds",
            "Time to answer an API request (streams: time to the response head).",
            ["method", "route", "status"],
            registry=self.registry,
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The route template, not the path: ids would make a series per game.
        template = getattr(route, "path", "unmatched")
        self.latency.labels(request.method, template, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


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
