"""The import's parse processes against the single-process path: the same rows, errors
and offsets, in file order, whatever the number of processes; failures surface."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator

import pytest

from gamekeeper.connectors.pgn import Piece, piece_chunks
from gamekeeper.domain.games import Game
from gamekeeper.sync.import_parse import Parsed, ParseSpec, RowBatcher
from gamekeeper.sync.import_procs import ParsePool, in_process
from tests.fixtures.pgn.dumps import dump, game_id

#: Junk between games: a damaged piece the reader reports and reads past.
JUNK = b"\x00\xff\xfe binary junk \x01\x02\n\n"


def key_row(game: Game) -> tuple[str, str, str]:
    """A stand-in for the store's encoder (picklable: a module-level function)."""
    return (game.platform.value, game.platform_game_id, game.white.name or "")


def explode(game: Game) -> tuple[str, ...]:
    raise ValueError(f"cannot encode {game.platform_game_id}")


def text() -> bytes:
    return dump(range(300)) + JUNK + dump(range(300, 700))


def chunks(data: bytes, start: int = 0) -> Iterator[tuple[list[Piece], int]]:
    # Small chunks, so that there are many and each process gets several.
    for pieces in piece_chunks(io.BytesIO(data), start, 1 << 24, chunk_bytes=8 * 1024):
        yield pieces, pieces[-1][1]


def flat(parsed: Iterator[Parsed]) -> list[tuple[object, int]]:
    return [
        (item, end) for chunk in parsed for item, end in zip(chunk.items, chunk.ends, strict=True)
    ]


@pytest.mark.parametrize("workers", [1, 3])
def test_parse_processes_give_what_the_single_process_path_gives(workers: int) -> None:
    spec = ParseSpec(encode=key_row)
    expected = flat(in_process(chunks(text()), spec))
    pool = ParsePool(workers, spec, depth=2)
    try:
        got = flat(pool.start(chunks(text())))
    finally:
        pool.close()
    assert got == expected
    rows = [item for item, _ in got if isinstance(item, tuple)]
    assert [row[1] for row in rows] == [game_id(n) for n in range(700)]
    assert len(got) == 701  # and the junk, in its place


def test_batches_cover_their_offsets_exactly() -> None:
    data = text()
    batcher = RowBatcher(
        in_process(chunks(data), ParseSpec(encode=key_row)),
        start_offset=0,
        batch_games=128,
        batch_bytes=1 << 30,
    )
    batches = []
    while not (batch := batcher.next_batch()).last:
        batches.append(batch)
    batches.append(batch)
    ids = [row[1] for b in batches for row in b.rows]
    assert ids == [game_id(n) for n in range(700)]
    assert all(len(b.rows) == 128 for b in batches[:-2])
    assert [len(b.errors) for b in batches].count(1) == 1
    # Each batch ends where the games it holds end: resuming there reads the rest.
    ends = [b.end_offset for b in batches]
    assert ends[-1] == len(data)
    first = batches[0]
    rest = flat(in_process(chunks(data, first.end_offset), ParseSpec(encode=key_row)))
    assert [item[1] for item, _ in rest if isinstance(item, tuple)] == ids[128:]


def test_a_failure_in_a_parse_process_fails_the_import() -> None:
    pool = ParsePool(1, ParseSpec(encode=explode))
    try:
        with pytest.raises(RuntimeError, match="cannot encode"):
            list(pool.start(chunks(text())))
    finally:
        pool.close()


def test_a_parse_process_that_dies_fails_the_import() -> None:
    pool = ParsePool(1, ParseSpec(encode=key_row), depth=1)
    results = pool.start(chunks(text()))
    try:
        next(results)
        os.kill(pool.pids[0], 9)
        with pytest.raises(RuntimeError, match="parse process ended"):
            list(results)
    finally:
        pool.close()


def test_a_ctrl_c_while_a_parse_process_starts_does_not_reach_it() -> None:
    # A terminal's Ctrl-C goes to the whole group, parse processes included, and may come
    # while one is still importing our modules, before it can ignore SIGINT.
    spec = ParseSpec(encode=key_row)
    expected = flat(in_process(chunks(text()), spec))
    pool = ParsePool(2, spec, depth=2)
    try:
        results = pool.start(chunks(text()))
        for pid in pool.pids:
            os.kill(pid, signal.SIGINT)
        assert flat(results) == expected
    finally:
        pool.close()
    # and the job's own process still gets its Ctrl-C
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())


def test_closing_ends_the_processes_at_once() -> None:
    pool = ParsePool(2, ParseSpec(encode=key_row), depth=1)
    results = pool.start(chunks(text()))
    next(results)
    pids = pool.pids
    pool.close()
    for pid in pids:
        # Reaped by `close`: the pid is no process of ours any more.
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
