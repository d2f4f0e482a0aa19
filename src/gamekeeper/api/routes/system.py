"""Health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gamekeeper import __version__
from gamekeeper.api.deps import ServicesDep
from gamekeeper.api.metrics import render_metrics
from gamekeeper.api.schemas.users import HealthOut

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=HealthOut)
async def healthz(services: ServicesDep) -> HealthOut:
    """Up, and the database answers."""
    database = await services.system.health()
    return HealthOut(status="ok", database=database, version=__version__)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus metrics: jobs by status, games stored, upstream requests and 429s, latency."""
    body, content_type = await render_metrics(services, request.app.state.timer)
    return Response(body, media_type=content_type)
