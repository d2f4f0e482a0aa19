"""The opponent crawl's statements: players, whose crawls reached them, and what
scouting reads of their games."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import (
    CrawledPlayer,
    CrawlTarget,
    Opponent,
    PlayerGame,
    PlayerStatus,
)
from gamekeeper.storage.players import PlayerGamesQuery
from gamekeeper.storage.sql.engine import upsert
from gamekeeper.storage.sql.games import count_player_games
from gamekeeper.storage.sql.schema import accounts, games, owner_players, players


def _player_row_id(conn: sa.Connection, target: CrawlTarget, job_id: str | None) -> int:
    """The `players` row of `target`, made on first sight."""
    now = datetime.now(UTC)
    stmt = upsert(
        players,
        conn.dialect,
        key=["platform", "username_key"],
        update={"username": lambda excluded: excluded.username},
    ).values(
        platform=target.platform.value,
        username_key=target.player_id,
        username=target.username,
        depth=target.depth,
        discovered_by_job_id=job_id,
        discovered_from=target.discovered_from,
        status=PlayerStatus.QUEUED.value,
        created_at=now,
    )
    conn.execute(stmt)
    found = conn.execute(
        sa.select(players.c.id).where(
            players.c.platform == target.platform.value,
            players.c.username_key == target.player_id,
        )
    ).scalar_one()
    return int(found)


def _owner_row(
    conn: sa.Connection, owner: str, player_row: int, target: CrawlTarget, **values: Any
) -> None:
    now = datetime.now(UTC)
    fields = {
        "depth": target.depth,
        "discovered_from": target.discovered_from,
        **values,
    }
    stmt = upsert(owner_players, conn.dialect, key=["owner", "player_id"], update=fields).values(
        owner=owner, player_id=player_row, created_at=now, **fields
    )
    conn.execute(stmt)


def queue_players(
    conn: sa.Connection, owner: str, job_id: str, targets: Sequence[CrawlTarget]
) -> None:
    """Players a crawl just put in its frontier: shown as queued to their owner."""
    for target in targets:
        row = _player_row_id(conn, target, job_id)
        _owner_row(conn, owner, row, target, job_id=job_id, status=PlayerStatus.QUEUED.value)


def finish_player(
    conn: sa.Connection,
    owner: str,
    job_id: str,
    target: CrawlTarget,
    *,
    cursor: Any,
    error: str | None,
) -> int:
    """A player the crawl is done with: their cursor (on success) and outcome; returns
    how many of their games are stored."""
    now = datetime.now(UTC)
    row = _player_row_id(conn, target, job_id)
    stored = count_player_games(conn, target.platform, target.player_id)
    status = PlayerStatus.FAILED if error is not None else PlayerStatus.DONE
    changes: dict[str, Any] = {"status": status.value, "last_error": error, "crawled_at": now}
    if error is None:
        changes |= {"cursor": cursor, "games_seen": stored}
    conn.execute(players.update().where(players.c.id == row).values(**changes))
    _owner_row(
        conn,
        owner,
        row,
        target,
        job_id=job_id,
        status=status.value,
        games=stored,
        last_error=error,
        crawled_at=now,
    )
    return stored


def player_cursor(conn: sa.Connection, platform: Platform, player_id: str) -> Any:
    stmt = sa.select(players.c.cursor).where(
        players.c.platform == platform.value, players.c.username_key == player_id
    )
    return conn.execute(stmt).scalar_one_or_none()


def opponents_of(conn: sa.Connection, platform: Platform, player_id: str) -> list[Opponent]:
    """Who `player_id` met in stored games, most games first, then by id."""
    found: dict[str, Opponent] = {}
    for mine, theirs, name in (
        (games.c.white_id, games.c.black_id, games.c.black_name),
        (games.c.black_id, games.c.white_id, games.c.white_name),
    ):
        stmt = (
            sa.select(theirs, sa.func.max(name), sa.func.count())
            .where(games.c.platform == platform.value, mine == player_id, theirs.is_not(None))
            .group_by(theirs)
        )
        for opponent_id, username, count in conn.execute(stmt):
            before = found.get(opponent_id)
            total = int(count) + (before.games if before else 0)
            found[opponent_id] = Opponent(username=username or opponent_id, games=total)
    ranked = sorted(found.items(), key=lambda item: (-item[1].games, item[0]))
    return [opponent for key, opponent in ranked if key != player_id]


_CRAWLED = sa.select(
    players.c.platform,
    players.c.username,
    owner_players.c.depth,
    owner_players.c.status,
    owner_players.c.discovered_from,
    owner_players.c.games,
    owner_players.c.job_id,
    owner_players.c.crawled_at,
    owner_players.c.last_error,
).join_from(owner_players, players, owner_players.c.player_id == players.c.id)


def _crawled(row: Any) -> CrawledPlayer:
    return CrawledPlayer(
        platform=Platform(row.platform),
        username=row.username,
        depth=row.depth,
        status=PlayerStatus(row.status),
        discovered_from=row.discovered_from,
        games=row.games,
        job_id=row.job_id,
        crawled_at=row.crawled_at,
        last_error=row.last_error,
    )


def crawled_players(conn: sa.Connection, owner: str | None, *, limit: int) -> list[CrawledPlayer]:
    """An owner's players (everyone's for None), nearest first, then by name."""
    stmt = _CRAWLED.order_by(
        owner_players.c.depth, players.c.platform, players.c.username_key
    ).limit(limit)
    if owner is not None:
        stmt = stmt.where(owner_players.c.owner == owner)
    return [_crawled(row) for row in conn.execute(stmt)]


def crawled_player(
    conn: sa.Connection, owner: str | None, platform: Platform, player_id: str
) -> CrawledPlayer | None:
    """One player as `owner`'s crawls left them (for None: any owner's, nearest)."""
    stmt = _CRAWLED.where(
        players.c.platform == platform.value, players.c.username_key == player_id
    ).order_by(owner_players.c.depth)
    if owner is not None:
        stmt = stmt.where(owner_players.c.owner == owner)
    row = conn.execute(stmt.limit(1)).first()
    return None if row is None else _crawled(row)


def owner_player_ids(conn: sa.Connection, owner: str, platform: Platform) -> list[str]:
    """The player ids of `owner`'s own accounts on `platform`."""
    stmt = sa.select(accounts.c.username_key).where(
        accounts.c.owner == owner, accounts.c.platform == platform.value
    )
    return list(conn.execute(stmt).scalars())


_GAME_COLUMNS = (
    games.c.id,
    games.c.platform_game_id,
    games.c.white_id,
    games.c.white_name,
    games.c.white_rating,
    games.c.black_id,
    games.c.black_name,
    games.c.black_rating,
    games.c.winner,
    games.c.result,
    games.c.speed,
    games.c.time_control,
    games.c.start_time,
    games.c.opening_eco,
    games.c.opening_name,
    games.c.moves,
    games.c.initial_fen,
    games.c.variant,
    games.c.url,
)


def _player_game(row: Any, player_id: str) -> PlayerGame:
    white = row.white_id == player_id
    outcome = None
    if row.result in ("1-0", "0-1", "1/2-1/2"):
        outcome = (
            "draw"
            if row.winner is None
            else ("win" if (row.winner == "white") == white else "loss")
        )
    return PlayerGame(
        game_id=row.id,
        platform_game_id=row.platform_game_id,
        color="white" if white else "black",
        opponent=row.black_name if white else row.white_name,
        opponent_id=row.black_id if white else row.white_id,
        rating=row.white_rating if white else row.black_rating,
        opponent_rating=row.black_rating if white else row.white_rating,
        outcome=outcome,
        result=row.result,
        speed=row.speed,
        time_control=row.time_control,
        start_time=row.start_time,
        opening_eco=row.opening_eco,
        opening_name=row.opening_name,
        moves=row.moves,
        initial_fen=row.initial_fen,
        variant=row.variant,
        url=row.url,
    )


def player_games(conn: sa.Connection, query: PlayerGamesQuery) -> list[PlayerGame]:
    """A player's stored games (see `PlayerGamesQuery`)."""
    platform, player_id, color, against = (
        query.platform,
        query.player_id,
        query.color,
        query.against,
    )
    sides = []
    for side in ("white", "black"):
        if color is not None and color != side:
            continue
        mine = games.c.white_id if side == "white" else games.c.black_id
        theirs = games.c.black_id if side == "white" else games.c.white_id
        condition = sa.and_(games.c.platform == platform.value, mine == player_id)
        if against is not None:
            condition = sa.and_(condition, theirs.in_(list(against)))
        sides.append(condition)
    if not sides or against == []:
        return []
    stmt = (
        sa.select(*_GAME_COLUMNS)
        .where(sa.or_(*sides))
        .order_by(games.c.start_time.desc().nulls_last(), games.c.id.desc())
        .limit(query.limit)
    )
    return [_player_game(row, player_id) for row in conn.execute(stmt)]
