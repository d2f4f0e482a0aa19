"""Health and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from gamekeeper import __version__
from gamekeeper.api.deps import NotAuthenticated, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.api.metrics import metrics_authorized, render_metrics
from gamekeeper.api.schemas.users import HealthOut

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=HealthOut)
async def healthz(services: ServicesDep) -> HealthOut:
    """Up, and the database answers."""
    database = await services.system.health()
    return HealthOut(status="ok", database=database, version=__version__)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: ERROR_RESPONSES[401]},
)
async def metrics(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Prometheus metrics: jobs by status, games stored, upstream requests and 429s, latency.

    With `GAMEKEEPER_METRICS_TOKEN` set, send `Authorization: Bearer <that token>`.
    """
    if not metrics_authorized(services.settings.metrics_token, authorization):
        raise NotAuthenticated("/metrics needs the metrics token (GAMEKEEPER_METRICS_TOKEN)")
    body, content_type = await render_metrics(services, request.app.state.timer)
    return Response(body, media_type=content_type)
