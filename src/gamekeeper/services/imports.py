"""Which files an import started over the API may read: only those in the configured
import folder (`GAMEKEEPER_IMPORT_DIR`), and never the database's own files.

The database's own files matter beyond secrecy: SQLite's locks are POSIX locks, held per
process and per file, and a process that opens and closes any descriptor of a locked
file drops every lock it holds on it. An import of the server's database (or of its
`-wal`/`-shm` files, or of a hard link to one of them) would silently unlock the
database under the server's own writers. The CLI's `gamekeeper import` is not limited:
whoever runs it already has the machine.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gamekeeper.domain.limits import check_text
from gamekeeper.errors import InvalidInput, PermissionDenied

#: What SQLite and gamekeeper keep next to a database file `NAME`: `NAME-wal`,
#: `NAME-shm`, `NAME-journal`, and the upstream gate's `NAME.upstream-HOST.lock`.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def protected_files(database: Path) -> list[Path]:
    """The database file and its companions (those that exist, and those that may)."""
    folder, name = database.parent, database.name
    found = [folder / f"{name}{suffix}" for suffix in DATABASE_SUFFIXES]
    with contextlib.suppress(OSError):
        found += sorted(folder.glob(f"{name}.*.lock"))
    return found


def _is_protected(path: Path, database: Path | None) -> bool:
    if database is None:
        return False
    real_db = database.resolve()
    if path.parent == real_db.parent and path.name.startswith(real_db.name):
        return True
    for other in protected_files(real_db):
        try:
            if os.path.samefile(path, other):  # a hard link has another name, same inode
                return True
        except OSError:
            continue
    return False


def resolve_import_path(value: object, *, folder: Path | None, database: Path | None) -> str:
    """The real path, inside `folder`, of the file an API import names; else a 4xx.

    `value` may be relative to the folder or absolute; `..` is refused outright, and a
    symbolic link is followed and must land inside the folder too.
    """
    if folder is None:
        raise PermissionDenied(
            "imports over the API are off: set GAMEKEEPER_IMPORT_DIR to a folder of PGN "
            "files on the server (the CLI's `gamekeeper import FILE` reads any file)"
        )
    if not isinstance(value, str) or not value:
        raise InvalidInput("give the path of a PGN file in the import folder")
    check_text("path", value)
    given = Path(value)
    if ".." in given.parts:
        raise InvalidInput("the path may not contain '..'")
    try:
        root = folder.resolve(strict=True)
        # Where the path leads (links followed) is checked before whether it exists:
        # the answer must not tell what exists outside the folder.
        real = (given if given.is_absolute() else root / given).resolve()
        if not real.is_relative_to(root):
            raise InvalidInput("the file is outside the import folder (GAMEKEEPER_IMPORT_DIR)")
        real = real.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a loop of links, a name too long...
        raise InvalidInput("no such file in the import folder") from None
    if _is_protected(real, database):
        raise InvalidInput("that is one of the server's own database files")
    return str(real)
