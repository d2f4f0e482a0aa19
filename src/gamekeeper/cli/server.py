"""Running the server (`gamekeeper serve`, `gamekeeper demo`): uvicorn over `create_app`."""

from __future__ import annotations

import gc
import socket

import uvicorn
from rich.console import Console

from gamekeeper.app import create_app
from gamekeeper.bootstrap import Services
from gamekeeper.domain.users import Role


async def first_start_login(services: Services, base_url: str, console: Console) -> None:
    """On a database without users, create the admin and print a one-time login URL."""
    if await services.users.list_users():
        return
    admin = await services.users.ensure_user(services.settings.user, role=Role.ADMIN)
    token = await services.users.issue_token(admin, label="first start")
    console.print(
        f"created admin user {admin.name!r}. Log in (this link is shown once):\n"
        f"    {base_url}/login?token={token}",
        highlight=False,
        soft_wrap=True,
    )


async def run_server(services: Services, host: str, port: int, console: Console) -> None:
    """Serve `services` (already started) until interrupted; running jobs are handed
    back to the queue when they close."""
    base_url = f"http://{host}:{port}"
    await first_start_login(services, base_url, console)
    # The job kinds (python-chess, the plugins, the sites' clients) load now rather than
    # at the first job, so the freeze below puts them out of the collector's sight too:
    # loaded after it, they made each full collection during a sync 50-90 ms longer.
    services.registry.names()
    config = uvicorn.Config(
        create_app(services=services),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        # Dashboards hold event streams open for ever: don't wait on them at Ctrl-C.
        timeout_graceful_shutdown=3,
        # Which proxy's X-Forwarded-* headers count is GAMEKEEPER_TRUSTED_PROXY's say
        # alone (`api.guards.ForwardedProto`), not uvicorn's default of 127.0.0.1.
        proxy_headers=False,
    )
    await _AnnouncingServer(
        config, f"gamekeeper serving on {base_url} (Ctrl-C to stop)", console
    ).serve()


class _AnnouncingServer(uvicorn.Server):
    """Says "serving" once the socket listens, so scripts can connect as soon as they read it."""

    def __init__(self, config: uvicorn.Config, message: str, console: Console) -> None:
        super().__init__(config)
        self.message = message
        self.console = console

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            # Everything loaded so far (the app, its routes, the libraries) lives as long
            # as the process: out of the collector's sight, a full collection during a
            # sync scans only what came since, and the API stalls that much less.
            gc.collect()
            gc.freeze()
            self.console.print(self.message, highlight=False)
