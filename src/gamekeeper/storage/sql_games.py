"""Every statement about games and cursors, and the mapping from `Game` to rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain.games import Eval, Game, Platform
from gamekeeper.storage.base import UpsertResult
from gamekeeper.storage.engine import upsert
from gamekeeper.storage.schema import cursors, games

#: Keys per `IN (...)` lookup; far below SQLite's variable limit.
LOOKUP_CHUNK = 500


def digest(game: Game) -> str:
    """A hash of what the source sent: equal digests mean nothing changed."""
    return hashlib.blake2b(game.raw.encode(), digest_size=16).hexdigest()


def _eval_json(value: Eval | None) -> Any:
    if value is None:
        return None
    return {"mate": value.mate} if value.mate is not None else {"cp": value.cp}


def game_to_row(game: Game, *, job_id: str | None, now: datetime) -> dict[str, Any]:
    white, black = game.white, game.black
    opening = game.opening
    return {
        "platform": game.platform.value,
        "platform_game_id": game.platform_game_id,
        "white_name": white.name,
        "white_id": white.id,
        "white_rating": white.rating,
        "white_rating_diff": white.rating_diff,
        "white_title": white.title,
        "white_ai_level": white.ai_level,
        "black_name": black.name,
        "black_id": black.id,
        "black_rating": black.rating,
        "black_rating_diff": black.rating_diff,
        "black_title": black.title,
        "black_ai_level": black.ai_level,
        "result": game.result.value,
        "termination": game.termination.value,
        "winner": game.winner.value if game.winner else None,
        "variant": game.variant,
        "speed": game.speed,
        "time_control": str(game.time_control) if game.time_control else None,
        "rated": game.rated,
        "start_time": game.start_time,
        "end_time": game.end_time,
        "opening_eco": opening.eco if opening else None,
        "opening_name": opening.name if opening else None,
        "moves": " ".join(game.moves) if game.moves is not None else None,
        "ply_count": len(game.moves) if game.moves is not None else None,
        "clocks": list(game.clocks) if game.clocks is not None else None,
        "evals": [_eval_json(e) for e in game.evals] if game.evals is not None else None,
        "initial_fen": game.initial_fen,
        "url": game.url,
        "raw": game.raw,
        "digest": digest(game),
        "first_job_id": job_id,
        "last_job_id": job_id,
        "created_at": now,
        "updated_at": now,
    }


def _keep_stored_when_incoming_lacks_moves(column: str) -> Any:
    """A metadata-only record never erases moves (or their raw record) fetched earlier."""

    def expr(excluded: Any) -> Any:
        return sa.case(
            (sa.and_(excluded.moves.is_(None), games.c.moves.is_not(None)), games.c[column]),
            else_=excluded[column],
        )

    return expr


#: Columns an upsert refreshes; identity, first job and creation time stay.
_UPDATE: dict[str, Any] = {
    name: (lambda excluded, name=name: excluded[name])
    for name in (c.name for c in games.columns)
    if name not in ("id", "platform", "platform_game_id", "first_job_id", "created_at")
}
_UPDATE.update(
    {
        name: _keep_stored_when_incoming_lacks_moves(name)
        for name in ("moves", "ply_count", "clocks", "evals", "raw", "digest")
    }
)


def upsert_games(conn: sa.Connection, batch: Sequence[Game], *, job_id: str | None) -> UpsertResult:
    """Insert new games, update changed ones, skip unchanged ones; count each."""
    now = datetime.now(UTC)
    latest: dict[tuple[Platform, str], Game] = {}
    for game in batch:  # the last record of a game in a batch wins
        latest[(game.platform, game.platform_game_id)] = game
    stored = _stored_state(conn, latest.keys())
    rows, inserted, updated, skipped = [], 0, 0, 0
    for key, game in latest.items():
        row = game_to_row(game, job_id=job_id, now=now)
        state = stored.get(key)
        if state is None:
            inserted += 1
        elif state[0] == row["digest"] or (game.moves is None and state[1]):
            skipped += 1
            continue
        else:
            updated += 1
        rows.append(row)
    if rows:
        stmt = upsert(games, conn.dialect, key=["platform", "platform_game_id"], update=_UPDATE)
        conn.execute(stmt, rows)
    return UpsertResult(inserted=inserted, updated=updated, skipped_existing=skipped)


def _stored_state(
    conn: sa.Connection, keys: Iterable[tuple[Platform, str]]
) -> dict[tuple[Platform, str], tuple[str, bool]]:
    """(digest, has moves) of the stored games among `keys`."""
    by_platform: dict[Platform, list[str]] = {}
    for platform, game_id in keys:
        by_platform.setdefault(platform, []).append(game_id)
    found: dict[tuple[Platform, str], tuple[str, bool]] = {}
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), LOOKUP_CHUNK):
            stmt = sa.select(
                games.c.platform_game_id, games.c.digest, games.c.moves.is_not(None)
            ).where(
                games.c.platform == platform.value,
                games.c.platform_game_id.in_(ids[start : start + LOOKUP_CHUNK]),
            )
            for game_id, game_digest, has_moves in conn.execute(stmt):
                found[(platform, game_id)] = (game_digest, bool(has_moves))
    return found


def existing_game_ids(conn: sa.Connection, platform: Platform, ids: Iterable[str]) -> set[str]:
    return {game_id for (_, game_id) in _stored_state(conn, ((platform, i) for i in ids))}


def get_cursor(conn: sa.Connection, account_id: int, stream: str) -> Any:
    stmt = sa.select(cursors.c.value).where(
        cursors.c.account_id == account_id, cursors.c.stream == stream
    )
    return conn.execute(stmt).scalar()


def set_cursor(conn: sa.Connection, account_id: int, stream: str, value: Any) -> None:
    stmt = upsert(
        cursors,
        conn.dialect,
        key=["account_id", "stream"],
        update={"value": lambda excluded: excluded.value, "updated_at": lambda e: e.updated_at},
    )
    conn.execute(
        stmt,
        {
            "account_id": account_id,
            "stream": stream,
            "value": value,
            "updated_at": datetime.now(UTC),
        },
    )


def _of_player(platform: Platform, player_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        games.c.platform == platform.value,
        sa.or_(games.c.white_id == player_id, games.c.black_id == player_id),
    )


def games_missing_moves(
    conn: sa.Connection, platform: Platform, player_id: str, limit: int
) -> list[str]:
    """Ids of a player's games without moves: newest `start_time` first, NULLs last, then id."""
    stmt = (
        sa.select(games.c.platform_game_id)
        .where(_of_player(platform, player_id), games.c.moves.is_(None))
        .order_by(games.c.start_time.desc().nulls_last(), games.c.id)
        .limit(limit)
    )
    return list(conn.execute(stmt).scalars())


def count_player_games(conn: sa.Connection, platform: Platform, player_id: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(games).where(_of_player(platform, player_id))
    return int(conn.execute(stmt).scalar_one())
