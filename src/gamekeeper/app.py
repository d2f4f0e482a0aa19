"""`create_app(settings)`: the server's FastAPI application, its services built in the
lifespan: the REST API and, mounted on it, the web dashboard (two peers, neither
imports the other)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gamekeeper import __version__
from gamekeeper.api.app import install_api, install_guards
from gamekeeper.bootstrap import Services, build_services, upgrade_database
from gamekeeper.settings import Settings
from gamekeeper.web.pages import mount_dashboard


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The API (and, mounted on it, the dashboard). No I/O until the lifespan starts.

    Given `services`, the app uses them and leaves starting and closing them to the caller.
    """
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        built = build_services(settings)
        try:
            if settings.auto_upgrade:
                await upgrade_database(built)
            await built.start(schedule=True)
            app.state.services = built
            yield
        finally:
            await built.aclose()

    app = FastAPI(
        title="gamekeeper",
        version=__version__,
        description="Keep your chess games at home: accounts, sync jobs, games, live events.",
        lifespan=lifespan,
    )
    install_api(app)
    mount_dashboard(app)  # the web dashboard: pages, /static, login redirects
    install_guards(app, settings)
    return app
