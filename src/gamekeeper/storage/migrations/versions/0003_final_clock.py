"""games.final_clock: the clock Lichess sends after the last ply (resignation, flag, draw)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:00:00.000000

Games stored before this keep their full record in `raw`, so the clock is read back
from it here (the sync skips unchanged records, so it would never fill it in).
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Games read and updated per round of the backfill.
CHUNK = 5000


def upgrade() -> None:
    with op.batch_alter_table("games") as batch:
        batch.add_column(sa.Column("final_clock", sa.Integer(), nullable=True))
    backfill(op.get_bind())


def backfill(conn: sa.Connection) -> None:
    games = sa.table(
        "games",
        sa.column("id", sa.Integer),
        sa.column("platform", sa.String),
        sa.column("ply_count", sa.Integer),
        sa.column("clocks", sa.JSON),
        sa.column("raw", sa.Text),
        sa.column("final_clock", sa.Integer),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(games.c.id, games.c.ply_count, games.c.raw)
            .where(
                games.c.platform == "lichess",
                games.c.id > last,
                games.c.clocks.is_not(None),
            )
            .order_by(games.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        updates = [
            {"row_id": row.id, "clock": clock}
            for row in rows
            if (clock := _final_clock(row.raw, row.ply_count)) is not None
        ]
        if updates:
            conn.execute(
                games.update()
                .where(games.c.id == sa.bindparam("row_id"))
                .values(final_clock=sa.bindparam("clock")),
                updates,
            )


def _final_clock(raw: str, plies: int | None) -> int | None:
    if not raw.startswith("{") or plies is None:
        return None  # a game imported from a PGN dump: no JSON record
    try:
        clocks = orjson.loads(raw).get("clocks")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if isinstance(clocks, list) and len(clocks) == plies + 1 and type(clocks[-1]) is int:
        return int(clocks[-1])
    return None


def downgrade() -> None:
    with op.batch_alter_table("games") as batch:
        batch.drop_column("final_clock")
