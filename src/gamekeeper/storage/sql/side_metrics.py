"""A side's accuracy and blunders as SQL expressions over a game's newest `analyses` rows.

The games listing filters and sorts by them (docs/analysis.md, "Listing by accuracy and
blunders"): `accuracy` is the `accuracy` plugin's value for the side, `blunders` the
number of that side's moves the `judgments` plugin marked `blunder`. Each reads the row
of its plugin with the newest `plugin_version` (`analyses.version_order`, as the game
page does); a game without that row has NULL. Values that are not of the contract's
shape read as NULL (or are not counted), never a database error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gamekeeper.storage.sql.analyses import version_order
from gamekeeper.storage.sql.schema import analyses, games


def _version_rank(conn: sa.Connection, plugin: str) -> sa.ColumnElement[int]:
    """The rank of a row's `plugin_version` among the stored ones (higher: newer)."""
    stmt = sa.select(analyses.c.plugin_version).where(analyses.c.plugin == plugin).distinct()
    versions = sorted((v for (v,) in conn.execute(stmt)), key=version_order)
    if len(versions) < 2:
        return sa.literal(0)
    return sa.case(
        {version: rank for rank, version in enumerate(versions)},
        value=analyses.c.plugin_version,
        else_=-1,
    )


def _newest(
    conn: sa.Connection, plugin: str, value: sa.ColumnElement[object]
) -> sa.ScalarSelect[Any]:
    """`value` computed on the game's newest row of `plugin` (NULL without one)."""
    return (
        sa.select(value)
        .where(analyses.c.game_id == games.c.id, analyses.c.plugin == plugin)
        .order_by(_version_rank(conn, plugin).desc())
        .limit(1)
        .scalar_subquery()
    )


def _number(conn: sa.Connection, key: str) -> sa.ColumnElement[float]:
    """The `accuracy` value's number at `key`, in [0, 100] (else NULL: absent, not a
    number, or out of range)."""
    if conn.dialect.name == "postgresql":
        text = analyses.c.value[key].as_string()
        # Nested, not AND: PostgreSQL may evaluate an AND's casts in any order.
        in_range = sa.case(
            (sa.cast(text, sa.Numeric).between(0, 100), sa.cast(text, sa.Float)), else_=sa.null()
        )
        return sa.case(
            (sa.func.jsonb_typeof(analyses.c.value[key]) == "number", in_range), else_=sa.null()
        )
    path = f"$.{key}"
    number = sa.func.json_extract(analyses.c.value, path)
    return sa.case(
        (
            sa.and_(
                sa.func.json_type(analyses.c.value, path).in_(["real", "integer"]),
                number.between(0, 100),
            ),
            number,
        ),
        else_=sa.null(),
    )


def side_accuracy(conn: sa.Connection, ours_white: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """Our side's accuracy: White's when `ours_white`, else Black's."""
    value = sa.case((ours_white, _number(conn, "white")), else_=_number(conn, "black"))
    return _newest(conn, "accuracy", value)


def _white_first(conn: sa.Connection) -> sa.ColumnElement[bool]:
    """White makes the first move: no start FEN, or its second field is not `b`."""
    fen = games.c.initial_fen
    find = sa.func.strpos if conn.dialect.name == "postgresql" else sa.func.instr
    space = find(fen, " ")
    return sa.or_(
        fen.is_(None),
        space == 0,
        sa.func.substr(fen, space + 1, 2).not_in(["b ", "b"]),
    )


def side_blunders(conn: sa.Connection, ours_white: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """How many of our side's moves the newest `judgments` row marks as blunders.

    Entries are plies in order (the n-th entry is ply n), so ours are the odd plies when
    we made the first move of the game, else the even ones.
    """
    white_first = _white_first(conn)
    first = sa.or_(sa.and_(ours_white, white_first), sa.and_(~ours_white, ~white_first))
    parity = sa.case((first, 1), else_=0)
    if conn.dialect.name == "postgresql":
        moves = analyses.c.value["moves"]
        array = sa.case(
            (sa.func.jsonb_typeof(moves) == "array", moves),
            else_=sa.cast(sa.literal("[]"), analyses.c.value.type),
        )
        entries = (
            sa.func.jsonb_array_elements(array)
            .table_valued(sa.column("value"), with_ordinality="ply")
            .render_derived()
        )
        count = (
            sa.select(sa.func.count())
            .select_from(entries)
            .where(
                sa.func.jsonb_extract_path_text(entries.c.value, "judgment") == "blunder",
                entries.c.ply % 2 == parity,
            )
        )
    else:
        entries = sa.func.json_each(analyses.c.value, "$.moves").table_valued(
            sa.column("key", sa.Integer), sa.column("fullkey", sa.String)
        )
        judgment = sa.func.json_extract(analyses.c.value, entries.c.fullkey.concat(".judgment"))
        count = (
            sa.select(sa.func.count())
            .select_from(entries)
            .where(
                sa.func.json_type(analyses.c.value, "$.moves") == "array",
                judgment == "blunder",
                (entries.c.key + 1) % 2 == parity,
            )
        )
    # Both tables are the enclosing queries': the count reads the row they are on.
    walked = count.correlate(analyses, games).scalar_subquery()
    # Rows the analyze job writes carry the counts (`counts.<side>.blunder`): read, not
    # walked. COALESCE evaluates the walk only for rows without them (older ones).
    stored = sa.case((ours_white, _count_at(conn, "white")), else_=_count_at(conn, "black"))
    return _newest(conn, "judgments", sa.func.coalesce(stored, walked))


def _count_at(conn: sa.Connection, side: str) -> sa.ColumnElement[int]:
    """The stored `counts.<side>.blunder` (NULL when absent or not a small integer)."""
    if conn.dialect.name == "postgresql":
        field = analyses.c.value[("counts", side, "blunder")]
        text = field.as_string()
        return sa.case(
            (
                sa.and_(sa.func.jsonb_typeof(field) == "number", text.regexp_match("^[0-9]{1,9}$")),
                sa.cast(text, sa.Integer),
            ),
            else_=sa.null(),
        )
    path = f"$.counts.{side}.blunder"
    return sa.case(
        (
            sa.func.json_type(analyses.c.value, path) == "integer",
            sa.func.json_extract(analyses.c.value, path),
        ),
        else_=sa.null(),
    )
