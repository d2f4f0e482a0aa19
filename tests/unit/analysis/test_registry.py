"""Third-party plugins through the entry points of an installed distribution."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from gamekeeper.analysis.registry import ENTRY_POINT_GROUP, available_plugins


def _install_fake_distribution(root: Path, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution importlib.metadata finds on sys.path, as pip would leave it."""
    info = root / "gk_fake_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gk-fake-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_fake_distribution(
        tmp_path,
        textwrap.dedent(
            """\
            opening_depth = gk_fake_good:OpeningDepth
            ply_parity = gk_fake_good:PARITY
            exploding = gk_fake_broken:Plugin
            not_a_plugin = gk_fake_good:NOT_A_PLUGIN
            impostor = gk_fake_good:Impostor
            missing = gk_fake_nowhere:Plugin
            """
        ),
        {
            "gk_fake_good": """
                class OpeningDepth:
                    name = "opening_depth"
                    version = "3"
                    needs_evals = False

                    def analyse(self, game, evals):
                        return min(len(game.moves or ()), 20)

                class _Parity:
                    name = "ply_parity"
                    version = "1"
                    needs_evals = True

                    def analyse(self, game, evals):
                        return len(evals) % 2

                PARITY = _Parity()
                NOT_A_PLUGIN = {"name": "dict"}

                class Impostor(OpeningDepth):
                    name = "accuracy"  # a built-in's name
            """,
            "gk_fake_broken": "raise RuntimeError('cannot import me')\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("gk_fake_good", "gk_fake_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_builtins_without_third_party_plugins() -> None:
    assert list(available_plugins()) == [
        "move_count",
        "eval_swing",
        "judgments",
        "acpl",
        "accuracy",
    ]


@pytest.mark.usefixtures("fake_distribution")
def test_entry_point_plugins_are_found_and_broken_ones_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugins = available_plugins()
    assert list(plugins) == [
        "move_count",
        "eval_swing",
        "judgments",
        "acpl",
        "accuracy",
        "opening_depth",
        "ply_parity",
    ]
    assert plugins["opening_depth"].version == "3"  # a class is instantiated
    assert plugins["ply_parity"].needs_evals is True  # an instance is used as it is
    assert type(plugins["accuracy"]).__module__ == "gamekeeper.analysis.plugins.accuracy"
    log = caplog.text
    assert "'exploding'" in log and "cannot import me" in log
    assert "'not_a_plugin'" in log and "is not a plugin" in log
    assert "'missing'" in log
    assert "'accuracy'" in log and "the name is taken" in log
