"""Aggregate statements for the dashboard's charts, from the players' point of view.

"The players" are the (platform, player id) pairs of a user's accounts: their colour,
rating and outcome in each game are worked out in SQL, so only small grouped results
leave the database, however many games there are.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.storage.sql.schema import games
from gamekeeper.storage.sql.side_metrics import side_accuracy
from gamekeeper.storage.stats import AccuracyTally, MonthTally, OpeningTally, Players, RatingPoint


def _plays(players: Players, side: Literal["white", "black"]) -> sa.ColumnElement[bool]:
    """True where one of `players` had `side`."""
    column = games.c[f"{side}_id"]
    if not players:
        return sa.false()
    return sa.or_(
        *(sa.and_(games.c.platform == p.value, column == player_id) for p, player_id in players)
    )


def _of_players(players: Players) -> sa.ColumnElement[bool]:
    return sa.or_(_plays(players, "white"), _plays(players, "black"))


def _color(players: Players) -> sa.ColumnElement[str]:
    """The players' colour (white when they played both sides: two accounts met)."""
    return sa.case((_plays(players, "white"), sa.literal("white")), else_=sa.literal("black"))


def _outcome(players: Players) -> sa.ColumnElement[str]:
    """win, draw or loss for the players; `other` for unfinished and aborted games."""
    return sa.case(
        (games.c.result == "1/2-1/2", sa.literal("draw")),
        (games.c.winner == _color(players), sa.literal("win")),
        (games.c.winner.is_not(None), sa.literal("loss")),
        else_=sa.literal("other"),
    )


def _utc_text(dialect: sa.Dialect, column: Any, unit: Literal["day", "month"]) -> Any:
    """`YYYY-MM-DD` or `YYYY-MM` of a UTC timestamp: the one place the dialects differ here."""
    if dialect.name == "postgresql":
        pattern = "YYYY-MM-DD" if unit == "day" else "YYYY-MM"
        return sa.func.to_char(sa.func.timezone("UTC", column), pattern, type_=sa.String)
    # SQLite keeps UTC timestamps as naive ISO text, which strftime reads as is.
    return sa.func.strftime("%Y-%m-%d" if unit == "day" else "%Y-%m", column, type_=sa.String)


def rating_history(conn: sa.Connection, players: Players) -> list[RatingPoint]:
    """The players' average rating per day, site and speed, in rated standard games."""
    rating = sa.case((_plays(players, "white"), games.c.white_rating), else_=games.c.black_rating)
    # Grouping happens over a subquery's columns: PostgreSQL can't tell that two
    # expressions with bound parameters (the players, the date pattern) are the same.
    rows = (
        sa.select(
            _utc_text(conn.dialect, games.c.start_time, "day").label("day"),
            games.c.platform,
            games.c.speed,
            rating.label("rating"),
        )
        .where(
            _of_players(players),
            games.c.start_time.is_not(None),
            games.c.speed.is_not(None),
            games.c.variant == "standard",
            sa.or_(games.c.rated.is_(None), games.c.rated.is_(True)),
            rating.is_not(None),
        )
        .subquery()
    )
    stmt = (
        sa.select(
            rows.c.day,
            rows.c.platform,
            rows.c.speed,
            sa.func.avg(rows.c.rating).label("rating"),
            sa.func.count().label("games"),
        )
        .group_by(rows.c.day, rows.c.platform, rows.c.speed)
        .order_by(rows.c.day, rows.c.platform, rows.c.speed)
    )
    return [
        RatingPoint(
            day=row.day,
            platform=Platform(row.platform),
            speed=row.speed,
            rating=round(float(row.rating)),
            games=int(row.games),
        )
        for row in conn.execute(stmt)
    ]


def opening_results(conn: sa.Connection, players: Players) -> list[OpeningTally]:
    """Finished games per colour and opening, with the players' wins, draws and losses."""
    rows = (
        sa.select(
            _color(players).label("color"),
            games.c.opening_eco,
            games.c.opening_name,
            _outcome(players).label("outcome"),
        )
        .where(_of_players(players), games.c.result != "*")
        .subquery()
    )
    keys = (rows.c.color, rows.c.opening_eco, rows.c.opening_name, rows.c.outcome)
    stmt = sa.select(*keys, sa.func.count().label("n")).group_by(*keys)
    tallies: dict[tuple[str, str | None, str | None], dict[str, int]] = {}
    for row in conn.execute(stmt):
        tallies.setdefault((row.color, row.opening_eco, row.opening_name), {})[row.outcome] = int(
            row.n
        )
    return [
        OpeningTally(
            color=key[0],
            eco=key[1],
            name=key[2],
            wins=counts.get("win", 0),
            draws=counts.get("draw", 0),
            losses=counts.get("loss", 0),
        )
        for key, counts in tallies.items()
    ]


def games_by_month(conn: sa.Connection, players: Players) -> list[MonthTally]:
    """Games per UTC month of their start, by the players' outcome, oldest first."""
    rows = (
        sa.select(
            _utc_text(conn.dialect, games.c.start_time, "month").label("month"),
            _outcome(players).label("outcome"),
        )
        .where(_of_players(players), games.c.start_time.is_not(None))
        .subquery()
    )
    stmt = (
        sa.select(rows.c.month, rows.c.outcome, sa.func.count().label("n"))
        .group_by(rows.c.month, rows.c.outcome)
        .order_by(rows.c.month)
    )
    months: dict[str, dict[str, int]] = {}
    for row in conn.execute(stmt):
        months.setdefault(row.month, {})[row.outcome] = int(row.n)
    return [
        MonthTally(
            month=key,
            wins=counts.get("win", 0),
            draws=counts.get("draw", 0),
            losses=counts.get("loss", 0),
            other=counts.get("other", 0),
        )
        for key, counts in months.items()
    ]


def accuracy_tallies(conn: sa.Connection, players: Players) -> list[AccuracyTally]:
    """The players' accuracy (the newest `accuracy` row, their side) summed per UTC month
    of the start and speed; games without one are not counted."""
    rows = (
        sa.select(
            _utc_text(conn.dialect, games.c.start_time, "month").label("month"),
            games.c.speed,
            side_accuracy(conn, _plays(players, "white")).label("accuracy"),
        )
        .where(_of_players(players))
        .subquery()
    )
    # count() and sum() of a column skip its NULLs: no condition on the computed value.
    stmt = (
        sa.select(
            rows.c.month,
            rows.c.speed,
            sa.func.count(rows.c.accuracy).label("games"),
            sa.func.sum(rows.c.accuracy).label("total"),
        )
        .group_by(rows.c.month, rows.c.speed)
        .order_by(rows.c.month, rows.c.speed)
    )
    return [
        AccuracyTally(
            month=row.month, speed=row.speed, games=int(row.games), total=float(row.total)
        )
        for row in conn.execute(stmt)
        if row.games
    ]
