"""Every statement about users, tokens and accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from gamekeeper.domain import locks
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.users import ApiToken, Role, User
from gamekeeper.storage.base import AccountScope
from gamekeeper.storage.sql.schema import accounts, games, jobs, tokens, users

#: A token's columns but its hash (which never leaves storage).
_TOKEN_COLUMNS = [c for c in tokens.c if c.name != "token_hash"]


def _row_to_account(row: sa.RowMapping) -> Account:
    return Account(
        id=row["id"],
        owner=row["owner"],
        platform=Platform(row["platform"]),
        username=row["username"],
        platform_user_id=row["platform_user_id"],
        auto_sync_minutes=row["auto_sync_minutes"],
        auto_analyze=bool(row["auto_analyze"]),
        created_at=row["created_at"],
    )


def _row_to_user(row: sa.RowMapping) -> User:
    return User(
        id=row["id"], name=row["name"], role=Role(row["role"]), created_at=row["created_at"]
    )


def add_account(conn: sa.Connection, owner: str, platform: Platform, username: str) -> Account:
    values = {
        "owner": owner,
        "platform": platform.value,
        "username": username,
        "username_key": username.lower(),
        "created_at": datetime.now(UTC),
    }
    account_id = conn.execute(
        accounts.insert().values(values).returning(accounts.c.id)
    ).scalar_one()
    account = get_account(conn, account_id)
    assert account is not None
    return account


def lock_owner(conn: sa.Connection, owner: str) -> None:
    """Serialise account changes of `owner` until the transaction ends (SQLite's
    BEGIN IMMEDIATE already holds the write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key, hashtext(:owner))"),
            {"key": locks.OWNER_ACCOUNTS, "owner": owner},
        )


def count_accounts(conn: sa.Connection, owner: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(accounts).where(accounts.c.owner == owner)
    return int(conn.execute(stmt).scalar_one())


def get_account(conn: sa.Connection, account_id: int) -> Account | None:
    row = conn.execute(accounts.select().where(accounts.c.id == account_id)).mappings().first()
    return _row_to_account(row) if row else None


def find_account(
    conn: sa.Connection, owner: str, platform: Platform, username: str
) -> Account | None:
    stmt = accounts.select().where(
        accounts.c.owner == owner,
        accounts.c.platform == platform.value,
        accounts.c.username_key == username.lower(),
    )
    row = conn.execute(stmt).mappings().first()
    return _row_to_account(row) if row else None


def get_accounts(conn: sa.Connection, account_ids: Sequence[int]) -> list[Account]:
    stmt = accounts.select().where(accounts.c.id.in_(list(account_ids)))
    return [_row_to_account(r) for r in conn.execute(stmt).mappings()]


def list_accounts(conn: sa.Connection, owner: str | None) -> list[Account]:
    stmt = accounts.select().order_by(accounts.c.id)
    if owner is not None:
        stmt = stmt.where(accounts.c.owner == owner)
    return [_row_to_account(r) for r in conn.execute(stmt).mappings()]


def account_summaries(
    conn: sa.Connection, scope: AccountScope
) -> list[tuple[Account, int, str | None]]:
    """The accounts in `scope` with their stored games and last job's id, in one query:
    each count runs on the index of its side (`ix_games_white`/`_black`)."""
    owner, account_ids, job_owner = scope.owner, scope.account_ids, scope.job_owner

    def side_count(side: str) -> sa.ScalarSelect[int]:
        column = games.c[f"{side}_id"]
        return (
            sa.select(sa.func.count())
            .where(games.c.platform == accounts.c.platform, column == accounts.c.username_key)
            .scalar_subquery()
        )

    both = (
        sa.select(sa.func.count())
        .where(
            games.c.platform == accounts.c.platform,
            games.c.white_id == accounts.c.username_key,
            games.c.black_id == accounts.c.username_key,
        )
        .scalar_subquery()
    )
    mine = jobs.c.account_id == accounts.c.id
    if job_owner is not None:
        mine = sa.and_(mine, jobs.c.owner == job_owner)
    last_job = (
        sa.select(jobs.c.id)
        .where(mine)
        .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = sa.select(
        accounts,
        (side_count("white") + side_count("black") - both).label("game_count"),
        last_job.label("last_job_id"),
    ).order_by(accounts.c.id)
    if owner is not None:
        stmt = stmt.where(accounts.c.owner == owner)
    if account_ids is not None:
        stmt = stmt.where(accounts.c.id.in_(list(account_ids)))
    return [
        (_row_to_account(row), int(row["game_count"]), row["last_job_id"])
        for row in conn.execute(stmt).mappings()
    ]


def remove_account(conn: sa.Connection, account_id: int) -> bool:
    return conn.execute(accounts.delete().where(accounts.c.id == account_id)).rowcount == 1


def update_account(conn: sa.Connection, account: Account) -> None:
    conn.execute(
        accounts.update()
        .where(accounts.c.id == account.id)
        .values(
            username=account.username,
            platform_user_id=account.platform_user_id,
            auto_sync_minutes=account.auto_sync_minutes,
            auto_analyze=account.auto_analyze,
        )
    )


def add_user(conn: sa.Connection, name: str, role: Role) -> User:
    created_at = datetime.now(UTC)
    stmt = users.insert().values(name=name, role=role.value, created_at=created_at)
    user_id = conn.execute(stmt.returning(users.c.id)).scalar_one()
    return User(id=user_id, name=name, role=role, created_at=created_at)


def get_user(conn: sa.Connection, name: str) -> User | None:
    row = conn.execute(users.select().where(users.c.name == name)).mappings().first()
    return _row_to_user(row) if row else None


def list_users(conn: sa.Connection) -> list[User]:
    return [_row_to_user(r) for r in conn.execute(users.select().order_by(users.c.id)).mappings()]


def _row_to_token(row: sa.RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        label=row["label"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
    )


def add_token(
    conn: sa.Connection,
    user_id: int,
    token_hash: str,
    label: str,
    expires_at: datetime | None = None,
) -> ApiToken:
    stmt = tokens.insert().values(
        user_id=user_id,
        token_hash=token_hash,
        label=label,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    row = conn.execute(stmt.returning(*_TOKEN_COLUMNS)).mappings().one()
    return _row_to_token(row)


def token_owner(conn: sa.Connection, token_hash: str) -> tuple[User, ApiToken] | None:
    stmt = (
        sa.select(
            users,
            tokens.c.id.label("token_id"),
            tokens.c.label.label("token_label"),
            tokens.c.created_at.label("token_created_at"),
            tokens.c.last_used_at,
            tokens.c.expires_at,
        )
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == token_hash)
    )
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    token = ApiToken(
        id=row["token_id"],
        user_id=row["id"],
        label=row["token_label"],
        created_at=row["token_created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
    )
    return _row_to_user(row), token


def touch_token(conn: sa.Connection, token_id: int, now: datetime) -> None:
    conn.execute(tokens.update().where(tokens.c.id == token_id).values(last_used_at=now))


def list_tokens(conn: sa.Connection, user_id: int) -> list[ApiToken]:
    stmt = sa.select(*_TOKEN_COLUMNS).where(tokens.c.user_id == user_id).order_by(tokens.c.id)
    return [_row_to_token(r) for r in conn.execute(stmt).mappings()]


def revoke_token(conn: sa.Connection, user_id: int, token_id: int) -> bool:
    stmt = tokens.delete().where(tokens.c.id == token_id, tokens.c.user_id == user_id)
    return conn.execute(stmt).rowcount == 1
