"""Listing and counting stored games: the filters of the games browser and the API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import GamePage, GameQuery, StoredGame
from gamekeeper.storage.sql.game_rows import row_to_game
from gamekeeper.storage.sql.pages import decode_page_cursor, encode_page_cursor
from gamekeeper.storage.sql.schema import games


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


def count_games(conn: sa.Connection, query: GameQuery) -> int:
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
