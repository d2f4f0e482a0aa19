"""Chess.com: the monthly game archives of the Published-Data API, and the profile.

Pure core: the `build_*_request` functions and `month_of` (parsing is in `records`).
Thin I/O: `ChessComSource`, which lists the archive months and fetches each month from
a cursor month on, oldest first, with `If-None-Match` so an unchanged month costs a 304.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast
from urllib.parse import quote

import httpx
import orjson

from gamekeeper.connectors.base import GameOrError, Waiter
from gamekeeper.connectors.chesscom.records import (
    ChessComArchivesJson,
    ChessComProfile,
    parse_month,
    parse_profile,
)
from gamekeeper.connectors.gate.exchange import UpstreamGate
from gamekeeper.errors import MalformedRecord, SourceGone

#: ok: games sent; not_modified: 304, nothing new since `etag`; gone: 410, never ask again.
MonthStatus = Literal["ok", "not_modified", "gone"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthArchive:
    """One monthly archive as fetched."""

    #: "YYYY/MM".
    month: str
    status: MonthStatus
    #: The ETag to send next time (the one we sent, for a 304).
    etag: str | None = None
    last_modified: str | None = None
    games: tuple[GameOrError, ...] = ()
    #: How many game records the month holds (games + errors).
    total: int = 0


# -- pure core: requests ----------------------------------------------------------------

_ACCEPT: Final = {"Accept": "application/json"}


def _player_url(base_url: str, username: str) -> str:
    return f"{base_url.rstrip('/')}/pub/player/{quote(username.lower(), safe='')}"


def build_profile_request(base_url: str, username: str) -> httpx.Request:
    """`GET /pub/player/{username}`."""
    return httpx.Request("GET", _player_url(base_url, username), headers=_ACCEPT)


def build_archives_request(base_url: str, username: str) -> httpx.Request:
    """`GET /pub/player/{username}/games/archives`."""
    return httpx.Request(
        "GET", f"{_player_url(base_url, username)}/games/archives", headers=_ACCEPT
    )


def build_month_request(
    base_url: str, username: str, month: str, *, etag: str | None = None
) -> httpx.Request:
    """`GET /pub/player/{username}/games/{YYYY}/{MM}`, conditional on `etag` if given."""
    _check_month(month)
    headers = dict(_ACCEPT)
    if etag:
        headers["If-None-Match"] = etag
    return httpx.Request("GET", f"{_player_url(base_url, username)}/games/{month}", headers=headers)


_MONTH_RE: Final = re.compile(r"^(\d{4})/(0[1-9]|1[0-2])$")
_ARCHIVE_URL_RE: Final = re.compile(r"/games/(\d{4})/(\d{2})/?$")


def _check_month(month: str) -> None:
    if not _MONTH_RE.match(month):
        raise ValueError(f"a month is written YYYY/MM, not {month!r}")


def month_of(archive_url: str) -> str | None:
    """ "YYYY/MM" from an archive URL (`.../games/2009/10`), None if it is not one."""
    match = _ARCHIVE_URL_RE.search(archive_url)
    return f"{match[1]}/{match[2]}" if match else None


# -- thin I/O -----------------------------------------------------------------------------


class ChessComSource:
    """Profiles and monthly archives from Chess.com, through the host's gate."""

    def __init__(self, gate: UpstreamGate, base_url: str) -> None:
        self._gate = gate
        self._base_url = base_url.rstrip("/")

    async def profile(self, username: str, wait: Waiter | None = None) -> ChessComProfile:
        """The player's profile; `AccountNotFound` if there is no such player."""
        request = build_profile_request(self._base_url, username)
        return await self._gate.send_parsed(request, self._read_profile, wait=wait)

    def _read_profile(self, response: httpx.Response) -> ChessComProfile:
        try:
            return parse_profile(orjson.loads(response.content))
        except (orjson.JSONDecodeError, AttributeError) as exc:
            raise MalformedRecord(f"{self._gate.name} sent an unreadable profile") from exc

    async def archives(self, username: str, wait: Waiter | None = None) -> list[str]:
        """The months with games, as "YYYY/MM", oldest first."""
        request = build_archives_request(self._base_url, username)
        return await self._gate.send_parsed(request, self._read_archives, wait=wait)

    def _read_archives(self, response: httpx.Response) -> list[str]:
        try:
            urls = cast(ChessComArchivesJson, orjson.loads(response.content)).get("archives")
        except (orjson.JSONDecodeError, AttributeError) as exc:
            raise MalformedRecord(f"{self._gate.name} sent an unreadable archive list") from exc
        if not isinstance(urls, list):
            raise MalformedRecord(f"{self._gate.name} sent an archive list without archives")
        months = {month for url in urls if isinstance(url, str) and (month := month_of(url))}
        return sorted(months)

    async def fetch_month(
        self, username: str, month: str, *, etag: str | None = None, wait: Waiter | None = None
    ) -> MonthArchive:
        """One month; a 304 (unchanged since `etag`) and a 410 (gone) are statuses. A
        garbled archive (most likely cut short) is asked for again, then fails the month
        (`SourceUnavailable`) rather than record it as seen."""
        request = build_month_request(self._base_url, username, month, etag=etag)

        def read(response: httpx.Response) -> MonthArchive:
            if response.status_code == 304:
                return MonthArchive(
                    month=month,
                    status="not_modified",
                    etag=response.headers.get("ETag") or etag,
                    last_modified=response.headers.get("Last-Modified"),
                )
            games, total = parse_month(month, response.content)
            return MonthArchive(
                month=month,
                status="ok",
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                games=games,
                total=total,
            )

        try:
            return await self._gate.send_parsed(request, read, wait=wait)
        except SourceGone:
            return MonthArchive(month=month, status="gone")

    async def iter_months(
        self,
        username: str,
        *,
        from_month: str | None = None,
        etags: Mapping[str, str] | None = None,
        wait: Waiter | None = None,
    ) -> AsyncGenerator[MonthArchive, None]:
        """The months from `from_month` (inclusive) on, oldest first.

        Months before `from_month` are never requested. `etags` maps "YYYY/MM" to the
        ETag stored with that month; such a month is asked for conditionally.
        """
        if from_month is not None:
            _check_month(from_month)
        known = etags or {}
        for month in await self.archives(username, wait=wait):
            if from_month is not None and month < from_month:
                continue
            yield await self.fetch_month(username, month, etag=known.get(month), wait=wait)
