"""Every statement about games and cursors, and the mapping from `Game` to rows."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from gamekeeper.domain.games import (
    Eval,
    Game,
    Opening,
    Platform,
    Player,
    Result,
    Termination,
    TimeControl,
    Winner,
)
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import GamePage, GameQuery, StoredGame, UpsertResult
from gamekeeper.storage.engine import one_of, upsert
from gamekeeper.storage.schema import cursors, games

#: Keys per `IN (...)` lookup; far below SQLite's variable limit.
LOOKUP_CHUNK = 500


def digest(game: Game) -> str:
    """A hash of what the source sent: equal digests mean nothing changed."""
    return hashlib.blake2b(game.raw.encode(), digest_size=16).hexdigest()


def _eval_json(value: Eval | None) -> int | str | None:
    """Compact: centipawns as a number, a mate as `"#-3"` (no dict per move to build)."""
    if value is None:
        return None
    return value.cp if value.mate is None else f"#{value.mate}"


def _eval_of(value: int | str | None) -> Eval | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Eval(mate=int(value[1:]))
    return Eval(cp=value)


#: The columns a game row is written with, in the order `game_values` gives them.
ROW_COLUMNS = (
    "platform",
    "platform_game_id",
    "white_name",
    "white_id",
    "white_rating",
    "white_rating_diff",
    "white_title",
    "white_ai_level",
    "black_name",
    "black_id",
    "black_rating",
    "black_rating_diff",
    "black_title",
    "black_ai_level",
    "result",
    "termination",
    "winner",
    "variant",
    "speed",
    "time_control",
    "rated",
    "start_time",
    "end_time",
    "opening_eco",
    "opening_name",
    "moves",
    "ply_count",
    "clocks",
    "final_clock",
    "evals",
    "initial_fen",
    "url",
    "raw",
    "digest",
    "first_job_id",
    "last_job_id",
    "created_at",
    "updated_at",
)
_DIGEST = ROW_COLUMNS.index("digest")


def game_values(game: Game, *, job_id: str | None, now: Any, sqlite: bool) -> tuple[Any, ...]:
    """A game's row as the driver takes it, in `ROW_COLUMNS` order.

    The hot path of every sync and import: values are prepared here (orjson for JSON,
    one string format for SQLite datetimes) instead of by SQLAlchemy's per-value bind
    processors, and no intermediate dict is built. `now` is already driver-ready.
    """
    white, black, opening, moves = game.white, game.black, game.opening, game.moves
    clocks, evals = game.clocks, game.evals
    start: datetime | str | None = game.start_time
    end: datetime | str | None = game.end_time
    if sqlite:
        start = sqlite_time(game.start_time) if game.start_time is not None else None
        end = sqlite_time(game.end_time) if game.end_time is not None else None
    return (
        game.platform.value,
        game.platform_game_id,
        white.name,
        white.id,
        white.rating,
        white.rating_diff,
        white.title,
        white.ai_level,
        black.name,
        black.id,
        black.rating,
        black.rating_diff,
        black.title,
        black.ai_level,
        game.result.value,
        game.termination.value,
        game.winner.value if game.winner else None,
        game.variant,
        game.speed,
        str(game.time_control) if game.time_control else None,
        game.rated,
        start,
        end,
        opening.eco if opening else None,
        opening.name if opening else None,
        " ".join(moves) if moves is not None else None,
        len(moves) if moves is not None else None,
        orjson.dumps(clocks).decode() if clocks is not None else None,
        game.final_clock,
        orjson.dumps([_eval_json(e) for e in evals]).decode() if evals is not None else None,
        game.initial_fen,
        game.url,
        game.raw,
        digest(game),
        job_id,
        job_id,
        now,
        now,
    )


#: `games` without column types: rows for it are handed to the driver as they are.
#: The hot path of a sync prepares values itself (orjson for JSON, one string format for
#: SQLite datetimes), skipping SQLAlchemy's per-value bind processing.
_PLAIN = sa.table("games", *(sa.column(c.name) for c in games.columns))


def sqlite_time(value: datetime) -> str:
    """UtcDateTime's SQLite format: naive UTC, always with microseconds."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ", timespec="microseconds")[:26]


#: Columns an upsert refreshes; identity, first job and creation time stay.
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
    """Insert new games, update changed ones, skip unchanged ones; count each.

    One lookup of the batch's keys sorts the games, then one executemany upserts those
    to write (psycopg pipelines it; RETURNING would force a slower multi-VALUES form).
    """
    sqlite = conn.dialect.name == "sqlite"
    now: Any = datetime.now(UTC)
    if sqlite:
        now = sqlite_time(now)
    latest: dict[tuple[Platform, str], Game] = {}
    for game in batch:  # the last record of a game in a batch wins
        latest[(game.platform, game.platform_game_id)] = game
    stored = _stored_state(conn, latest.keys())
    rows, inserted, updated, skipped = [], 0, 0, 0
    for key, game in latest.items():
        row = game_values(game, job_id=job_id, now=now, sqlite=sqlite)
        state = stored.get(key)
        if state is None:
            inserted += 1
        elif (game.moves is None and state[1]) or (
            state[0] == row[_DIGEST] and (state[1] or game.moves is None)
        ):
            skipped += 1
            continue
        else:
            updated += 1
        rows.append(row)
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
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stmt = sa.select(
            games.c.platform, games.c.platform_game_id, games.c.digest, games.c.moves.is_not(None)
        ).where(one_of(games.c.platform_game_id, ids[start : start + LOOKUP_CHUNK], conn.dialect))
        for platform, game_id, game_digest, has_moves in conn.execute(stmt):
            key = (Platform(platform), game_id)
            if key in wanted:
                found[key] = (game_digest, bool(has_moves))
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
    conn: sa.Connection,
    platform: Platform,
    players: Sequence[str],
    limit: int,
    *,
    since: datetime | None = None,
) -> list[str]:
    """Ids of the players' games without moves (started at or after `since`): newest
    `start_time` first, NULLs last, then id."""
    if not players:
        return []
    stmt = (
        sa.select(games.c.platform_game_id)
        .where(sa.or_(*(_of_player(platform, p) for p in players)), games.c.moves.is_(None))
        .order_by(games.c.start_time.desc().nulls_last(), games.c.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(games.c.start_time >= since)
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
    ranges: Sequence[tuple[datetime | None, datetime | None]],
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


def row_to_game(row: sa.RowMapping) -> StoredGame:
    def player(side: str) -> Player:
        return Player(
            name=row[f"{side}_name"],
            id=row[f"{side}_id"],
            rating=row[f"{side}_rating"],
            rating_diff=row[f"{side}_rating_diff"],
            title=row[f"{side}_title"],
            ai_level=row[f"{side}_ai_level"],
        )

    moves = row["moves"]
    evals = row["evals"]
    game = Game(
        platform=Platform(row["platform"]),
        platform_game_id=row["platform_game_id"],
        white=player("white"),
        black=player("black"),
        result=Result(row["result"]),
        termination=Termination(row["termination"]),
        winner=Winner(row["winner"]) if row["winner"] else None,
        variant=row["variant"],
        speed=row["speed"],
        time_control=TimeControl.parse(row["time_control"]),
        rated=row["rated"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        opening=(
            Opening(eco=row["opening_eco"], name=row["opening_name"])
            if row["opening_eco"] or row["opening_name"]
            else None
        ),
        moves=None if moves is None else tuple(moves.split()),
        clocks=None if row["clocks"] is None else tuple(row["clocks"]),
        final_clock=row["final_clock"],
        evals=None if evals is None else tuple(_eval_of(e) for e in evals),
        initial_fen=row["initial_fen"],
        url=row["url"],
        raw=row["raw"],
    )
    return StoredGame(
        id=row["id"],
        game=game,
        first_job_id=row["first_job_id"],
        last_job_id=row["last_job_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


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
            where.append(games.c.opening_name.ilike(f"%{text}%"))
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
    return base64.urlsafe_b64encode(orjson.dumps([started, game.id])).decode().rstrip("=")


def _decode_game_cursor(cursor: str) -> tuple[datetime | None, int]:
    try:
        started, game_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return (datetime.fromisoformat(started) if started else None), int(game_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput(f"invalid cursor {cursor!r}") from None
