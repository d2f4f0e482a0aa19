"""The accuracy-over-time chart and the means behind it."""

from __future__ import annotations

import re

from gamekeeper.services.stats import AccuracyMean, accuracy_stats
from gamekeeper.storage.stats import AccuracyTally
from gamekeeper.web.accuracy_chart import accuracy_chart


def test_means_combine_sums_across_speeds_and_months() -> None:
    stats = accuracy_stats(
        [
            AccuracyTally(month="2025-01", speed="blitz", games=2, total=150.5),
            AccuracyTally(month="2025-01", speed="rapid", games=1, total=90.0),
            AccuracyTally(month="2025-04", speed="blitz", games=1, total=70.0),
            AccuracyTally(month=None, speed=None, games=1, total=50.0),
            AccuracyTally(month="2025-04", speed="bullet", games=3, total=180.0),
        ]
    )
    assert stats.by_month == (
        AccuracyMean(key="2025-01", games=3, accuracy=80.17),  # 240.5 / 3
        AccuracyMean(key="2025-04", games=4, accuracy=62.5),
    )
    assert [(m.key, m.games, m.accuracy) for m in stats.by_speed] == [
        ("bullet", 3, 60.0),
        ("blitz", 3, 73.5),
        ("rapid", 1, 90.0),
        ("unknown", 1, 50.0),
    ]


def test_chart_places_months_on_a_time_axis() -> None:
    months = [
        AccuracyMean(key="2024-11", games=2, accuracy=50.0),
        AccuracyMean(key="2024-12", games=1, accuracy=100.0),
        AccuracyMean(key="2025-03", games=4, accuracy=75.25),
    ]
    svg = accuracy_chart(months)
    dots = re.findall(r'<circle class="dot s-0" cx="([\d.]+)" cy="([\d.]+)"', svg)
    xs = [float(x) for x, _ in dots]
    ys = [float(y) for _, y in dots]
    # Four months from the first to the last: the gap (Jan, Feb) keeps its width.
    assert xs[1] - xs[0] == (xs[2] - xs[0]) / 4
    # 100 % is the top of the plot, 50 % half way down, whatever the data.
    assert ys[1] == 16 and ys[0] == 16 + (250 - 16) / 2
    assert "<title>2025-03: 75.25% (4 games)</title>" in svg
    assert "<title>2024-12: 100.00% (1 game)</title>" in svg
    assert ">Nov 2024<" in svg and ">Jan 2025<" in svg
    assert "over 7 analysed games, 2024-11 to 2025-03: from 50.00% to 75.25%." in svg


def test_no_analysed_games_says_so() -> None:
    assert "No analysed games yet." in accuracy_chart([])
