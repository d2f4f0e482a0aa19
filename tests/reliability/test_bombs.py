"""Decompression bombs (1 GiB of zeros, gzip / bzip2 / zstandard, made at test time) are
read in a child process whose peak RSS stays flat: the read ends with a clear result."""

from __future__ import annotations

import bz2
import json
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

BOMB_BYTES = 1024**3
STEP = 16 * 1024 * 1024
#: Peak RSS allowed in the child (python + the package + bounded buffers).
MAX_RSS_MB = 300

CHILD = """
import json, sys
from gamekeeper.connectors.pgn import PgnError, open_pgn, read_pgn_games
opened = open_pgn(sys.argv[1])
games = errors = 0
with opened.stream:
    for item, _ in read_pgn_games(opened.stream):
        if isinstance(item, PgnError):
            errors += 1
        else:
            games += 1
    consumed = opened.position()
# VmHWM is this process's own peak: ru_maxrss carries the parent's peak over exec
# (a test process of 1 GB made every child look like 1 GB).
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
rss_mb = int(hwm.split()[1]) / 1024
print(json.dumps({"games": games, "errors": errors, "rss_mb": rss_mb,
                  "consumed": consumed, "total": opened.total_bytes}))
"""


def _write(path: Path, compress: Callable[[bytes], bytes], flush: Callable[[], bytes]) -> Path:
    zeros = bytes(STEP)
    with path.open("wb") as out:
        for _ in range(BOMB_BYTES // STEP):
            out.write(compress(zeros))
        out.write(flush())
    return path


def _gzip(path: Path) -> Path:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    return _write(path, c.compress, c.flush)


def _bz2(path: Path) -> Path:
    c = bz2.BZ2Compressor(1)
    return _write(path, c.compress, c.flush)


def _zstd(path: Path) -> Path:
    c = zstandard.ZstdCompressor(level=1).compressobj()
    return _write(path, c.compress, c.flush)


@pytest.mark.parametrize(
    ("name", "make"), [("bomb.pgn.gz", _gzip), ("bomb.pgn.bz2", _bz2), ("bomb.pgn.zst", _zstd)]
)
def test_a_bomb_is_read_in_flat_memory(
    tmp_path: Path, name: str, make: Callable[[Path], Path]
) -> None:
    bomb = make(tmp_path / name)
    assert bomb.stat().st_size < BOMB_BYTES // 100  # it is a bomb
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(bomb)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result["games"] == 0
    assert result["consumed"] == result["total"]  # read to the end, not given up on
    assert result["rss_mb"] < MAX_RSS_MB, result
