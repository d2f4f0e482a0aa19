"""ix_games_last_job: the games a job stored, in id order (a sync's analyzing phase)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_games_last_job", "games", ["last_job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_games_last_job", table_name="games")
