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
        elif (game.moves is None and state[1]) or (
            state[0] == row["digest"] and (state[1] or game.moves is None)
        ):
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
        evals=(
            None
            if evals is None
            else tuple(
                None if e is None else Eval(cp=e.get("cp"), mate=e.get("mate")) for e in evals
            )
        ),
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
