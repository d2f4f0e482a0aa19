"""The `import_pgn` job end to end: real services on a real database, real files."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import zstandard

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus, PhaseStatus, new_job_id
from gamekeeper.errors import InvalidInput
from gamekeeper.settings import Settings
from gamekeeper.storage.sql.schema import games
from tests.fixtures.pgn.dumps import dump, dump_game, game_id

FAST = {"heartbeat_interval_s": 30.0, "sweep_interval_s": 3600.0, "job_create_limit": 1000}

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "games.pgn": lambda data: data,
    "games.pgn.gz": gzip.compress,
    "games.pgn.bz2": bz2.compress,
    "games.pgn.zst": lambda data: zstandard.ZstdCompressor().compress(data),
}

ServicesFactory = Callable[..., Coroutine[Any, Any, Services]]


@pytest.fixture
async def make_services(db_url: str) -> AsyncIterator[ServicesFactory]:
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        services = build_services(Settings(database_url=db_url, **(FAST | overrides)))
        await services.start(sweep=False)
        made.append(services)
        return services

    yield make
    for services in made:
        await services.aclose()


@pytest.fixture
async def services(make_services: ServicesFactory) -> Services:
    return await make_services()


async def finished(services: Services, job_id: str) -> Job:
    async def follow() -> Job:
        return [j async for j in services.jobs.watch(job_id)][-1]

    return await asyncio.wait_for(follow(), timeout=120)


async def run_import(services: Services, path: Path, **parameters: Any) -> Job:
    job = await services.jobs.create(
        "import_pgn", owner="admin", parameters={"path": str(path), **parameters}
    )
    return await finished(services, job.id)


async def stored_ids(services: Services) -> list[str]:
    """Every stored game's id, duplicates included."""
    return await services.store.read(
        lambda c: [row[0] for row in c.execute(sa.select(games.c.platform_game_id))]
    )


@pytest.mark.parametrize("name", COMPRESSORS)
async def test_every_game_is_stored_once_from_any_format(
    services: Services, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](dump(range(1000))))
    job = await run_import(services, path, batch_games=300)

    assert job.status is JobStatus.COMPLETED, job.error
    assert sorted(await stored_ids(services)) == [game_id(n) for n in range(1000)]
    assert job.counters["found"] == job.counters["inserted"] == 1000
    assert job.counters["failed"] == 0
    # Progress is in bytes of the file as stored, compressed or not.
    assert job.progress.done == job.progress.total == path.stat().st_size
    assert [(p.name, p.status) for p in job.phases] == [
        ("importing", PhaseStatus.COMPLETED),
        ("analyzing", PhaseStatus.SKIPPED),
    ]
    assert job.checkpoint["offset"] == len(dump(range(1000)))
    assert job.result["games"] == 1000
    assert job.result["games_per_s"] > 0

    stored = await services.store.get_game_by_key(Platform.LICHESS, game_id(7))
    assert stored is not None
    assert stored["url"] == f"https://lichess.org/{game_id(7)}"
    assert stored["moves"].startswith("e4 e5 Nf3")
    assert stored["clocks"][:2] == [17900, 17800]


async def test_importing_the_same_file_again_stores_nothing_twice(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(500)) + dump(range(100)))  # the file repeats 100 games
    first = await run_import(services, path, batch_games=128)
    second = await run_import(services, path)

    assert first.counters["inserted"] == 500
    assert first.counters["skipped_existing"] == 100
    assert second.counters["inserted"] == 0
    assert second.counters["skipped_existing"] == 600
    assert len(await stored_ids(services)) == 500


def corrupt_file() -> tuple[bytes, list[int], list[int]]:
    """Good games around a truncated game, binary garbage, a game with a 10 MB comment
    and an unterminated tag; with the offsets of the bad pieces and the good games."""
    rng = random.Random(5)
    pieces: list[tuple[str, bytes]] = [
        ("good", dump(range(0, 5))),
        ("bad", dump_game(5).encode()[:-120] + b"\n"),  # truncated mid-movetext
        ("good", dump(range(6, 10))),
        ("bad", bytes(rng.randrange(256) for _ in range(3000)) + b"\n\n"),
        ("good", dump(range(10, 14))),
        ("good", dump_game(14, comment="blah " * (2 * 1024 * 1024)).encode()),  # 10 MB
        ("good", dump(range(15, 18))),
        ("bad", dump_game(18).replace('[Black "', '[Black "cut\n[X "', 1).encode()),
        ("good", dump(range(19, 22))),
    ]
    data = b""
    bad: list[int] = []
    for kind, piece in pieces:
        if kind == "bad":
            bad.append(len(data))
        data += piece
    good = [n for n in range(22) if n not in (5, 18)]
    return data, bad, good


async def test_corrupt_pieces_are_item_errors_with_offsets_and_good_games_survive(
    services: Services, tmp_path: Path
) -> None:
    data, bad_offsets, good = corrupt_file()
    assert len(data) > 10_000_000
    path = tmp_path / "corrupt.pgn"
    path.write_bytes(data)
    job = await run_import(services, path, batch_games=4)

    assert job.status is JobStatus.COMPLETED, job.error
    assert [e.item for e in job.errors] == [f"offset {o}" for o in bad_offsets]
    assert "termination marker" in job.errors[0].message
    assert "binary data" in job.errors[1].message
    assert "malformed tag" in job.errors[2].message
    assert sorted(await stored_ids(services)) == [game_id(n) for n in good]
    assert job.counters["failed"] == 3
    assert job.counters["found"] == len(good) + 3
    assert job.counters["inserted"] == len(good)
    big = await services.store.get_game_by_key(Platform.LICHESS, game_id(14))
    assert big is not None and big["ply_count"] == 24


async def resume_job(services: Services, path: Path, checkpoint: dict[str, Any]) -> Job:
    """Run an import whose row already holds `checkpoint`, as a run that died left it."""
    now = datetime.now(UTC)
    job = Job(
        id=new_job_id(),
        job_type="import_pgn",
        family="import",
        owner="admin",
        parameters={"path": str(path), "batch_games": 100},
        checkpoint=checkpoint,
        created_at=now,
        updated_at=now,
    )
    await services.store.create_job(lambda tx: tx.insert_job(job))
    await services.executor.submit(job)
    return await finished(services, job.id)


@pytest.mark.parametrize("name", ["games.pgn", "games.pgn.gz", "games.pgn.zst"])
async def test_a_resumed_import_starts_at_its_cursor(
    services: Services, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](dump(range(1000))))
    stat = path.stat()
    offset = len(dump(range(437)))  # just after game 436, in the decompressed stream
    cursor = {"offset": offset, "path": str(path), "size": stat.st_size}
    job = await resume_job(services, path, {**cursor, "mtime_ns": stat.st_mtime_ns})

    assert job.status is JobStatus.COMPLETED, job.error
    # Nothing before the cursor is read again, nothing after it is lost.
    assert sorted(await stored_ids(services)) == [game_id(n) for n in range(437, 1000)]
    assert job.counters["found"] == job.counters["inserted"] == 563
    assert job.result["resumed_at_offset"] == offset


async def test_a_resumed_import_refuses_a_file_that_changed(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(100)))
    stat = path.stat()
    path.write_bytes(dump(range(200)))  # re-downloaded, or appended to
    checkpoint = {"offset": 4000, "path": str(path), "size": stat.st_size, "mtime_ns": 1}
    job = await resume_job(services, path, checkpoint)

    assert job.status is JobStatus.FAILED
    assert job.error is not None and "changed since this import started" in job.error
    assert await stored_ids(services) == []


async def test_cancel_stops_at_a_batch_boundary_keeping_what_it_committed(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(3000)))
    job = await services.jobs.create(
        "import_pgn", owner="admin", parameters={"path": str(path), "batch_games": 20}
    )
    async with aclosing(services.jobs.watch(job.id)) as changes:
        async for seen in changes:
            if seen.checkpoint:
                await services.jobs.cancel(job.id)
                break
    final = await finished(services, job.id)

    assert final.status is JobStatus.CANCELLED
    stored = sorted(await stored_ids(services))
    committed = final.counters["inserted"]
    assert 0 < committed < 3000
    # What is stored is exactly what the cursor covers.
    assert stored == [game_id(n) for n in range(committed)]
    assert final.checkpoint["offset"] == len(dump(range(committed)))


async def test_every_snapshot_counts_what_its_checkpoint_covers(
    services: Services, tmp_path: Path
) -> None:
    # A batch commits while the next is read: what a watcher sees must still be one
    # committed state at a time (counters, cursor and progress of the same batches).
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(1500)))
    job = await services.jobs.create(
        "import_pgn", owner="admin", parameters={"path": str(path), "batch_games": 50}
    )
    seen_offsets: list[int] = []
    async with aclosing(services.jobs.watch(job.id)) as changes:
        async for seen in changes:
            if not seen.checkpoint:
                continue
            found = seen.counters["found"]
            assert seen.counters["inserted"] == found
            assert seen.checkpoint["offset"] == len(dump(range(found)))
            assert seen.progress is not None and seen.progress.done <= path.stat().st_size
            seen_offsets.append(seen.checkpoint["offset"])
    assert seen_offsets == sorted(seen_offsets)
    assert len(set(seen_offsets)) > 1 and seen_offsets[-1] == path.stat().st_size
    assert sorted(await stored_ids(services)) == sorted(game_id(n) for n in range(1500))


@pytest.mark.parametrize("name", ["games.pgn.gz", "games.pgn.bz2", "games.pgn.zst"])
async def test_a_truncated_compressed_file_fails_clearly_keeping_the_games_before(
    services: Services, tmp_path: Path, name: str
) -> None:
    whole = COMPRESSORS[name](dump(range(3000)))
    path = tmp_path / name
    path.write_bytes(whole[: len(whole) * 2 // 3])
    job = await run_import(services, path, batch_games=100)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert "damaged compressed data" in job.error and "truncated download" in job.error
    stored = sorted(await stored_ids(services))
    assert 0 < len(stored) < 3000
    assert stored == [game_id(n) for n in range(len(stored))]


async def test_a_path_that_is_no_readable_file_is_refused_at_creation(
    services: Services, tmp_path: Path
) -> None:
    for path, message in [
        (str(tmp_path / "missing.pgn"), "no such file"),
        (str(tmp_path), "not a regular file"),
        ("relative/games.pgn", "absolute path"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            await services.jobs.create("import_pgn", owner="admin", parameters={"path": path})
    with pytest.raises(InvalidInput, match="path"):
        await services.jobs.create("import_pgn", owner="admin", parameters={})


async def test_a_file_that_disappears_before_the_job_runs_fails_it_clearly(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(10)))
    stat = path.stat()
    path.unlink()
    checkpoint = {"offset": 0, "path": str(path), "size": stat.st_size, "mtime_ns": 0}
    job = await resume_job(services, path, checkpoint)
    assert job.status is JobStatus.FAILED
    assert job.error == f"cannot read {path}: No such file or directory"


async def test_a_process_stopping_mid_import_hands_it_back_and_the_next_one_resumes_it(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    path = tmp_path / "games.pgn.gz"
    path.write_bytes(gzip.compress(dump(range(3000))))
    first = await make_services()
    job = await first.jobs.create(
        "import_pgn", owner="admin", parameters={"path": str(path), "batch_games": 20}
    )
    async with aclosing(first.jobs.watch(job.id)) as changes:
        async for seen in changes:
            if seen.checkpoint:
                break
    await first.aclose()  # cancels the running job: back to the queue at its checkpoint

    second = await make_services()
    handed_back = await second.store.get_job(job.id)
    assert handed_back is not None and handed_back.status is JobStatus.QUEUED
    assert 0 < handed_back.counters["inserted"] < 3000
    await second.jobs.sweep(resubmit_queued=True)
    final = await finished(second, job.id)

    assert final.status is JobStatus.COMPLETED, final.error
    assert sorted(await stored_ids(second)) == [game_id(n) for n in range(3000)]
    assert final.counters["inserted"] == 3000
    assert final.counters["skipped_existing"] == 0


async def test_games_without_opening_tags_are_named_by_the_book(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "untagged.pgn"
    path.write_text(
        '[Event "club"]\n[White "a"]\n[Black "b"]\n[Result "*"]\n\n'
        "1. e4 c6 2. d4 d5 3. Nc3 dxe4 *\n\n"
        '[Event "club"]\n[White "a"]\n[Black "b"]\n[Result "*"]\n[Opening "Our own name"]\n\n'
        "1. e4 c6 *\n"
    )
    job = await run_import(services, path)
    assert job.status is JobStatus.COMPLETED, job.error
    rows = await services.store.read(
        lambda c: c.execute(sa.select(games.c.opening_eco, games.c.opening_name)).all()
    )
    assert sorted((tuple(r) for r in rows), key=str) == sorted(
        [
            ("B15", "Caro-Kann Defense"),  # from the book, by position
            (None, "Our own name"),  # the file's own name is kept
        ],
        key=str,
    )
