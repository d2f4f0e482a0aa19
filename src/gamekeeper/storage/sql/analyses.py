"""The `analyses` rows, the games pending them (an anti-join) and `position_evals`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.storage.analyses import AnalysisRow, PendingQuery, StoredAnalysis
from gamekeeper.storage.base import StoredGame
from gamekeeper.storage.sql.engine import insert_ignoring, one_of, upsert
from gamekeeper.storage.sql.game_rows import row_to_game
from gamekeeper.storage.sql.schema import analyses, games, position_evals

#: Positions per `IN (...)` lookup or insert: far below SQLite's variable limit.
EVAL_CHUNK = 500


def _lacks_a_plugin(query: PendingQuery) -> sa.ColumnElement[bool]:
    """The anti-join: no row for at least one requested (plugin, version)."""
    missing = []
    for plugin, version in query.plugins:
        row = sa.select(analyses.c.id).where(
            analyses.c.game_id == games.c.id,
            analyses.c.plugin == plugin,
            analyses.c.plugin_version == version,
        )
        if query.job_id is not None:
            row = row.where(analyses.c.job_id == query.job_id)
        missing.append(~row.exists())
    return sa.or_(*missing) if missing else sa.false()


def _pending_filters(query: PendingQuery) -> list[sa.ColumnElement[bool]]:
    where = [games.c.moves.is_not(None), _lacks_a_plugin(query)]
    if query.game_ids is not None:
        where.append(games.c.id.in_(list(query.game_ids)))
    if query.players is not None:
        where.append(
            sa.or_(
                sa.false(),
                *(
                    sa.and_(
                        games.c.platform == platform.value,
                        sa.or_(games.c.white_id == player, games.c.black_id == player),
                    )
                    for platform, player in query.players
                ),
            )
        )
    if query.job_id is not None:
        where.append(games.c.last_job_id == query.job_id)
    return where


def _after(started: datetime | None, last_id: int) -> sa.ColumnElement[bool]:
    """Games after (start, id) in the order start time desc, NULLs last, id desc."""
    if started is None:
        return sa.and_(games.c.start_time.is_(None), games.c.id < last_id)
    return sa.or_(
        games.c.start_time < started,
        sa.and_(games.c.start_time == started, games.c.id < last_id),
        games.c.start_time.is_(None),
    )


def _continuing(query: PendingQuery) -> list[sa.ColumnElement[bool]]:
    """The games after `query.after` in the query's order."""
    if query.after is None:
        return []
    if query.job_id is not None:
        return [games.c.id < query.after[1]]
    return [_after(*query.after)]


def _order(query: PendingQuery) -> list[sa.UnaryExpression[Any]]:
    """Newest first; a job's own games by id (a range of `ix_games_last_job`, so each
    batch costs its own size, not the job's whole history)."""
    if query.job_id is not None:
        return [games.c.id.desc()]
    return [games.c.start_time.desc().nulls_last(), games.c.id.desc()]


def pending_games(conn: sa.Connection, query: PendingQuery) -> list[StoredGame]:
    stmt = games.select().where(*_pending_filters(query), *_continuing(query))
    stmt = stmt.order_by(*_order(query)).limit(query.limit)
    return [row_to_game(r) for r in conn.execute(stmt).mappings()]


def count_pending(conn: sa.Connection, query: PendingQuery) -> int:
    where = [*_pending_filters(query), *_continuing(query)]
    stmt = sa.select(sa.func.count()).select_from(games).where(*where)
    return int(conn.execute(stmt).scalar_one())


def put_analyses(conn: sa.Connection, rows: Sequence[AnalysisRow], *, job_id: str | None) -> int:
    if not rows:
        return 0
    now = datetime.now(UTC)
    stmt = upsert(
        analyses,
        conn.dialect,
        key=["game_id", "plugin", "plugin_version"],
        update={
            "value": lambda excluded: excluded.value,
            "job_id": lambda excluded: excluded.job_id,
            "created_at": lambda excluded: excluded.created_at,
        },
    )
    values = [
        {
            "game_id": r.game_id,
            "plugin": r.plugin,
            "plugin_version": r.plugin_version,
            "value": r.value,
            "job_id": job_id,
            "created_at": now,
        }
        for r in rows
    ]
    conn.execute(stmt, values)
    return len(values)


def version_order(version: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key of a plugin version, part by part: numbers as numbers (`10` after `9`)."""
    return tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in version.split("."))


def newest_analyses(conn: sa.Connection, game_id: int) -> dict[str, StoredAnalysis]:
    """The game's row of each plugin with the newest `plugin_version` (`version_order`):
    the one rule every read of analyses follows (the API, the game page, the PGN)."""
    newest: dict[str, StoredAnalysis] = {}
    for row in conn.execute(analyses.select().where(analyses.c.game_id == game_id)).mappings():
        found = StoredAnalysis(
            plugin=row["plugin"],
            plugin_version=row["plugin_version"],
            value=row["value"],
            job_id=row["job_id"],
            created_at=row["created_at"],
        )
        kept = newest.get(found.plugin)
        if kept is None or version_order(found.plugin_version) > version_order(kept.plugin_version):
            newest[found.plugin] = found
    return newest


def game_analyses(conn: sa.Connection, game_id: int) -> list[StoredAnalysis]:
    return sorted(newest_analyses(conn, game_id).values(), key=lambda a: a.plugin)


def get_position_evals(
    conn: sa.Connection, positions: Sequence[str], engine_key: str
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    unique = list(dict.fromkeys(positions))
    for first in range(0, len(unique), EVAL_CHUNK):
        chunk = unique[first : first + EVAL_CHUNK]
        stmt = sa.select(position_evals.c.position, position_evals.c.value).where(
            position_evals.c.engine_key == engine_key,
            one_of(position_evals.c.position, chunk, conn.dialect),
        )
        found.update({row.position: row.value for row in conn.execute(stmt)})
    return found


def put_position_evals(conn: sa.Connection, values: Mapping[str, Any], engine_key: str) -> None:
    now = datetime.now(UTC)
    items = list(values.items())
    stmt = insert_ignoring(position_evals, conn.dialect, key=["position", "engine_key"])
    for first in range(0, len(items), EVAL_CHUNK):
        rows = [
            {"position": p, "engine_key": engine_key, "value": v, "created_at": now}
            for p, v in items[first : first + EVAL_CHUNK]
        ]
        conn.execute(stmt, rows)
