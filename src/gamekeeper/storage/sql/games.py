"""Writing games (the upsert), cursors, and what a sync asks about a player's games."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain.games import (
    Game,
    Platform,
)
from gamekeeper.storage.base import MissingMovesQuery, TimeRange, UpsertResult
from gamekeeper.storage.sql.engine import one_of, upsert
from gamekeeper.storage.sql.game_rows import (
    DIGEST,
    GAME_ID,
    MOVES,
    PLATFORM,
    ROW_COLUMNS,
    game_row,
    sqlite_time,
)
from gamekeeper.storage.sql.schema import cursors, games

#: Keys per `IN (...)` lookup; far below SQLite's variable limit.
LOOKUP_CHUNK = 500


#: `games` without column types: rows for it are handed to the driver as they are.
#: The hot path of a sync prepares values itself (orjson for JSON, one string format for
#: SQLite datetimes), skipping SQLAlchemy's per-value bind processing.
_PLAIN = sa.table("games", *(sa.column(c.name) for c in games.columns))


_UPDATE: dict[str, Any] = {
    name: (lambda excluded, name=name: excluded[name])
    for name in (c.name for c in games.columns)
    if name not in ("id", "platform", "platform_game_id", "first_job_id", "created_at")
}


def _worth_updating(excluded: Any) -> sa.ColumnElement[bool]:
    """Update a stored game only if the record changed, and never to erase its moves:
    a metadata-only record (no moves) leaves a game with moves as it is."""
    erases_moves = sa.and_(excluded.moves.is_(None), games.c.moves.is_not(None))
    unchanged = sa.and_(
        games.c.digest == excluded.digest,
        sa.or_(games.c.moves.is_not(None), excluded.moves.is_(None)),
    )
    return sa.not_(sa.or_(erases_moves, unchanged))


def upsert_games(conn: sa.Connection, batch: Sequence[Game], *, job_id: str | None) -> UpsertResult:
    """Insert new games, update changed ones, skip unchanged ones; count each."""
    sqlite = conn.dialect.name == "sqlite"
    return upsert_rows(conn, [game_row(g, sqlite=sqlite) for g in batch], job_id=job_id)


def upsert_rows(
    conn: sa.Connection, batch: Sequence[tuple[Any, ...]], *, job_id: str | None
) -> UpsertResult:
    """`upsert_games` of games already made rows by `game_row` (for this dialect).

    One lookup of the batch's keys sorts the games, then one executemany upserts those
    to write (psycopg pipelines it; RETURNING would force a slower multi-VALUES form).
    """
    now: Any = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = sqlite_time(now)
    latest: dict[tuple[Platform, str], tuple[Any, ...]] = {}
    for row in batch:  # the last record of a game in a batch wins
        latest[(Platform(row[PLATFORM]), row[GAME_ID])] = row
    stored = _stored_state(conn, latest.keys())
    rows, inserted, updated, skipped = [], 0, 0, 0
    tail = (job_id, job_id, now, now)
    for key, row in latest.items():
        state = stored.get(key)
        no_moves = row[MOVES] is None
        if state is None:
            inserted += 1
        elif (no_moves and state[1]) or (state[0] == row[DIGEST] and (state[1] or no_moves)):
            skipped += 1
            continue
        else:
            updated += 1
        rows.append(row + tail)
    if rows:
        conn.exec_driver_sql(_upsert_sql(conn.dialect), rows)
    return UpsertResult(inserted=inserted, updated=updated, skipped_existing=skipped)


#: The games upsert, compiled once per dialect with positional parameters in
#: `ROW_COLUMNS` order: the driver runs it straight, one executemany a batch.
_UPSERT_SQL: dict[str, str] = {}


def _upsert_sql(dialect: sa.Dialect) -> str:
    cached = _UPSERT_SQL.get(dialect.name)
    if cached is None:
        # psycopg takes `%s` too: compile for a positional style on both databases.
        style = "qmark" if dialect.name == "sqlite" else "format"
        positional: sa.Dialect = type(dialect)(paramstyle=style)  # type: ignore[call-arg]
        stmt = upsert(
            _PLAIN,
            positional,
            key=["platform", "platform_game_id"],
            update=_UPDATE,
            where=_worth_updating,  # the same rule again, for a writer racing us
        )
        compiled = stmt.compile(dialect=positional, column_keys=list(ROW_COLUMNS))
        assert tuple(compiled.positiontup or ()) == ROW_COLUMNS
        cached = _UPSERT_SQL[dialect.name] = str(compiled)
    return cached


def _stored_state(
    conn: sa.Connection, keys: Iterable[tuple[Platform, str]]
) -> dict[tuple[Platform, str], tuple[str, bool]]:
    """(digest, has moves) of the stored games among `keys`.

    Looked up by game id alone (the unique index's first column) and matched to the
    platform here: with `platform = ...` in the query, PostgreSQL without statistics
    (a fresh table during a first sync) picks a plan that scans the whole platform.
    """
    wanted = set(keys)
    ids = sorted({game_id for _, game_id in wanted})
    found: dict[tuple[Platform, str], tuple[str, bool]] = {}
    sqlite = conn.dialect.name == "sqlite"
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        if sqlite:
            # The hot path of an import: a plain statement, no expression built per id.
            rows: Iterable[Any] = conn.exec_driver_sql(_sqlite_lookup(len(chunk)), tuple(chunk))
        else:
            rows = conn.execute(
                sa.select(
                    games.c.platform,
                    games.c.platform_game_id,
                    games.c.digest,
                    games.c.moves.is_not(None),
                ).where(one_of(games.c.platform_game_id, chunk, conn.dialect))
            )
        for platform, game_id, game_digest, has_moves in rows:
            key = (Platform(platform), game_id)
            if key in wanted:
                found[key] = (game_digest, bool(has_moves))
    return found


@functools.lru_cache(maxsize=8)
def _sqlite_lookup(count: int) -> str:
    marks = ", ".join("?" * count)
    return (
        "SELECT platform, platform_game_id, digest, moves IS NOT NULL FROM games "
        f"WHERE platform_game_id IN ({marks})"
    )


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


def games_missing_moves(conn: sa.Connection, query: MissingMovesQuery) -> list[str]:
    """Ids of the players' games without moves: newest `start_time` first, NULLs last,
    then id."""
    if not query.players:
        return []
    of_players = sa.or_(*(_of_player(query.platform, p) for p in query.players))
    stmt = (
        sa.select(games.c.platform_game_id)
        .where(of_players, games.c.moves.is_(None))
        .order_by(games.c.start_time.desc().nulls_last(), games.c.id)
        .limit(query.limit)
    )
    if query.since is not None:
        stmt = stmt.where(games.c.start_time >= query.since)
    return list(conn.execute(stmt).scalars())


def count_missing_moves(conn: sa.Connection, platform: Platform, player_id: str) -> int:
    """How many of a player's games have no moves yet."""
    stmt = (
        sa.select(sa.func.count())
        .select_from(games)
        .where(_of_player(platform, player_id), games.c.moves.is_(None))
    )
    return int(conn.execute(stmt).scalar_one())


def count_player_games(conn: sa.Connection, platform: Platform, player_id: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(games).where(_of_player(platform, player_id))
    return int(conn.execute(stmt).scalar_one())


def player_game_ids_at(
    conn: sa.Connection, platform: Platform, player_id: str, times: Sequence[datetime]
) -> set[str]:
    """Ids of a player's games started exactly at one of `times`."""
    if not times:
        return set()
    stmt = sa.select(games.c.platform_game_id).where(
        _of_player(platform, player_id), games.c.start_time.in_(list(times))
    )
    return set(conn.execute(stmt).scalars())


def count_player_games_between(
    conn: sa.Connection,
    platform: Platform,
    player_id: str,
    ranges: Sequence[TimeRange],
) -> list[int]:
    """A player's games started in each inclusive range (None: open end), in one query."""
    if not ranges:
        return []
    sums = []
    for start, end in ranges:
        inside: list[sa.ColumnElement[bool]] = [games.c.start_time.is_not(None)]
        if start is not None:
            inside.append(games.c.start_time >= start)
        if end is not None:
            inside.append(games.c.start_time <= end)
        sums.append(sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*inside), 1), else_=0)), 0))
    stmt = sa.select(*sums).select_from(games).where(_of_player(platform, player_id))
    row = conn.execute(stmt).one()
    return [int(value) for value in row]
