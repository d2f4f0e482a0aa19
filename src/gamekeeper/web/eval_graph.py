"""The game page's evaluation graph: an SVG string drawn on the server, like web/charts.py.

The y axis is White's winning chances (Lichess's curve over centipawns; a mate is the
edge), so a +9 and a +15 look alike and the swings that matter stand out. Judged moves
are dots (`j-inaccuracy`, `j-mistake`, `j-blunder`) linking to that ply, titled with the
move, its mark and the engine's best move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gamekeeper.domain.games import Eval
from gamekeeper.services.analyses import GameAnalysis, JudgedMove
from gamekeeper.web.charts import WIDTH, Plot, _e, _n, _svg
from gamekeeper.web.formatting import fmt_eval

HEIGHT = 180
#: Lichess's winning-chances slope (per centipawn).
SLOPE = 0.00368208


def chances(value: Eval | None) -> float | None:
    """White's winning chances in [-1, 1]; None without an evaluation."""
    if value is None:
        return None
    if value.mate is not None:
        return 1.0 if value.mate > 0 else -1.0
    if value.cp is None:
        return None
    return 2 / (1 + math.exp(-SLOPE * value.cp)) - 1


def move_label(move: JudgedMove) -> str:
    """`12. Nxe5?? +1.20 → -2.30, best Nf3`-style words for a dot's title."""
    number = (move.ply + 1) // 2
    dots = "." if move.ply % 2 else "..."
    text = f"{number}{dots} {move.san}{move.symbol}"
    if move.eval is not None:
        text += f" ({fmt_eval(move.eval)})"
    if move.judgment:
        text += f": {move.judgment}"
    if move.best:
        text += f", best was {move.best}"
    return text


def _points(moves: Sequence[JudgedMove], plot: Plot) -> list[tuple[float, float, JudgedMove]]:
    step = plot.width / max(1, len(moves))
    points = []
    for move in moves:
        value = chances(move.eval)
        if value is not None:
            y = plot.top + plot.height * (1 - value) / 2
            points.append((plot.left + step * move.ply, y, move))
    return points


def eval_graph(analysis: GameAnalysis, *, flip: str = "", chart_id: str = "eval-graph") -> str:
    """The graph for `analysis`; `flip` (e.g. "&flip=1") is kept on the dots' links."""
    plot = Plot(left=8, top=8, right=WIDTH - 8, bottom=HEIGHT - 8)
    mid = plot.top + plot.height / 2
    title = "Evaluation graph"
    points = _points(analysis.moves, plot)
    body = [
        f'<rect class="eval-bg" x="{_n(plot.left)}" y="{_n(plot.top)}" '
        f'width="{_n(plot.width)}" height="{_n(plot.height)}"/>',
    ]
    if points:
        start = f"{_n(plot.left)},{_n(mid)}"
        line = " ".join(f"{_n(x)},{_n(y)}" for x, y, _ in points)
        end = f"{_n(points[-1][0])},{_n(mid)}"
        body.append(f'<polygon class="eval-area" points="{start} {line} {end}"/>')
        body.append(f'<polyline class="eval-line" points="{start} {line}"/>')
    body.append(
        f'<line class="eval-mid" x1="{_n(plot.left)}" x2="{_n(plot.right)}" '
        f'y1="{_n(mid)}" y2="{_n(mid)}"/>'
    )
    for x, y, move in points:
        if move.judgment:
            body.append(
                f'<a href="?ply={move.ply}{_e(flip)}" data-judged-ply="{move.ply}" '
                f'aria-label="{_e(move_label(move))}">'
                f'<circle class="dot j-{_e(move.judgment)}" cx="{_n(x)}" cy="{_n(y)}" r="4">'
                f"<title>{_e(move_label(move))}</title></circle></a>"
            )
    judged = [m for m in analysis.moves if m.judgment]
    desc = (
        f"White's winning chances after each of {len(analysis.moves)} moves; "
        f"{len(judged)} judged: "
        + (", ".join(move_label(m) for m in judged) if judged else "none")
        + "."
    )
    return _svg(chart_id, HEIGHT, title, desc, body)
