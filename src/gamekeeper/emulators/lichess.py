"""A Lichess server on loopback: the user-games export, games by ids, one game, profiles.

Faithful to the Lichess OpenAPI reference where gamekeeper depends on it: paths,
parameters and their defaults (`sort=dateDesc`, `clocks`/`evals`/`opening` off,
ongoing games left out unless `ongoing=true`), NDJSON for `Accept:
application/x-ndjson` and PGN otherwise, `since`/`until` inclusive, `max`, the perf,
rated, colour, opponent and analysed filters, at most 300 ids per `_ids` request,
`{"error": "Not found."}` with 404 for unknown users.
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gamekeeper.emulators.base import Emulator
from gamekeeper.emulators.faults import Faults
from gamekeeper.emulators.lichess_records import (
    Flags,
    LichessAccount,
    LichessCorpus,
    StoredGame,
    derive,
)
from gamekeeper.emulators.streaming import FaultyBody, NdjsonStream

NDJSON: Final = "application/x-ndjson"
PGN: Final = "application/x-chess-pgn"
MAX_IDS: Final = 300
_CORS: Final = {"Access-Control-Allow-Origin": "*"}
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


class BadRequest(Exception):
    """A parameter Lichess would refuse."""


def _flag(request: Request, name: str, default: bool) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadRequest(f"Invalid value for {name}: {value}")


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: {value}") from None


def _flags(request: Request) -> Flags:
    # The API's defaults: moves on; clocks, evals and opening off.
    return Flags(
        moves=_flag(request, "moves", True),
        clocks=_flag(request, "clocks", False),
        evals=_flag(request, "evals", False),
        opening=_flag(request, "opening", False),
    )


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "Not found."}, status_code=404, headers=_CORS)


def _wants_ndjson(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return NDJSON in accept or "application/json" in accept


class LichessEmulator(Emulator):
    """The Lichess emulator: `app` to serve, `corpus` to add games to, `faults`, `log`."""

    site = "lichess"

    def __init__(self, corpus: LichessCorpus, *, faults: Faults | None = None) -> None:
        self.corpus = corpus
        routes = [
            Route("/", self._index),
            Route("/api/games/user/{username}", self._user_games),
            Route("/api/games/export/_ids", self._games_by_ids, methods=["POST"]),
            Route("/game/export/{game_id}", self._one_game),
            Route("/api/user/{username}", self._user),
        ]
        super().__init__(Starlette(routes=routes), faults=faults)

    # -- routes ---------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        return JSONResponse(
            {
                "site": "lichess",
                "accounts": self.corpus.summary(),
                "endpoints": [
                    "GET /api/games/user/{username}",
                    "POST /api/games/export/_ids",
                    "GET /game/export/{gameId}",
                    "GET /api/user/{username}",
                ],
            }
        )

    async def _user_games(self, request: Request) -> Response:
        account = self.corpus.account(request.path_params["username"])
        if account is None:
            return _not_found()
        try:
            flags = _flags(request)
            indices = self._select(account, request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400, headers=_CORS)
        return self._games_response(
            request, len(indices), lambda i: account.line(indices[i], flags), flags
        )

    async def _games_by_ids(self, request: Request) -> Response:
        body = (await request.body()).decode(errors="replace")
        ids = [part.strip() for part in body.split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            return JSONResponse(
                {"error": f"Too many ids: {len(ids)}, expected up to {MAX_IDS}"},
                status_code=400,
                headers=_CORS,
            )
        try:
            flags = _flags(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400, headers=_CORS)
        # Most recent first, as the reference says.
        lines = list(self.corpus.find_many(ids, flags))[::-1]
        return self._games_response(request, len(lines), lines.__getitem__, flags)

    async def _one_game(self, request: Request) -> Response:
        line = self.corpus.find(request.path_params["game_id"])
        if line is None:
            return _not_found()
        try:
            flags = _flags(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400, headers=_CORS)
        line = derive(line, flags)
        if _wants_ndjson(request):
            return FaultyBody(line, faults=self.faults, headers=_CORS)
        return FaultyBody(
            render_pgn(orjson.loads(line), flags).encode(),
            faults=self.faults,
            headers=_CORS,
            media_type=PGN,
        )

    async def _user(self, request: Request) -> Response:
        account = self.corpus.account(request.path_params["username"])
        if account is None:
            return _not_found()
        return FaultyBody(orjson.dumps(profile(account)), faults=self.faults, headers=_CORS)

    # -- helpers --------------------------------------------------------------------

    def _games_response(
        self, request: Request, count: int, line_at: Callable[[int], bytes], flags: Flags
    ) -> Response:
        if _wants_ndjson(request):
            return NdjsonStream(
                count, line_at, faults=self.faults, closing=self.closing, headers=_CORS
            )

        def pgn_at(index: int) -> bytes:
            return render_pgn(orjson.loads(line_at(index)), flags).encode()

        return NdjsonStream(
            count, pgn_at, faults=self.faults, closing=self.closing, headers=_CORS, media_type=PGN
        )

    def _select(self, account: LichessAccount, request: Request) -> list[int]:
        """Indices of the account's games the export's parameters select, in order."""
        since, until, limit = _int(request, "since"), _int(request, "until"), _int(request, "max")
        sort = request.query_params.get("sort") or "dateDesc"
        if sort not in ("dateAsc", "dateDesc"):
            raise BadRequest(f"Invalid value for sort: {sort}")
        rated = request.query_params.get("rated")
        rated_only = None if rated in (None, "") else _flag(request, "rated", True)
        perfs = {p for p in (request.query_params.get("perfType") or "").split(",") if p}
        vs = (request.query_params.get("vs") or "").lower() or None
        color = request.query_params.get("color")
        analysed = request.query_params.get("analysed")
        analysed_only = None if analysed in (None, "") else _flag(request, "analysed", True)
        ongoing = _flag(request, "ongoing", False)
        finished = _flag(request, "finished", True)

        low = 0 if since is None else bisect.bisect_left(account.created, since)
        high = len(account.games) if until is None else bisect.bisect_right(account.created, until)

        def keep(game: StoredGame) -> bool:
            if game.ongoing and not ongoing:
                return False
            if not game.ongoing and not finished:
                return False
            if rated_only is not None and game.rated != rated_only:
                return False
            if perfs and game.perf not in perfs:
                return False
            if analysed_only is not None and game.analysed != analysed_only:
                return False
            mine = game.white if color != "black" else game.black
            if color in ("white", "black") and mine != account.id:
                return False
            return not (vs is not None and vs not in (game.white, game.black))

        games = account.games
        plain = ongoing and finished and rated_only is None and not perfs and not vs
        plain = plain and analysed_only is None and color not in ("white", "black")
        selected = (
            list(range(low, high)) if plain else [i for i in range(low, high) if keep(games[i])]
        )
        if sort == "dateDesc":
            selected.reverse()
        return selected if limit is None else selected[: max(0, limit)]


def profile(account: LichessAccount) -> dict[str, Any]:
    """The account's public data, as `GET /api/user/{username}` gives it."""
    count = collections.Counter[str]()
    perfs: dict[str, dict[str, Any]] = {}
    for game in account.games:
        count["all"] += 1
        if game.rated:
            count["rated"] += 1
            perf = perfs.setdefault(game.perf, {"games": 0, "rating": 1500, "rd": 60, "prog": 0})
            perf["games"] += 1
        if game.ai:
            count["ai"] += 1
        if game.imported:
            count["import"] += 1
        if game.ongoing:
            count["playing"] += 1
        if game.outcome is not None:
            count[game.outcome] += 1
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return {
        "id": account.id,
        "username": account.username,
        "perfs": perfs,
        **({"title": account.title} if account.title else {}),
        "createdAt": account.created_ms,
        "seenAt": account.created[-1] if account.created else now_ms,
        "playTime": {"total": 300 * count["all"], "tv": 0},
        "url": f"https://lichess.org/@/{account.username}",
        "count": {
            "all": count["all"],
            "rated": count["rated"],
            "ai": count["ai"],
            "draw": count["draw"],
            "drawH": count["draw"],
            "loss": count["loss"],
            "lossH": count["loss"],
            "win": count["win"],
            "winH": count["win"],
            "bookmark": 0,
            "playing": count["playing"],
            "import": count["import"],
            "me": 0,
        },
        "followable": True,
        "following": False,
        "blocking": False,
    }


_VARIANT_TAGS: Final = {
    "fromPosition": "From Position",
    "kingOfTheHill": "King of the Hill",
    "threeCheck": "Three-check",
    "racingKings": "Racing Kings",
}
_TERMINATION_TAG: Final = {
    "outoftime": "Time forfeit",
    "timeout": "Abandoned",
    "cheat": "Rules infraction",
    "started": "Unterminated",
    "created": "Unterminated",
}


def _clk(centis: int) -> str:
    seconds = centis // 100
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _pgn_result(record: dict[str, Any]) -> str:
    winner = record.get("winner")
    if winner == "white":
        return "1-0"
    if winner == "black":
        return "0-1"
    if record.get("status") in ("started", "created", "aborted", "noStart"):
        return "*"
    return "1/2-1/2"


def _pgn_tags(record: dict[str, Any], flags: Flags, result: str) -> list[tuple[str, str]]:
    players = record.get("players", {})

    def name(color: str) -> str:
        side = players.get(color, {})
        if "aiLevel" in side:
            return f"lichess AI level {side['aiLevel']}"
        return str(side.get("user", {}).get("name") or side.get("name") or "?")

    when = datetime.fromtimestamp(record.get("createdAt", 0) / 1000, UTC)
    clock = record.get("clock")
    rated = "Rated" if record.get("rated") else "Casual"
    tags = [
        ("Event", f"{rated} {record.get('speed', '')} game"),
        ("Site", f"https://lichess.org/{record['id']}"),
        ("Date", when.strftime("%Y.%m.%d")),
        ("White", name("white")),
        ("Black", name("black")),
        ("Result", result),
        ("UTCDate", when.strftime("%Y.%m.%d")),
        ("UTCTime", when.strftime("%H:%M:%S")),
    ]
    for color, tag in (("white", "White"), ("black", "Black")):
        side = players.get(color, {})
        if "rating" in side:
            tags.append((f"{tag}Elo", str(side["rating"])))
        if "ratingDiff" in side:
            tags.append((f"{tag}RatingDiff", f"{side['ratingDiff']:+d}"))
    variant = str(record.get("variant", "standard"))
    tags.append(("Variant", _VARIANT_TAGS.get(variant, variant.title())))
    tags.append(("TimeControl", f"{clock['initial']}+{clock['increment']}" if clock else "-"))
    opening = record.get("opening")
    if opening and flags.opening:
        tags += [("ECO", opening["eco"]), ("Opening", opening["name"])]
    tags.append(("Termination", _TERMINATION_TAG.get(str(record.get("status")), "Normal")))
    if "initialFen" in record:
        tags += [("FEN", record["initialFen"]), ("SetUp", "1")]
    return tags


def render_pgn(record: dict[str, Any], flags: Flags) -> str:
    """A Lichess game (JSON) as the PGN the export sends for `Accept: application/x-chess-pgn`."""
    result = _pgn_result(record)
    tags = _pgn_tags(record, flags, result)
    moves = str(record.get("moves", "")).split() if flags.moves else []
    if record.get("variant") == "crazyhouse":
        # Lichess's `P@e4` is `@e4` to python-chess and most PGN readers.
        moves = [san.removeprefix("P") if san.startswith("P@") else san for san in moves]
    clocks = record.get("clocks") if flags.clocks else None
    parts = []
    for ply, san in enumerate(moves):
        if ply % 2 == 0:
            parts.append(f"{ply // 2 + 1}.")
        elif clocks:
            parts.append(f"{ply // 2 + 1}...")
        parts.append(san)
        if clocks and ply < len(clocks):
            parts.append(f"{{ [%clk {_clk(clocks[ply])}] }}")
    parts.append(result)
    header = "\n".join(f'[{tag} "{value}"]' for tag, value in tags)
    return f"{header}\n\n{' '.join(parts)}\n\n"
