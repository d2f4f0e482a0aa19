"""A Chess.com PubAPI server on loopback: profiles, archive lists and monthly archives.

Faithful to the PubAPI documentation where gamekeeper depends on it: the URL
patterns, `{"archives": [...]}` in ascending order, monthly archives as
`{"games": [...]}` in game-end order, `ETag` and `Last-Modified` on every archive with
304 for a matching `If-None-Match` (or a not-older `If-Modified-Since`), 404 for an
unknown player, 410 for data that will never come back, and 301 to a player's new
name. Renamed players and gone months are knobs: `renames`, `gone_months`.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from typing import Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gamekeeper.emulators.base import Emulator
from gamekeeper.emulators.chesscom_records import ChessComAccount, ChessComCorpus, MonthBody
from gamekeeper.emulators.faults import Faults
from gamekeeper.emulators.streaming import FaultyBody

_HEADERS: Final = {"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=43200"}
_YEAR: Final = re.compile(r"^\d{4}$")
_MONTH: Final = re.compile(r"^(0[1-9]|1[0-2])$")
_EMPTY_MONTH: Final = MonthBody(
    body=b'{"games":[]}',
    etag='"empty"',
    last_modified="Thu, 01 Jan 2015 00:00:00 GMT",
    last_modified_at=datetime(2015, 1, 1, tzinfo=UTC),
)


def _not_found(what: str) -> JSONResponse:
    return JSONResponse(
        {"code": 0, "message": f"{what} not found."}, status_code=404, headers=_HEADERS
    )


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as HTTP caches do it for If-None-Match."""
    wanted = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted
        for tag in if_none_match.split(",")
    )


def _not_modified_since(if_modified_since: str, when: datetime) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return when.replace(microsecond=0) <= since


class ChessComEmulator(Emulator):
    """The Chess.com emulator: `app` to serve, `corpus`, `faults`, `log`, plus
    `renames` (old username → new: 301) and `gone_months` ((username, "YYYY/MM"): 410)."""

    site = "chesscom"

    def __init__(self, corpus: ChessComCorpus, *, faults: Faults | None = None) -> None:
        self.corpus = corpus
        self.renames: dict[str, str] = {}
        self.gone_months: set[tuple[str, str]] = set()
        routes = [
            Route("/", self._index),
            Route("/pub/player/{username}", self._profile),
            Route("/pub/player/{username}/games/archives", self._archives),
            Route("/pub/player/{username}/games/{year}/{month}", self._month),
        ]
        super().__init__(Starlette(routes=routes), faults=faults)

    def rename(self, old: str, new: str) -> None:
        """`old` now answers 301 to the same URL under `new`."""
        self.renames[old.lower()] = new.lower()

    def reset(self) -> None:
        super().reset()
        self.renames.clear()
        self.gone_months.clear()

    # -- routes ---------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        return JSONResponse(
            {
                "site": "chesscom",
                "accounts": self.corpus.summary(),
                "endpoints": [
                    "GET /pub/player/{username}",
                    "GET /pub/player/{username}/games/archives",
                    "GET /pub/player/{username}/games/{YYYY}/{MM}",
                ],
            }
        )

    def _lookup(self, request: Request) -> ChessComAccount | Response:
        username = str(request.path_params["username"]).lower()
        new = self.renames.get(username)
        if new is not None:
            path = request.url.path.replace(
                f"/pub/player/{request.path_params['username']}", f"/pub/player/{new}", 1
            )
            return RedirectResponse(str(request.url.replace(path=path)), status_code=301)
        account = self.corpus.account(username)
        if account is None:
            return _not_found(f'User "{username}"')
        return account

    async def _profile(self, request: Request) -> Response:
        found = self._lookup(request)
        if isinstance(found, Response):
            return found
        base = str(request.base_url).rstrip("/")
        document = {
            "@id": f"{base}/pub/player/{found.id}",
            "url": f"https://www.chess.com/member/{found.username}",
            "username": found.id,
            "player_id": found.player_id,
            "status": "premium" if found.player_id % 3 == 0 else "basic",
            "country": f"{base}/pub/country/US",
            "joined": found.joined,
            "last_online": found.joined + 86_400 * 30,
            "followers": found.player_id % 200,
            "is_streamer": False,
            "verified": False,
        }
        return FaultyBody(orjson.dumps(document), faults=self.faults, headers=_HEADERS)

    async def _archives(self, request: Request) -> Response:
        found = self._lookup(request)
        if isinstance(found, Response):
            return found
        base = str(request.base_url).rstrip("/")
        urls = [f"{base}/pub/player/{found.id}/games/{month}" for month in sorted(found.months)]
        return FaultyBody(orjson.dumps({"archives": urls}), faults=self.faults, headers=_HEADERS)

    async def _month(self, request: Request) -> Response:
        year, month = request.path_params["year"], request.path_params["month"]
        if not _YEAR.match(year) or not _MONTH.match(month):
            return _not_found("Date")
        found = self._lookup(request)
        if isinstance(found, Response):
            return found
        key = f"{year}/{month}"
        if (found.id, key) in self.gone_months:
            return JSONResponse(
                {"code": 0, "message": "This data is no longer available."},
                status_code=410,
                headers=_HEADERS,
            )
        archive = found.month_body(key) or _EMPTY_MONTH
        headers = {**_HEADERS, "ETag": archive.etag, "Last-Modified": archive.last_modified}
        if_none_match = request.headers.get("if-none-match")
        if_modified_since = request.headers.get("if-modified-since")
        if if_none_match is not None:
            unchanged = _matches(if_none_match, archive.etag)
        else:
            unchanged = if_modified_since is not None and _not_modified_since(
                if_modified_since, archive.last_modified_at
            )
        if unchanged:
            return Response(status_code=304, headers=headers)
        return FaultyBody(archive.body, faults=self.faults, headers=headers)
