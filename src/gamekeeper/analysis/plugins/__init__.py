"""The built-in analysis plugins, one per module."""

from __future__ import annotations

from gamekeeper.analysis.base import AnalysisPlugin
from gamekeeper.analysis.plugins.accuracy import AccuracyPlugin
from gamekeeper.analysis.plugins.acpl import AcplPlugin
from gamekeeper.analysis.plugins.eval_swing import EvalSwingPlugin
from gamekeeper.analysis.plugins.judgments import JudgmentsPlugin
from gamekeeper.analysis.plugins.move_count import MoveCountPlugin

__all__ = [
    "AccuracyPlugin",
    "AcplPlugin",
    "EvalSwingPlugin",
    "JudgmentsPlugin",
    "MoveCountPlugin",
    "builtin_plugins",
]


def builtin_plugins() -> list[AnalysisPlugin]:
    """One instance of each built-in plugin."""
    return [MoveCountPlugin(), EvalSwingPlugin(), JudgmentsPlugin(), AcplPlugin(), AccuracyPlugin()]
