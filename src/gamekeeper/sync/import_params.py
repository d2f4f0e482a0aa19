"""What an import takes: the file's path and the batch size, checked before a job is
made (light: the CLI's parser uses it without loading the PGN reader)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from gamekeeper.domain.limits import check_text
from gamekeeper.errors import InvalidInput

#: Games per checkpoint: a transaction's cost is well amortised, and a crash re-reads
#: little.
BATCH_GAMES: Final = 2000
#: ... or this much PGN text, whichever comes first, so that a batch of games with
#: huge comments stays small in memory.
BATCH_BYTES: Final = 8 * 1024 * 1024
#: Bounds of the `batch_games` parameter.
MAX_BATCH_GAMES: Final = 100_000
#: The longest path taken (Linux's PATH_MAX).
MAX_PATH_LENGTH: Final = 4096


def check_path(value: object) -> str:
    """`value` if it is the absolute path of a readable regular file; else `InvalidInput`."""
    if not isinstance(value, str) or not value:
        raise InvalidInput("give the path of a PGN file")
    check_text("path", value, max_length=MAX_PATH_LENGTH)
    path = Path(value)
    if not path.is_absolute():
        raise InvalidInput(
            f"{_shown(value)}: give an absolute path (it is read where the job runs)"
        )
    try:
        if not path.exists():
            raise InvalidInput(f"cannot import {_shown(value)}: no such file")
        if not path.is_file():
            raise InvalidInput(f"cannot import {_shown(value)}: not a regular file")
    except OSError as exc:  # a name too long for the file system, a loop of links...
        raise InvalidInput(f"cannot import {_shown(value)}: {exc.strerror or exc}") from None
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"cannot import {_shown(value)}: permission denied")
    return value


def _shown(path: str) -> str:
    """A path as an error message quotes it: a hostile one can be kilobytes long."""
    return path if len(path) <= 200 else f"{path[:100]}...{path[-60:]}"


def validate_import(parameters: Mapping[str, Any]) -> None:
    check_path(parameters.get("path"))
    batch_games = parameters.get("batch_games", BATCH_GAMES)
    if not 1 <= batch_games <= MAX_BATCH_GAMES:
        raise InvalidInput(f"batch_games must be between 1 and {MAX_BATCH_GAMES:,}")
