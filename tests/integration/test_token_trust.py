"""A token checked a moment ago is trusted for `TOKEN_TRUSTED_FOR` without asking the
database again; a revoke made through this process is honoured at once, one made by
another process (straight in the store here) once that time is up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from gamekeeper.domain.users import User
from gamekeeper.services.users import TOKEN_TRUSTED_FOR, UserService
from gamekeeper.storage.sql.schema import tokens
from gamekeeper.storage.sql.store import SqlStore
from tests.conftest import count_statements


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Signed:
    """Alice, signed in: the service and its clock, her user and her token."""

    clock: Clock
    users: UserService
    alice: User
    token: str


async def signed_in(store: SqlStore, *, expires_in_days: int | None = None) -> Signed:
    clock = Clock()
    users = UserService(store, now=clock)
    alice = await users.add_user("alice")
    token = await users.issue_token(alice, expires_in_days=expires_in_days)
    return Signed(clock, users, alice, token)


async def test_a_token_is_read_once_while_trusted(store: SqlStore) -> None:
    s = await signed_in(store)
    clock, users, alice, token = s.clock, s.users, s.alice, s.token
    reads = count_statements(store.engine, "SELECT")

    for _ in range(20):
        assert await users.authenticate(token) == alice
    assert len([s for s in reads if "token_hash" in s]) == 1

    clock.now += TOKEN_TRUSTED_FOR
    assert await users.authenticate(token) == alice
    assert len([s for s in reads if "token_hash" in s]) == 2


async def test_a_revoke_here_is_honoured_at_once(store: SqlStore) -> None:
    s = await signed_in(store)
    users, alice, token = s.users, s.alice, s.token
    assert await users.authenticate(token) == alice
    [row] = await users.tokens("alice")

    await users.revoke("alice", row.id)
    assert await users.authenticate(token) is None


async def test_a_revoke_elsewhere_is_honoured_once_the_trust_is_over(store: SqlStore) -> None:
    s = await signed_in(store)
    clock, users, alice, token = s.clock, s.users, s.alice, s.token
    assert await users.authenticate(token) == alice
    [row] = await users.tokens("alice")

    elsewhere = UserService(store, now=clock)  # another process: its own trust
    await elsewhere.revoke("alice", row.id)
    clock.now += TOKEN_TRUSTED_FOR - timedelta(seconds=1)
    assert await users.authenticate(token) == alice  # still within the trust
    clock.now += timedelta(seconds=1)
    assert await users.authenticate(token) is None
    assert await users.authenticate(token) is None  # and not trusted again


async def test_an_expiry_is_checked_on_every_request(store: SqlStore) -> None:
    s = await signed_in(store, expires_in_days=1)
    clock, users, alice, token = s.clock, s.users, s.alice, s.token
    assert await users.authenticate(token) == alice
    clock.now += timedelta(days=1) - timedelta(seconds=1)
    assert await users.authenticate(token) == alice
    clock.now += timedelta(seconds=1)  # within the trust, but expired now
    assert await users.authenticate(token) is None


async def test_last_used_is_written_once_a_minute_not_per_request(store: SqlStore) -> None:
    s = await signed_in(store)
    clock, users, alice, token = s.clock, s.users, s.alice, s.token
    writes = count_statements(store.engine, "UPDATE")
    for _ in range(3):
        for _ in range(10):
            assert await users.authenticate(token) == alice
        clock.now += timedelta(seconds=2)
    assert len([s for s in writes if "last_used_at" in s]) == 1
    with store.engine.connect() as conn:
        used = conn.execute(sa.select(tokens.c.last_used_at)).scalar_one()
    assert used is not None
