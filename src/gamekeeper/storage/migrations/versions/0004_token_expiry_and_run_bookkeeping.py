"""tokens.expires_at; jobs.checkpoint_attempt and jobs.stalled_runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00.000000

- `tokens.expires_at`: a token may be issued for a number of days (NULL: no expiry).
- `jobs.checkpoint_attempt`: the attempt whose run committed the job's last checkpoint
  (0: none yet), so the sweeper can tell a run that made progress from one that died
  before its first checkpoint.
- `jobs.stalled_runs`: runs that died before their first checkpoint; they are bounded
  apart from `attempt` (see `jobs/manager.py`, `sweep`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("checkpoint_attempt", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("stalled_runs", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("stalled_runs")
        batch.drop_column("checkpoint_attempt")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("expires_at")
