"""Listing and counting stored games: the filters of the games browser and the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import GamePage, GameQuery, StoredGame
from gamekeeper.storage.sql.game_rows import row_to_game
from gamekeeper.storage.sql.pages import after_key, decode_page_cursor, encode_page_cursor
from gamekeeper.storage.sql.schema import games
from gamekeeper.storage.sql.side_metrics import side_accuracy, side_blunders

#: The listing's sorts by a value of our side's: (value, descending).
SIDE_SORTS = {
    "accuracy": ("accuracy", False),
    "-accuracy": ("accuracy", True),
    "blunders": ("blunders", False),
    "-blunders": ("blunders", True),
}


def get_game(conn: sa.Connection, game_id: int) -> StoredGame | None:
    row = conn.execute(games.select().where(games.c.id == game_id)).mappings().first()
    return row_to_game(row) if row else None


def _players_side(players: tuple[tuple[Platform, str], ...], side: str) -> sa.ColumnElement[bool]:
    column = games.c[f"{side}_id"]
    if not players:
        return sa.false()
    return sa.or_(
        *(sa.and_(games.c.platform == p.value, column == player_id) for p, player_id in players)
    )


def _game_filters(query: GameQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    players = query.players
    as_white = as_black = None
    if players is not None:
        as_white, as_black = _players_side(players, "white"), _players_side(players, "black")
        if query.color == "white":
            where.append(as_white)
        elif query.color == "black":
            where.append(as_black)
        else:
            where.append(sa.or_(as_white, as_black))
        if query.outcome == "win":
            where.append(
                sa.or_(
                    sa.and_(as_white, games.c.winner == "white"),
                    sa.and_(as_black, games.c.winner == "black"),
                )
            )
        elif query.outcome == "loss":
            where.append(
                sa.or_(
                    sa.and_(as_white, games.c.winner == "black"),
                    sa.and_(as_black, games.c.winner == "white"),
                )
            )
    if query.outcome == "draw":
        where.append(games.c.result == "1/2-1/2")
    if query.platform is not None:
        where.append(games.c.platform == query.platform.value)
    if query.speed is not None:
        where.append(games.c.speed == query.speed)
    if query.result is not None:
        where.append(games.c.result == query.result)
    if query.opening:
        text = query.opening.strip()
        if len(text) <= 3 and text[:1].isalpha() and text[1:].isdigit():
            where.append(games.c.opening_eco.startswith(text.upper()))
        else:
            # `%` and `_` are what they are, not LIKE's wildcards.
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(games.c.opening_name.ilike(f"%{escaped}%", escape="\\"))
    if query.start_from is not None:
        where.append(games.c.start_time >= query.start_from)
    if query.start_to is not None:
        where.append(games.c.start_time < query.start_to)
    if query.rated is not None:
        where.append(games.c.rated.is_(query.rated))
    if query.has_moves is not None:
        where.append(games.c.moves.is_not(None) if query.has_moves else games.c.moves.is_(None))
    return where


def list_games(conn: sa.Connection, query: GameQuery) -> GamePage:
    """Games matching `query`, newest first (no start time last), `limit` at a time."""
    if query.needs_side:
        return _list_by_side(conn, query)
    stmt = games.select().where(*_game_filters(query))
    if query.cursor:
        started, last_id = _decode_game_cursor(query.cursor)
        if started is None:
            stmt = stmt.where(games.c.start_time.is_(None), games.c.id < last_id)
        else:
            stmt = stmt.where(
                sa.or_(
                    games.c.start_time < started,
                    sa.and_(games.c.start_time == started, games.c.id < last_id),
                    games.c.start_time.is_(None),
                )
            )
    stmt = stmt.order_by(games.c.start_time.desc().nulls_last(), games.c.id.desc())
    rows = [row_to_game(r) for r in conn.execute(stmt.limit(query.limit + 1)).mappings()]
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = _encode_game_cursor(page[-1]) if more and page else None
    return GamePage(items=tuple(page), next_cursor=next_cursor)


def _ours_white(query: GameQuery) -> sa.ColumnElement[bool]:
    """Whether our side (the one `players` had, or `color`) is White in a game."""
    if query.players is None:
        raise InvalidInput("accuracy and blunders need an account (account_id)")
    if query.color in ("white", "black"):
        return sa.true() if query.color == "white" else sa.false()
    return _players_side(query.players, "white")


def _by_side(conn: sa.Connection, query: GameQuery) -> tuple[sa.Subquery, list[Any]]:
    """The filtered games with our side's values (`side_accuracy`, `side_blunders`, only
    those the query uses), and the conditions on them."""
    if query.sort is not None and query.sort not in SIDE_SORTS:
        raise InvalidInput(f"unknown sort {query.sort!r}; use one of {', '.join(SIDE_SORTS)}")
    sort = SIDE_SORTS[query.sort][0] if query.sort else None
    ours_white = _ours_white(query)
    columns: list[Any] = [games]
    if sort == "accuracy" or query.min_accuracy is not None or query.max_accuracy is not None:
        columns.append(side_accuracy(conn, ours_white).label("side_accuracy"))
    if sort == "blunders" or query.min_blunders is not None or query.max_blunders is not None:
        columns.append(side_blunders(conn, ours_white).label("side_blunders"))
    # OFFSET 0 keeps the subquery whole: SQLite 3.40 flattens it (or pushes the outer
    # WHERE into it) and then gets `value > x OR value IS NULL` wrong over the
    # correlated subqueries, leaving rows out of the next page.
    listed = sa.select(*columns).where(*_game_filters(query)).offset(0).subquery("listed")
    where = []
    for name, low, high in (
        ("side_accuracy", query.min_accuracy, query.max_accuracy),
        ("side_blunders", query.min_blunders, query.max_blunders),
    ):
        if low is not None:
            where.append(listed.c[name] >= low)
        if high is not None:
            where.append(listed.c[name] <= high)
    return listed, where


def _list_by_side(conn: sa.Connection, query: GameQuery) -> GamePage:
    listed, where = _by_side(conn, query)
    keys: list[tuple[sa.ColumnElement[Any], bool]] = []
    if query.sort:
        value, descending = SIDE_SORTS[query.sort]
        keys.append((listed.c[f"side_{value}"], descending))
    keys += [(listed.c.start_time, True), (listed.c.id, True)]
    stmt = sa.select(listed).where(*where)
    if query.cursor:
        stmt = stmt.where(after_key(keys, _decode_side_cursor(query.cursor, query.sort)))
    stmt = stmt.order_by(
        *(c.desc().nulls_last() if desc else c.asc().nulls_last() for c, desc in keys)
    )
    rows = list(conn.execute(stmt.limit(query.limit + 1)).mappings())
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = None
    if more and page:
        last = page[-1]
        started = last["start_time"].isoformat() if last["start_time"] else None
        values = [last[c.name] for c, _ in keys[:-2]]
        next_cursor = encode_page_cursor(query.sort or "date", *values, started, last["id"])
    return GamePage(items=tuple(row_to_game(r) for r in page), next_cursor=next_cursor)


def count_games(conn: sa.Connection, query: GameQuery) -> int:
    if query.needs_side:
        listed, where = _by_side(conn, query)
        stmt = sa.select(sa.func.count()).select_from(listed).where(*where)
        return int(conn.execute(stmt).scalar_one())
    stmt = sa.select(sa.func.count()).select_from(games).where(*_game_filters(query))
    return int(conn.execute(stmt).scalar_one())


def _encode_game_cursor(game: StoredGame) -> str:
    started = game.game.start_time.isoformat() if game.game.start_time else None
    return encode_page_cursor(started, game.id)


def _decode_game_cursor(cursor: str) -> tuple[datetime | None, int]:
    started, game_id = decode_page_cursor(cursor, 2)
    try:
        return (datetime.fromisoformat(started) if started else None), int(game_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"invalid cursor {cursor!r}") from None


def _decode_side_cursor(cursor: str, sort: str | None) -> list[Any]:
    """(value if sorted by one, start time, id) of a cursor of the same sort."""
    size = 4 if sort else 3
    name, *key = decode_page_cursor(cursor, size)
    value, started, game_id = key if sort else [None, *key]
    number = (int, float) if sort in ("accuracy", "-accuracy") else (int,)
    if (
        name != (sort or "date")
        or not (value is None or (isinstance(value, number) and not isinstance(value, bool)))
        or not (started is None or isinstance(started, str))
        or not isinstance(game_id, int)
        or isinstance(game_id, bool)
    ):
        raise InvalidInput(f"invalid cursor {cursor!r}")
    try:
        start = datetime.fromisoformat(started) if started else None
    except ValueError:
        raise InvalidInput(f"invalid cursor {cursor!r}") from None
    return [value, start, game_id] if sort else [start, game_id]
