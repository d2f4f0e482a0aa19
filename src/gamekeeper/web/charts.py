"""Charts as SVG strings, drawn by hand: pure functions from statistics to markup.

No charting library and no script: the server sends finished pictures. Colours come
from CSS classes (`s-0`…`s-7` for lines, `c-win`/`c-draw`/`c-loss`/`c-other` for
outcomes) so the page's light and dark themes apply. Every chart has a `<title>` and
`<desc>`; the page adds the numbers as a table for screen readers and the curious.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from gamekeeper.services.stats import OpeningResult, RatingSeries
from gamekeeper.storage.stats import MonthTally

WIDTH = 720
LINE_CLASSES = 8
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Draw a dot on every point while the chart has at most this many (else just lines).
MAX_DOTS = 120
OUTCOMES = (("wins", "c-win", "Wins"), ("draws", "c-draw", "Draws"), ("losses", "c-loss", "Losses"))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """Coordinates with one decimal at most: smaller markup, no visible difference."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Plot:
    """Where the data goes inside the picture."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(chart_id: str, height: float, title: str, desc: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_e(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" role="img" '
        f'aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc">'
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>'
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>' + "".join(body) + "</svg>"
    )


def empty_chart(chart_id: str, title: str, message: str) -> str:
    """A placeholder with the reason there is nothing to draw."""
    text = (
        f'<text class="chart-empty" x="{WIDTH / 2}" y="60" text-anchor="middle">'
        f"{_e(message)}</text>"
    )
    return _svg(chart_id, 120, title, message, [text])


def _legend(items: Sequence[tuple[str, str]], y: float, x: float = 0) -> list[str]:
    """Swatches and labels in a row (`items`: css class, label)."""
    parts = []
    for css, label in items:
        parts.append(
            f'<rect class="swatch {css}" x="{_n(x)}" y="{_n(y - 9)}" width="12" height="12"/>'
            f'<text class="legend" x="{_n(x + 17)}" y="{_n(y + 1)}">{_e(label)}</text>'
        )
        x += 17 + 7.2 * len(label) + 18
    return parts


def _x_tick(plot: Plot, x: float, label: str) -> str:
    """A tick mark under the plot at `x`, with its label."""
    return (
        f'<line class="axis" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(plot.bottom)}" '
        f'y2="{_n(plot.bottom + 4)}"/>'
        f'<text class="tick" x="{_n(x)}" y="{_n(plot.bottom + 18)}" '
        f'text-anchor="middle">{_e(label)}</text>'
    )


def _y_axis(
    plot: Plot, ticks: Sequence[float], y_of: Callable[[float], float], fmt: str = "{:,.0f}"
) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line class="grid" x1="{_n(plot.left)}" x2="{_n(plot.right)}" '
            f'y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{_n(plot.left - 6)}" y="{_n(y + 4)}" '
            f'text-anchor="end">{_e(fmt.format(tick))}</text>'
        )
    return parts


# -- rating over time ---------------------------------------------------------------------


def _time_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Month starts (or years, for long spans) inside [first, last], at most about eight;
    a label names its year when it is the first or the year changed."""
    span = (last - first).days
    if span > 3 * 366:
        return [(date(y, 1, 1), str(y)) for y in range(first.year + 1, last.year + 1)]
    starts: list[date] = []
    year, month = first.year, first.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if date(year, month, 1) > last:
            break
        starts.append(date(year, month, 1))
    if not starts:
        return (
            [(first, first.isoformat()), (last, last.isoformat())]
            if span
            else [(first, str(first))]
        )
    starts = starts[:: math.ceil(len(starts) / 8)]
    ticks = []
    for index, start in enumerate(starts):
        new_year = index == 0 or start.year != starts[index - 1].year
        label = MONTHS[start.month - 1] + (f" {start.year}" if new_year else "")
        ticks.append((start, label))
    return ticks


def rating_chart(series: Sequence[RatingSeries], *, chart_id: str = "chart-ratings") -> str:
    """A line per site and speed: the average rating on each day (or week, or month)."""
    title = "Rating over time"
    points = [p for s in series for p in s.points]
    if not points:
        return empty_chart(chart_id, title, "No rated standard games yet.")
    days = [date.fromisoformat(p.day) for p in points]
    first, last = min(days), max(days)
    low, high = min(p.rating for p in points), max(p.rating for p in points)
    y_ticks = nice_ticks(low - 10, high + 10, 5)
    legend_rows = 1 + len(series) // 5
    height = 300 + 22 * legend_rows
    plot = Plot(left=56, top=22 * legend_rows + 14, right=WIDTH - 16, bottom=height - 30)
    span_days = max(1, (last - first).days)

    def x_of(day: date) -> float:
        if first == last:
            return plot.left + plot.width / 2
        return plot.left + plot.width * (day - first).days / span_days

    def y_of(rating: float) -> float:
        lo, hi = y_ticks[0], y_ticks[-1]
        return plot.bottom - plot.height * (rating - lo) / (hi - lo)

    body = _y_axis(plot, y_ticks, y_of)
    body.extend(_x_tick(plot, x_of(day), label) for day, label in _time_ticks(first, last))
    legend: list[tuple[str, str]] = []
    dots = len(points) <= MAX_DOTS
    for index, line in enumerate(series):
        css = f"s-{index % LINE_CLASSES}"
        legend.append((css, line.label))
        coords = [(x_of(date.fromisoformat(p.day)), y_of(p.rating)) for p in line.points]
        if len(coords) > 1:
            path = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
            body.append(f'<polyline class="line {css}" points="{path}"><title>{_e(line.label)}'
                        f"</title></polyline>")  # fmt: skip
        if dots or len(coords) == 1:
            for (x, y), p in zip(coords, line.points, strict=True):
                games = "game" if p.games == 1 else "games"
                body.append(
                    f'<circle class="dot {css}" cx="{_n(x)}" cy="{_n(y)}" r="3">'
                    f"<title>{_e(line.label)} {_e(p.day)}: {p.rating} ({p.games} {games})</title>"
                    "</circle>"
                )
    for row in range(legend_rows):
        body.extend(_legend(legend[row * 5 : row * 5 + 5], y=16 + 22 * row, x=plot.left))
    lines = ", ".join(
        f"{s.label} from {s.points[0].rating} to {s.points[-1].rating}" for s in series if s.points
    )
    desc = f"Average rating per period, {first.isoformat()} to {last.isoformat()}: {lines}."
    return _svg(chart_id, height, title, desc, body)


# -- results by opening -------------------------------------------------------------------

ROW = 30
LABEL_WIDTH = 200
SCORE_WIDTH = 64


def _truncate(text: str, limit: int = 27) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def openings_chart(results: Sequence[OpeningResult], *, color: str, chart_id: str) -> str:
    """A stacked bar per opening family: wins, draws and losses, bar length = games."""
    title = f"Results by opening as {color.capitalize()}"
    if not results:
        return empty_chart(chart_id, title, f"No finished games as {color.capitalize()} yet.")
    top = 34.0
    height = top + ROW * len(results) + 8
    plot = Plot(left=LABEL_WIDTH, top=top, right=WIDTH - SCORE_WIDTH, bottom=height - 8)
    most = max(r.games for r in results)
    body = _legend([(css, label) for _, css, label in OUTCOMES], y=16, x=plot.left)
    body.append(f'<text class="tick" x="{WIDTH - 4}" y="17" text-anchor="end">score</text>')
    for index, r in enumerate(results):
        y = top + index * ROW
        label = _truncate(r.name)
        eco = f" ({r.eco})" if r.eco else ""
        summary = (
            f"{r.name}{eco}: {r.games} games, {r.wins} wins, {r.draws} draws, "
            f"{r.losses} losses, score {r.score:.0%}"
        )
        body.append(f'<g class="bar-row"><title>{_e(summary)}</title>')
        body.append(
            f'<text class="label" x="{_n(plot.left - 8)}" y="{_n(y + ROW / 2 + 4)}" '
            f'text-anchor="end">{_e(label)}</text>'
        )
        x = plot.left
        for field, css, _ in OUTCOMES:
            count = getattr(r, field)
            if not count:
                continue
            width = plot.width * count / most
            body.append(
                f'<rect class="{css}" x="{_n(x)}" y="{_n(y + 5)}" width="{_n(width)}" '
                f'height="{ROW - 10}"/>'
            )
            if width >= 22:
                body.append(
                    f'<text class="in-bar in-{css}" x="{_n(x + width / 2)}" '
                    f'y="{_n(y + ROW / 2 + 4)}" text-anchor="middle">{count}</text>'
                )
            x += width
        body.append(
            f'<text class="value" x="{WIDTH - 4}" y="{_n(y + ROW / 2 + 4)}" '
            f'text-anchor="end">{r.score:.0%}</text></g>'
        )
    desc = "; ".join(f"{r.name}: {r.wins} won, {r.draws} drawn, {r.losses} lost" for r in results)
    return _svg(chart_id, height, title, desc + ".", body)


# -- games per month ----------------------------------------------------------------------


def fill_months(months: Sequence[MonthTally]) -> list[MonthTally]:
    """Every month from the first to the last, empty months included (time stays honest)."""
    if not months:
        return []
    known = {m.month: m for m in months}
    year, month = (int(part) for part in months[0].month.split("-"))
    last = months[-1].month
    filled = []
    while True:
        key = f"{year:04d}-{month:02d}"
        filled.append(known.get(key) or MonthTally(month=key, wins=0, draws=0, losses=0, other=0))
        if key >= last:
            return filled
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _month_label(index: int, months: Sequence[MonthTally], years: int) -> str:
    """Every month for a year or less, quarters up to three years, then years; the first
    label and each January name the year."""
    year, month = (int(part) for part in months[index].month.split("-"))
    if len(months) > 36:
        stride = max(1, math.ceil(years / 10))
        shown = (month == 1 and year % stride == 0) or (index == 0 and month <= 7)
        return str(year) if shown else ""
    if len(months) > 12 and month not in (1, 4, 7, 10):
        return ""
    first_label = index == 0 if len(months) <= 12 else index < 3
    return MONTHS[month - 1] + (f" {year}" if first_label or month == 1 else "")


def monthly_chart(months: Sequence[MonthTally], *, chart_id: str = "chart-monthly") -> str:
    """Games per month as bars, split into wins, draws, losses and unfinished games."""
    title = "Games per month"
    filled = fill_months(months)
    if not filled:
        return empty_chart(chart_id, title, "No games yet.")
    totals = [m.wins + m.draws + m.losses + m.other for m in filled]
    y_ticks = nice_ticks(0, max(max(totals), 1), 4)
    height = 300.0
    plot = Plot(left=48, top=34, right=WIDTH - 12, bottom=height - 30)
    slot = plot.width / len(filled)
    bar = max(1.0, slot * 0.78)

    def y_of(count: float) -> float:
        return plot.bottom - plot.height * count / y_ticks[-1]

    body = _legend(
        [*((css, label) for _, css, label in OUTCOMES), ("c-other", "Unfinished")],
        y=16,
        x=plot.left,
    )
    body.extend(_y_axis(plot, y_ticks, y_of))
    years = len({m.month[:4] for m in filled})
    for index, (m, total) in enumerate(zip(filled, totals, strict=True)):
        x = plot.left + index * slot + (slot - bar) / 2
        y = plot.bottom
        body.append(
            f'<g class="bar"><title>{_e(m.month)}: {total} games ({m.wins} won, {m.draws} '
            f"drawn, {m.losses} lost, {m.other} unfinished)</title>"
        )
        for count, css in ((m.wins, "c-win"), (m.draws, "c-draw"), (m.losses, "c-loss"),
                           (m.other, "c-other")):  # fmt: skip
            if count:
                h = plot.height * count / y_ticks[-1]
                y -= h
                body.append(
                    f'<rect class="{css}" x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" '
                    f'height="{_n(h)}"/>'
                )
        body.append("</g>")
        label = _month_label(index, filled, years)
        if label:
            body.append(
                f'<text class="tick" x="{_n(x + bar / 2)}" y="{_n(plot.bottom + 18)}" '
                f'text-anchor="middle">{_e(label)}</text>'
            )
    busiest = max(range(len(filled)), key=lambda i: totals[i])
    desc = (
        f"{sum(totals):,} games from {filled[0].month} to {filled[-1].month}; "
        f"the busiest month was {filled[busiest].month} with {totals[busiest]:,}."
    )
    return _svg(chart_id, height, title, desc, body)
