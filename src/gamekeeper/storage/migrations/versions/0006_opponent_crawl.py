"""players: the opponent crawl's columns; owner_players: whose crawls reached whom

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("players") as batch:
        batch.add_column(sa.Column("discovered_from", sa.String(64)))
        batch.add_column(sa.Column("cursor", _JSON))
        batch.add_column(
            sa.Column("status", sa.String(16), server_default="queued", nullable=False)
        )
        batch.add_column(sa.Column("last_error", sa.Text()))
    op.create_table(
        "owner_players",
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("discovered_from", sa.String(64)),
        sa.Column("job_id", sa.String(20)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("games", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("crawled_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name="fk_owner_players_player_id_players",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner", "player_id", name="pk_owner_players"),
    )


def downgrade() -> None:
    op.drop_table("owner_players")
    with op.batch_alter_table("players") as batch:
        batch.drop_column("last_error")
        batch.drop_column("status")
        batch.drop_column("cursor")
        batch.drop_column("discovered_from")
