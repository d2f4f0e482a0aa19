"""The REST API on a FastAPI application: its routes, error handlers and request timer."""

from __future__ import annotations

from fastapi import FastAPI

from gamekeeper.api.errors import install_error_handlers
from gamekeeper.api.metrics import RequestTimer
from gamekeeper.api.routes import accounts, admin, games, jobs, stats, system


def install_api(app: FastAPI) -> None:
    """Add the API's routes (under `/api`, plus `/healthz` and `/metrics`) to `app`."""
    timer = RequestTimer()
    app.state.timer = timer
    app.middleware("http")(timer.middleware)
    install_error_handlers(app)
    for module in (jobs, accounts, games, stats, admin, system):
        app.include_router(module.router)
