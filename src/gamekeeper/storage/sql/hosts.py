"""The upstream gate's shared state per host (`upstream_hosts`), for the embedded mode.

On PostgreSQL the gate reads and writes the same table itself (`connectors/gate/postgres.py`,
on its own connections); on SQLite it goes through the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from gamekeeper.domain.upstreams import HostState
from gamekeeper.storage.sql.engine import upsert
from gamekeeper.storage.sql.schema import upstream_hosts


def upstream_state(conn: sa.Connection, host: str) -> HostState | None:
    row = conn.execute(
        sa.select(
            upstream_hosts.c.cooldown_until,
            upstream_hosts.c.strikes,
            upstream_hosts.c.last_finished_at,
        ).where(upstream_hosts.c.host == host)
    ).first()
    if row is None:
        return None
    return HostState(
        cooldown_until=row.cooldown_until,
        strikes=row.strikes,
        last_finished_at=row.last_finished_at,
    )


def save_upstream_state(conn: sa.Connection, host: str, state: HostState) -> None:
    values = {
        "cooldown_until": state.cooldown_until,
        "strikes": state.strikes,
        "last_finished_at": state.last_finished_at,
        "updated_at": datetime.now(UTC),
    }
    stmt = upsert(upstream_hosts, conn.dialect, key=["host"], update=values).values(
        host=host, **values
    )
    conn.execute(stmt)
