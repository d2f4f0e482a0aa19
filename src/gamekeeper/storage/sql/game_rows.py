"""A `Game` as a row and back: the hot path of every sync and import."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from gamekeeper.domain import games as domain
from gamekeeper.storage.base import StoredGame

if TYPE_CHECKING:  # a parse process imports this module: it has no use for SQLAlchemy
    import sqlalchemy as sa


def digest(game: domain.Game) -> str:
    """A hash of what the source sent: equal digests mean nothing changed."""
    return hashlib.blake2b(game.raw.encode(), digest_size=16).hexdigest()


def _eval_json(value: domain.Eval | None) -> int | str | None:
    """Compact: centipawns as a number, a mate as `"#-3"` (no dict per move to build)."""
    if value is None:
        return None
    return value.cp if value.mate is None else f"#{value.mate}"


def _eval_of(value: int | str | None) -> domain.Eval | None:
    if value is None:
        return None
    if isinstance(value, str):
        return domain.Eval(mate=int(value[1:]))
    return domain.Eval(cp=value)


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
DIGEST = ROW_COLUMNS.index("digest")


#: The columns after the game's own: the batch's job and time, filled by the upsert.
BATCH_COLUMNS = ("first_job_id", "last_job_id", "created_at", "updated_at")
#: Where `game_row` puts the game's key, whether it has moves, and its digest.
PLATFORM, GAME_ID, MOVES = (ROW_COLUMNS.index(c) for c in ("platform", "platform_game_id", "moves"))


def game_values(
    game: domain.Game, *, job_id: str | None, now: Any, sqlite: bool
) -> tuple[Any, ...]:
    """A game's row as the driver takes it, in `ROW_COLUMNS` order (`now` already
    driver-ready)."""
    return (*game_row(game, sqlite=sqlite), job_id, job_id, now, now)


def game_row(game: domain.Game, *, sqlite: bool) -> tuple[Any, ...]:
    """A game's own columns as the driver takes them: `ROW_COLUMNS` without
    `BATCH_COLUMNS`. Picklable and compact, so a parse process can make it.

    The hot path of every sync and import: values are prepared here (orjson for JSON,
    one string format for SQLite datetimes) instead of by SQLAlchemy's per-value bind
    processors, and no intermediate dict is built.
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
    )


def sqlite_time(value: datetime) -> str:
    """UtcDateTime's SQLite format: naive UTC, always with microseconds."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ", timespec="microseconds")[:26]


#: Columns an upsert refreshes; identity, first job and creation time stay.
def row_to_game(row: sa.RowMapping) -> StoredGame:
    def player(side: str) -> domain.Player:
        return domain.Player(
            name=row[f"{side}_name"],
            id=row[f"{side}_id"],
            rating=row[f"{side}_rating"],
            rating_diff=row[f"{side}_rating_diff"],
            title=row[f"{side}_title"],
            ai_level=row[f"{side}_ai_level"],
        )

    moves = row["moves"]
    evals = row["evals"]
    game = domain.Game(
        platform=domain.Platform(row["platform"]),
        platform_game_id=row["platform_game_id"],
        white=player("white"),
        black=player("black"),
        result=domain.Result(row["result"]),
        termination=domain.Termination(row["termination"]),
        winner=domain.Winner(row["winner"]) if row["winner"] else None,
        variant=row["variant"],
        speed=row["speed"],
        time_control=domain.TimeControl.parse(row["time_control"]),
        rated=row["rated"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        opening=(
            domain.Opening(eco=row["opening_eco"], name=row["opening_name"])
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
