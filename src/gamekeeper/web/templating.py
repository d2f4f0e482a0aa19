"""Rendering pages: the Jinja2 environment, the context every page shares, and headers."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from gamekeeper import __version__
from gamekeeper.domain.jobs import ACTIVE_STATUSES
from gamekeeper.domain.users import User
from gamekeeper.storage.base import JobQuery
from gamekeeper.web import formatting as fmt
from gamekeeper.web.auth import services_of
from gamekeeper.web.jobs import job_title

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

#: Everything the pages use comes from this server: the policy makes the browser refuse
#: anything else (no CDN, no font service, no inline script).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Pages show one user's data: never from a shared cache, nor from the back button's.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def environment() -> jinja2.Environment:
    """Built on first use (no I/O at import time); templates load lazily after that."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        int=fmt.fmt_int,
        when=fmt.fmt_when,
        day=fmt.fmt_day,
        iso=fmt.iso,
        duration=fmt.fmt_duration,
        rate=fmt.fmt_rate,
        clock=fmt.fmt_clock,
        eval=fmt.fmt_eval,
    )
    env.globals.update(version=__version__, site_name=site_name, job_title=job_title)
    return env


SITE_NAMES = {"lichess": "Lichess", "chesscom": "Chess.com", "pgn": "PGN"}


def site_name(platform: str | None) -> str:
    return SITE_NAMES.get(platform or "", platform or "The site")


def owner_filter(user: User) -> str | None:
    """Jobs a user sees: their own; an admin sees everyone's (as `/api/events` does)."""
    return None if user.is_admin else user.name


async def page_context(request: Request, user: User, page: str) -> dict[str, Any]:
    """What the layout needs: who, which tab, and whether a job is active (the dot)."""
    services = services_of(request)
    active = await services.jobs.list(
        JobQuery(owner=owner_filter(user), statuses=ACTIVE_STATUSES, limit=1)
    )
    return {
        "request": request,
        "user": user,
        "page": page,
        "any_active": bool(active.items),
        # Polling fallback: the list that matches what /api/events sends this user.
        "jobs_url": "/api/admin/jobs" if user.is_admin else "/api/jobs",
    }


def render_html(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(context)


def page_response(name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(render_html(name, context), status_code=status_code, headers=PAGE_HEADERS)
