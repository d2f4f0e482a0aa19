"""What an account's syncs have fetched of its history: spans known to be stored whole.

A sync limited by a date (`since`, `months_requested`) fetches a later part of the
history; recording it as "everything up to here is stored" would hide the older games
for good. So a cursor keeps spans instead: each one starts where it is known to be
complete and ends where the next fetch must resume (inclusive: what shares that point
is asked for again, the upsert dedupes). A plain sync fetches the gaps between them
and the tail after the last; a filtered sync fetches only what it asked for and never
makes the history before it look complete.

Points are integers: milliseconds for Lichess, month numbers for Chess.com
(`month_index`). `None` as a start means "from the very beginning".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of history stored whole."""

    #: The first point stored whole (inclusive); None: from the very beginning.
    start: int | None
    #: Where the next fetch resumes (inclusive).
    end: int


#: A stretch to fetch: from (inclusive; None = the beginning) to (None = no end).
Segment = tuple[int | None, int | None]


def _low(point: int | None) -> float:
    return float("-inf") if point is None else point


@dataclass(frozen=True, slots=True)
class Coverage:
    """Disjoint spans, oldest first."""

    spans: tuple[Span, ...] = ()

    @property
    def frontier(self) -> int | None:
        """The end of the span that starts at the beginning: everything before it is
        stored. None when the oldest games have never been fetched."""
        if self.spans and self.spans[0].start is None:
            return self.spans[0].end
        return None

    @property
    def newest(self) -> int | None:
        """The end of the newest span (None if nothing was fetched)."""
        return self.spans[-1].end if self.spans else None

    def add(self, start: int | None, end: int) -> Coverage:
        """These spans and `[start, end]`, merged where they meet or overlap."""
        if start is not None and end < start:
            end = start
        merged: list[Span] = []
        for span in sorted([*self.spans, Span(start, end)], key=lambda s: _low(s.start)):
            if merged and _low(span.start) <= merged[-1].end:
                last = merged[-1]
                merged[-1] = Span(last.start, max(last.end, span.end))
            else:
                merged.append(span)
        return Coverage(tuple(merged))

    def segments(self, start: int | None = None) -> list[Segment]:
        """What to fetch from `start` on: each gap between spans, then the tail after
        the last one. A segment begins where a span resumes and ends where the next
        one starts."""
        position = start
        found: list[Segment] = []
        for span in self.spans:
            if span.end < _low(position):
                continue
            if _low(span.start) <= _low(position):
                position = span.end if position is None else max(position, span.end)
                continue
            found.append((position, span.start))
            position = span.end
        found.append((position, None))
        return found

    def gaps(self) -> list[tuple[int | None, int]]:
        """The stretches before the newest stored point that were never fetched."""
        return [(s, e) for s, e in self.segments() if e is not None]

    def to_json(self) -> list[list[int | None]]:
        return [[span.start, span.end] for span in self.spans]

    @classmethod
    def from_json(cls, value: Any) -> Coverage:
        coverage = cls()
        if isinstance(value, list):
            for item in value:
                if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], int):
                    start = item[0] if isinstance(item[0], int) else None
                    coverage = coverage.add(start, item[1])
        return coverage

    @classmethod
    def of(cls, spans: Iterable[tuple[int | None, int]]) -> Coverage:
        coverage = cls()
        for start, end in spans:
            coverage = coverage.add(start, end)
        return coverage


def month_index(month: str) -> int:
    """`2024/05` → a month number that orders months (`month_name` reverses it)."""
    year, _, number = month.partition("/")
    return int(year) * 12 + int(number) - 1


def month_name(index: int) -> str:
    year, number = divmod(index, 12)
    return f"{year:04d}/{number + 1:02d}"
