"""Run `gamekeeper` as a subprocess, the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Gamekeeper = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gamekeeper_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
    env["GAMEKEEPER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["COLUMNS"] = "200"  # Rich wraps at the terminal width; keep lines whole
    return env


@pytest.fixture
def gamekeeper(gamekeeper_env: dict[str, str], tmp_path: Path) -> Gamekeeper:
    def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gamekeeper", *args],
            env={**gamekeeper_env, **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    """`gamekeeper ARGS` in the background, its output piped (use it as a context manager)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
