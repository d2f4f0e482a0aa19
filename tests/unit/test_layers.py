"""The import contracts hold, and they would catch a violation (each rule of DESIGN.md:
jobs don't see the SQL store, analysis sees only domain, errors and python-chess, the
edges don't import SQLAlchemy, api and web are peers, connectors don't read settings)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("layers") / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("jobs/manager.py", "import gamekeeper.storage.sql.store", "jobs know nothing"),
        ("jobs/runner.py", "import psycopg", "jobs know nothing"),
        ("analysis/__init__.py", "import gamekeeper.storage.base", "analysis imports only"),
        ("web/games.py", "import gamekeeper.api.deps", "api and web are peers"),
        ("api/views.py", "import sqlalchemy", "edges never import"),
        ("connectors/gate/upstreams.py", "import gamekeeper.settings", "connectors do not import"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    clean_copy: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(clean_copy, src)
    target = src / "gamekeeper" / module
    target.write_text(target.read_text() + f"\n{line}  # a deliberate violation\n")
    result = lint(src)
    assert result.returncode != 0
    assert contract in result.stdout
    assert "BROKEN" in result.stdout
