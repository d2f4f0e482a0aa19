"""The "accuracy over time" chart: the players' mean accuracy per month, as SVG.

Drawn like the charts in `charts.py` (same classes, `<title>`/`<desc>`, no script).
Months sit on a time axis from the first analysed month to the last, so a month without
analysed games is a gap in the dots, not a squeezed-out column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gamekeeper.services.stats import AccuracyMean
from gamekeeper.web.charts import (
    MONTHS,
    WIDTH,
    Plot,
    _e,
    _n,
    _svg,
    _x_tick,
    _y_axis,
    empty_chart,
)

#: Accuracy is a percentage: the axis always shows all of it, so months compare honestly.
Y_TICKS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
#: At most this many month labels under the axis.
MAX_LABELS = 8


def month_index(month: str) -> int:
    """`YYYY-MM` as a count of months, so months subtract."""
    year, number = (int(part) for part in month.split("-"))
    return year * 12 + number - 1


def _labels(first: int, last: int) -> list[tuple[int, str]]:
    """Month ticks (every month, or every few), naming the year on the first and on
    each January."""
    stride = max(1, math.ceil((last - first + 1) / MAX_LABELS))
    ticks = []
    for index in range(first, last + 1, stride):
        year, month = divmod(index, 12)
        new_year = index == first or month == 0 or (index - stride) // 12 != year
        ticks.append((index, MONTHS[month] + (f" {year}" if new_year else "")))
    return ticks


def accuracy_chart(months: Sequence[AccuracyMean], *, chart_id: str = "chart-accuracy") -> str:
    """A line through each month's mean accuracy (0-100), a dot per month with its games."""
    title = "Accuracy over time"
    if not months:
        return empty_chart(chart_id, title, "No analysed games yet.")
    first, last = month_index(months[0].key), month_index(months[-1].key)
    height = 280.0
    plot = Plot(left=48, top=16, right=WIDTH - 16, bottom=height - 30)

    def x_of(index: int) -> float:
        if first == last:
            return plot.left + plot.width / 2
        return plot.left + plot.width * (index - first) / (last - first)

    def y_of(accuracy: float) -> float:
        return plot.bottom - plot.height * accuracy / Y_TICKS[-1]

    body = _y_axis(plot, Y_TICKS, y_of, "{:.0f}%")
    body.extend(_x_tick(plot, x_of(index), label) for index, label in _labels(first, last))
    coords = [(x_of(month_index(m.key)), y_of(m.accuracy)) for m in months]
    if len(coords) > 1:
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
        body.append(f'<polyline class="line s-0" points="{path}"/>')
    for (x, y), m in zip(coords, months, strict=True):
        games = "game" if m.games == 1 else "games"
        body.append(
            f'<circle class="dot s-0" cx="{_n(x)}" cy="{_n(y)}" r="3.5">'
            f"<title>{_e(m.key)}: {m.accuracy:.2f}% ({m.games} {games})</title></circle>"
        )
    total = sum(m.games for m in months)
    desc = (
        f"Mean accuracy per month over {total:,} analysed {'game' if total == 1 else 'games'}, "
        f"{months[0].key} to "
        f"{months[-1].key}: from {months[0].accuracy:.2f}% to {months[-1].accuracy:.2f}%."
    )
    return _svg(chart_id, height, title, desc, body)
