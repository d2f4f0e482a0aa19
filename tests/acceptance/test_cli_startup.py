"""What a command loads: `gamekeeper jobs list` and `--help` import none of the server,
the emulators, Alembic, procrastinate, httpx or python-chess (start-up time; the
figures are in `bench/startup.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from gamekeeper.storage import migrator

#: Modules (and their submodules) a light command must not load.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "gamekeeper.web",
    "gamekeeper.api",
    "gamekeeper.app",
    "gamekeeper.emulators",
    "alembic",
    "procrastinate",
    "httpx",
    "chess",
    "gamekeeper.connectors.pgn",  # the PGN reader and writer: only imports and exports
)

#: Runs the CLI in-process, then prints the modules it loaded.
PROBE = """
import json, sys
from gamekeeper.cli.main import run
try:
    code = run(sys.argv[1:])
except SystemExit as exc:  # --help
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


@pytest.mark.parametrize("args", [("jobs", "list"), ("--help",), ("sync", "--help")])
def test_light_commands_load_no_heavy_module(
    gamekeeper_env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    # The first command on a new database migrates it (that one may load Alembic).
    first, _ = loaded(gamekeeper_env, tmp_path, "jobs", "list")
    assert first == 0
    code, modules = loaded(gamekeeper_env, tmp_path, *args)
    assert code == 0
    assert heavy_in(modules) == []
    if args == ("jobs", "list"):
        assert "gamekeeper.storage.sql.store" in modules  # the probe did see the real run


def test_a_database_behind_is_migrated_on_start(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    engine = sa.create_engine(gamekeeper_env["GAMEKEEPER_DATABASE_URL"])
    try:
        migrator.upgrade(engine, "0004")
        code, modules = loaded(gamekeeper_env, tmp_path, "jobs", "list")
        assert code == 0
        assert "alembic" in modules
        assert migrator.current_revision(engine) == migrator.HEAD_REVISION
    finally:
        engine.dispose()


def test_heavy_in_finds_submodules() -> None:
    assert heavy_in({"fastapi.routing", "gamekeeper.webhooks", "chess", "chessboard"}) == [
        "chess",
        "fastapi.routing",
    ]
