"""What a finished sync says about completeness: the site's count against ours, and why
they differ."""

from __future__ import annotations

from typing import Any


def reconciliation(
    *,
    site: str,
    site_total: int | None,
    stored: int,
    failed: int,
    ongoing: int,
    filtered: bool,
    without_moves: int = 0,
) -> dict[str, Any]:
    """A sync's result: counts and the reasons for any difference, in words."""
    reasons: list[str] = []
    if filtered:
        reasons.append("the sync was limited by its parameters (since/max)")
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
        "reasons": reasons,
    }
