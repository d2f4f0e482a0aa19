"""Every table, in SQLAlchemy Core; one schema for SQLite and PostgreSQL.

Alembic migrations (`storage/migrations/`) create these; a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite compares these as text: store one fixed naive format so ordering holds.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON on SQLite, JSONB on PostgreSQL.
Json: sa.types.TypeEngine[Any] = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # sha256 of the token: tokens are 32 random bytes, so a slow hash adds nothing.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(100), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Written at most once a minute per token (`services/users.py`).
    sa.Column("last_used_at", UtcDateTime),
    # NULL: the token does not expire.
    sa.Column("expires_at", UtcDateTime),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    # Lowercased: sites treat usernames case-insensitively.
    sa.Column("username_key", sa.String(64), nullable=False),
    sa.Column("platform_user_id", sa.String(64)),
    sa.Column("auto_sync_minutes", sa.Integer),
    # A sync of this account runs the engine on the games it stored (issue: analysis).
    sa.Column("auto_analyze", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("owner", "platform", "username_key"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(20), primary_key=True),
    sa.Column("job_type", sa.String(40), nullable=False),
    sa.Column("family", sa.String(40), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(40)),
    sa.Column("phases", Json, nullable=False),
    sa.Column("progress", Json, nullable=False),
    sa.Column("counters", Json, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("wait", Json),
    sa.Column("checkpoint", Json),
    sa.Column("result", Json),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    # The attempt whose run committed the last checkpoint (0: none), and the runs that
    # died before their first one: the sweeper bounds the two apart.
    sa.Column("checkpoint_attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stalled_runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("scheduled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("worker", sa.String(100)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime),
    sa.Column("heartbeat_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Index("ix_jobs_owner_created", "owner", "created_at"),
    sa.Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
    # The database itself keeps "one active job per account and family", even under races.
    sa.Index(
        "uq_jobs_active_account_family",
        "account_id",
        "family",
        unique=True,
        sqlite_where=sa.text("status IN ('queued', 'running', 'waiting')"),
        postgresql_where=sa.text("status IN ('queued', 'running', 'waiting')"),
    ),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("stream", sa.String(40), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Free text from PGN files has no length limit worth enforcing: PostgreSQL would
# reject a long player name in VARCHAR(64), so such columns are TEXT.
games = sa.Table(
    "games",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("platform_game_id", sa.Text, nullable=False),
    sa.Column("white_name", sa.Text),
    sa.Column("white_id", sa.Text),
    sa.Column("white_rating", sa.Integer),
    sa.Column("white_rating_diff", sa.Integer),
    sa.Column("white_title", sa.Text),
    sa.Column("white_ai_level", sa.Integer),
    sa.Column("black_name", sa.Text),
    sa.Column("black_id", sa.Text),
    sa.Column("black_rating", sa.Integer),
    sa.Column("black_rating_diff", sa.Integer),
    sa.Column("black_title", sa.Text),
    sa.Column("black_ai_level", sa.Integer),
    sa.Column("result", sa.String(8), nullable=False),
    sa.Column("termination", sa.Text, nullable=False),
    sa.Column("winner", sa.String(8)),
    sa.Column("variant", sa.Text, nullable=False),
    sa.Column("speed", sa.Text),
    sa.Column("time_control", sa.Text),
    sa.Column("rated", sa.Boolean),
    sa.Column("start_time", UtcDateTime),
    sa.Column("end_time", UtcDateTime),
    sa.Column("opening_eco", sa.Text),
    sa.Column("opening_name", sa.Text),
    # Space-separated SAN; NULL until fetched (two-stage sync), '' for a game without moves.
    sa.Column("moves", sa.Text),
    sa.Column("ply_count", sa.Integer),
    sa.Column("clocks", Json),
    # Centiseconds left to the side to move when the game ended without a move.
    sa.Column("final_clock", sa.Integer),
    sa.Column("evals", Json),
    sa.Column("initial_fen", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("raw", sa.Text, nullable=False),
    # Hash of what the source sent: an unchanged game is skipped, not rewritten.
    sa.Column("digest", sa.String(32), nullable=False),
    sa.Column("first_job_id", sa.String(20)),
    sa.Column("last_job_id", sa.String(20)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The game id leads: batch lookups by id then use the index whatever the statistics.
    sa.UniqueConstraint("platform_game_id", "platform"),
    # Player first: an index led by `platform` would tempt PostgreSQL, before it has
    # statistics, into scanning a whole platform to look up a batch of game ids.
    sa.Index("ix_games_white", "white_id", "platform", "start_time"),
    sa.Index("ix_games_black", "black_id", "platform", "start_time"),
    sa.Index("ix_games_start_time", "start_time"),
    # The games a job stored, in id order: a sync's analyzing phase walks them.
    sa.Index("ix_games_last_job", "last_job_id", "id"),
)

analyses = sa.Table(
    "analyses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("game_id", sa.ForeignKey("games.id", ondelete="CASCADE"), nullable=False),
    sa.Column("plugin", sa.String(64), nullable=False),
    sa.Column("plugin_version", sa.String(32), nullable=False),
    sa.Column("value", Json, nullable=False),
    sa.Column("job_id", sa.String(20)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("game_id", "plugin", "plugin_version"),
)

position_evals = sa.Table(
    "position_evals",
    metadata,
    # FEN without move counters, so transpositions share an entry.
    sa.Column("position", sa.String(100), primary_key=True),
    # Engine name, version and limits: a deeper search is a different entry.
    sa.Column("engine_key", sa.String(100), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

players = sa.Table(
    "players",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("username_key", sa.String(64), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("games_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("discovered_by_job_id", sa.String(20)),
    sa.Column("crawled_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The opponent crawl (migration 0006): who the player was first found through, the
    # site cursor that makes the next crawl of them incremental, the latest outcome.
    sa.Column("discovered_from", sa.String(64)),
    sa.Column("cursor", Json),
    sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("platform", "username_key"),
)

#: The players one user's crawls reached. A crawled player's games are visible to this
#: user (beside their own accounts' games) without becoming their own: stats count only
#: the games of the user's accounts.
owner_players = sa.Table(
    "owner_players",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("player_id", sa.ForeignKey("players.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("discovered_from", sa.String(64)),
    sa.Column("job_id", sa.String(20)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("games", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("crawled_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# -- scale-out (procrastinate mode) and scheduling ----------------------------------

#: The upstream gate's shared state per host, read by every worker (the 429 cool-down).
#: The one-request-in-flight lock itself is a PostgreSQL advisory lock, not a row:
#: a session lock dies with its holder, so it can't outlive a crashed worker.
#: `connectors/gate/postgres.py` holds the statements (connectors don't import storage).
upstream_hosts = sa.Table(
    "upstream_hosts",
    metadata,
    sa.Column("host", sa.String(255), primary_key=True),
    sa.Column("cooldown_until", UtcDateTime),
    sa.Column("strikes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_finished_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

#: The last scheduled sync of each account with `auto_sync_minutes`: claimed by a
#: compare-and-set on `last_at`, so two schedulers can't both start one per period.
auto_syncs = sa.Table(
    "auto_syncs",
    metadata,
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("last_at", UtcDateTime, nullable=False),
    #: created, merged or skipped; `note` says why (e.g. the running job's id).
    sa.Column("outcome", sa.String(16)),
    sa.Column("job_id", sa.String(20)),
    sa.Column("note", sa.Text),
)
