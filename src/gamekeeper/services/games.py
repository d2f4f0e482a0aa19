"""Reading stored games as a user may see them: listing, one game, exports."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Protocol

import orjson

from gamekeeper.domain.games import Platform
from gamekeeper.domain.users import User
from gamekeeper.errors import GameNotFound, InvalidInput
from gamekeeper.storage.base import AccountStore, GamePage, GameQuery, GameStore, StoredGame

#: Games per database read while exporting: the response streams page by page.
EXPORT_PAGE = 500

EXPORT_FORMATS = ("pgn", "ndjson", "csv")

CSV_COLUMNS = [
    "id",
    "platform",
    "platform_game_id",
    "url",
    "start_time",
    "white",
    "white_rating",
    "black",
    "black_rating",
    "result",
    "termination",
    "variant",
    "speed",
    "time_control",
    "rated",
    "opening_eco",
    "opening_name",
    "plies",
]


class GameReadStore(GameStore, AccountStore, Protocol):
    """What reading games needs from storage."""


def game_summary(stored: StoredGame) -> dict[str, object]:
    """A game as plain data (the API's and NDJSON export's shape, without the raw record)."""
    g = stored.game
    return {
        "id": stored.id,
        "platform": g.platform.value,
        "platform_game_id": g.platform_game_id,
        "url": g.url,
        "white": dataclasses.asdict(g.white),
        "black": dataclasses.asdict(g.black),
        "result": g.result.value,
        "termination": g.termination.value,
        "winner": g.winner.value if g.winner else None,
        "variant": g.variant,
        "speed": g.speed,
        "time_control": str(g.time_control) if g.time_control else None,
        "rated": g.rated,
        "start_time": g.start_time.isoformat() if g.start_time else None,
        "end_time": g.end_time.isoformat() if g.end_time else None,
        "opening": dataclasses.asdict(g.opening) if g.opening else None,
        "plies": len(g.moves) if g.moves is not None else None,
        "has_moves": g.moves is not None,
        "initial_fen": g.initial_fen,
        "first_job_id": stored.first_job_id,
        "last_job_id": stored.last_job_id,
    }


def csv_row(stored: StoredGame) -> list[object]:
    g = stored.game
    return [
        stored.id,
        g.platform.value,
        g.platform_game_id,
        g.url or "",
        g.start_time.isoformat() if g.start_time else "",
        g.white.name or "",
        g.white.rating if g.white.rating is not None else "",
        g.black.name or "",
        g.black.rating if g.black.rating is not None else "",
        g.result.value,
        g.termination.value,
        g.variant,
        g.speed or "",
        str(g.time_control) if g.time_control else "",
        "" if g.rated is None else str(g.rated).lower(),
        g.opening.eco if g.opening and g.opening.eco else "",
        g.opening.name if g.opening and g.opening.name else "",
        len(g.moves) if g.moves is not None else "",
    ]


def _csv_line(values: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


class GameService:
    """Games a user may see: those of their accounts (an admin sees every game)."""

    def __init__(self, store: GameReadStore) -> None:
        self.store = store

    async def scope(
        self, user: User, account_id: int | None = None
    ) -> tuple[tuple[Platform, str], ...] | None:
        """The players whose games `user` may list (None: all, for an admin)."""
        if account_id is not None:
            account = await self.store.get_account(account_id)
            if account is None or (not user.is_admin and account.owner != user.name):
                raise GameNotFound(f"no account {account_id}")
            return ((account.platform, account.player_id),)
        if user.is_admin:
            return None
        accounts = await self.store.list_accounts(user.name)
        return tuple((a.platform, a.player_id) for a in accounts)

    async def list(
        self, user: User, query: GameQuery, *, account_id: int | None = None
    ) -> GamePage:
        if query.outcome is not None and query.outcome not in ("win", "loss", "draw"):
            raise InvalidInput("outcome must be win, loss or draw")
        if query.color is not None and query.color not in ("white", "black"):
            raise InvalidInput("color must be white or black")
        players = await self.scope(user, account_id)
        if players is None and (query.outcome in ("win", "loss") or query.color):
            raise InvalidInput("outcome and color need an account (account_id)")
        if players is None and query.needs_side:
            raise InvalidInput("accuracy and blunders need an account (account_id)")
        for low, high, name in (
            (query.min_accuracy, query.max_accuracy, "accuracy"),
            (query.min_blunders, query.max_blunders, "blunders"),
        ):
            if low is not None and high is not None and low > high:
                raise InvalidInput(f"min_{name} is above max_{name}")
        page = await self.store.list_games(dataclasses.replace(query, players=players))
        return dataclasses.replace(page, items=await self._redact(user, page.items))

    async def get(self, user: User, game_id: int) -> StoredGame:
        stored = await self.store.get_game(game_id)
        if stored is None or not await self._visible(user, stored):
            raise GameNotFound(f"no game {game_id}")
        return (await self._redact(user, (stored,)))[0]

    async def pgn(self, user: User, game_id: int) -> str:
        from gamekeeper.connectors.pgn.writer import game_to_pgn  # the reader comes with it

        return game_to_pgn((await self.get(user, game_id)).game)

    async def export(
        self, user: User, query: GameQuery, fmt: str, *, account_id: int | None = None
    ) -> AsyncIterator[str]:
        """The matching games in `fmt`, produced page by page as the reader consumes them."""
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput(f"unknown format {fmt!r}; use pgn, ndjson or csv")
        from gamekeeper.connectors.pgn.writer import game_to_pgn

        render: Callable[[StoredGame], str] = {
            "pgn": lambda s: game_to_pgn(s.game) + "\n",
            "ndjson": lambda s: orjson.dumps(game_summary(s)).decode() + "\n",
            "csv": lambda s: _csv_line(csv_row(s)),
        }[fmt]
        # Check access before the response starts: errors can't be sent mid-stream.
        first = await self.list(
            user, dataclasses.replace(query, limit=EXPORT_PAGE), account_id=account_id
        )
        return self._pages(user, query, first, render, fmt, account_id)

    async def _pages(
        self,
        user: User,
        query: GameQuery,
        page: GamePage,
        render: Callable[[StoredGame], str],
        fmt: str,
        account_id: int | None,
    ) -> AsyncIterator[str]:
        if fmt == "csv":
            yield _csv_line(CSV_COLUMNS)
        while True:
            yield "".join(render(s) for s in page.items)
            if page.next_cursor is None:
                return
            page = await self.list(
                user,
                dataclasses.replace(query, limit=EXPORT_PAGE, cursor=page.next_cursor),
                account_id=account_id,
            )

    async def _visible(self, user: User, stored: StoredGame) -> bool:
        players = await self.scope(user)
        if players is None:
            return True
        g = stored.game
        return (g.platform, g.white.id) in players or (g.platform, g.black.id) in players

    async def _redact(self, user: User, games: tuple[StoredGame, ...]) -> tuple[StoredGame, ...]:
        """Hide the ids of other users' sync jobs: a user sees only their own sync history."""
        if user.is_admin:
            return games
        ids = {i for s in games for i in (s.first_job_id, s.last_job_id) if i}
        owners = await self.store.job_owners(ids)

        def mine(job_id: str | None) -> str | None:
            return job_id if job_id and owners.get(job_id) == user.name else None

        return tuple(
            dataclasses.replace(
                s, first_job_id=mine(s.first_job_id), last_job_id=mine(s.last_job_id)
            )
            for s in games
        )
