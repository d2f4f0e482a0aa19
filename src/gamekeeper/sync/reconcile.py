"""What a finished sync says about completeness: the site's count against ours, and why
they differ, naming the stretches of history that were never fetched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: A stretch never fetched: (from, to) as shown to people (from None: the beginning).
Missing = tuple[str | None, str]


def describe_missing(missing: Sequence[Missing]) -> str:
    """`before 2024-03-01`, `between 2024-01-05 and 2024-02-01`, joined."""
    parts = [
        f"before {end}" if start is None else f"between {start} and {end}" for start, end in missing
    ]
    return ", ".join(parts)


def reconciliation(
    *,
    site: str,
    site_total: int | None,
    stored: int,
    failed: int,
    ongoing: int,
    limits: Sequence[str] = (),
    missing: Sequence[Missing] = (),
    without_moves: int = 0,
    unit: str = "games",
) -> dict[str, Any]:
    """A sync's result: counts, the stretches never fetched, and the reasons for any
    difference, in words.

    Args:
        limits: What this run was limited to, in words (a date, a number of games).
        missing: The account's stretches of history no sync has fetched yet.
        unit: What `missing` is made of, for the wording ("games", "months").
    """
    reasons: list[str] = list(limits)
    if missing:
        reasons.append(
            f"{unit} {describe_missing(missing)} are not stored yet (this account was synced "
            "only from a date on); a sync without since or months_requested fetches them"
        )
    if failed:
        reasons.append(f"{failed} records could not be parsed (see the job's errors)")
    if ongoing:
        reasons.append(f"{ongoing} games are still being played; they are re-checked next sync")
    difference = None if site_total is None else site_total - stored
    if difference and not reasons:
        reasons.append(
            "the site's count includes games its export does not return"
            if difference > 0
            else "more games are stored than the site counts (e.g. games imported from PGN)"
        )
    return {
        "site": site,
        "site_total": site_total,
        "stored": stored,
        "difference": difference,
        "ongoing": ongoing,
        "unparseable": failed,
        "without_moves": without_moves,
        "missing": [{"from": start, "to": end} for start, end in missing],
        "reasons": reasons,
    }
