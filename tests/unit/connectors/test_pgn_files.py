"""open_pgn: plain and compressed files stream the same games, with progress by bytes."""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from gamekeeper.connectors.pgn import PgnRecord, iter_pgn, open_pgn, read_pgn_games
from gamekeeper.domain.games import Game

CORPUS = Path(__file__).parents[2] / "fixtures" / "pgn" / "corpus.pgn"


def _zstd_frames(data: bytes) -> bytes:
    # Two frames, as a file written by two compressor runs (or `cat a.zst b.zst`).
    half = len(data) // 2
    compressor = zstandard.ZstdCompressor()
    return compressor.compress(data[:half]) + compressor.compress(data[half:])


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "games.pgn": lambda data: data,
    "games.pgn.gz": gzip.compress,
    "games.pgn.bz2": bz2.compress,
    "games.pgn.zst": _zstd_frames,
    "gzip-without-extension.pgn": gzip.compress,
}


@pytest.fixture
def data() -> bytes:
    return CORPUS.read_bytes() * 30


@pytest.mark.parametrize("name", COMPRESSORS)
def test_every_format_streams_the_same_records(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](data))
    with CORPUS.open("rb") as handle:
        expected = list(iter_pgn(handle))
    opened = open_pgn(path)
    assert opened.total_bytes == path.stat().st_size
    with opened.stream as stream:
        records = list(iter_pgn(stream, chunk_bytes=4096))
        assert opened.position() == opened.total_bytes
    assert len(records) == 30 * len(expected)
    assert [r.text for r in records[: len(expected)]] == [r.text for r in expected]
    assert records[-1].end_offset == len(data)


@pytest.mark.parametrize("name", ["games.pgn", "games.pgn.gz", "games.pgn.zst"])
def test_resume_in_a_compressed_file(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](data))
    with open_pgn(path).stream as stream:
        records = list(iter_pgn(stream))
    start = records[100].end_offset
    with open_pgn(path).stream as stream:
        assert list(iter_pgn(stream, start_offset=start)) == records[101:]


def test_progress_grows_while_reading(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "games.pgn.gz"
    path.write_bytes(gzip.compress(data * 20))
    opened = open_pgn(path)
    seen = []
    with opened.stream as stream:
        for index, _ in enumerate(iter_pgn(stream, chunk_bytes=16384)):
            if index % 500 == 0:
                seen.append(opened.position())
    assert seen == sorted(seen)
    assert 0 < seen[1] < opened.total_bytes


def test_closing_the_stream_closes_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "games.pgn.zst"
    path.write_bytes(_zstd_frames(data))
    opened = open_pgn(path)
    opened.stream.close()
    with pytest.raises(ValueError, match="closed"):
        opened.position()


def test_read_pgn_games_pairs_items_with_resume_offsets(tmp_path: Path) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(CORPUS.read_bytes() + b"\x00\x01 garbage\n")
    with open_pgn(path).stream as stream:
        items = list(read_pgn_games(stream))
    with open(path, "rb") as handle:
        records = [r for r in iter_pgn(handle) if isinstance(r, PgnRecord)]
    games = [item for item, _ in items if isinstance(item, Game)]
    assert len(games) == len(records)
    assert [end for item, end in items if isinstance(item, Game)] == [r.end_offset for r in records]
    assert items[-1][1] == path.stat().st_size
    assert not isinstance(items[-1][0], Game)


@pytest.mark.parametrize("name", ["games.pgn.gz", "games.pgn.bz2", "games.pgn.zst"])
@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_damaged_compressed_data_ends_the_stream_and_says_why(
    tmp_path: Path, data: bytes, name: str, damage: str
) -> None:
    whole = COMPRESSORS[name](data)
    # Not half-way: the zstandard file's second frame starts about there.
    middle = len(whole) * 3 // 5
    if damage == "truncated":
        broken = whole[:middle]
    else:
        broken = whole[:middle] + bytes(64) + whole[middle + 64 :]
    path = tmp_path / name
    path.write_bytes(broken)
    opened = open_pgn(path)
    with opened.stream as stream:
        items = list(iter_pgn(stream, chunk_bytes=4096))
        message = opened.damage()
    with CORPUS.open("rb") as handle:
        expected = [r.text for r in iter_pgn(handle)] * 30
    records = [r.text for r in items if isinstance(r, PgnRecord)]
    # Every game read is a game of the file, in order; the stream stopped at the damage.
    assert records == expected[: len(records)]
    assert len(records) < len(expected)
    assert message is not None
    assert "damaged compressed data near byte" in message


@pytest.mark.parametrize("name", COMPRESSORS)
def test_an_intact_file_reports_no_damage(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](data))
    opened = open_pgn(path)
    with opened.stream as stream:
        for _ in iter_pgn(stream):
            pass
        assert opened.damage() is None
