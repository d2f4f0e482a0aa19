"""Jobs as the Tasks page shows them: titles, progress, counters and the final summary.

`static/tasks.js` updates the same markup from the API's job JSON while a job runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import ItemError, Job

JOB_TITLES = {
    "sync_games": "Full sync",
    "sync_metadata": "Two-stage sync (metadata)",
    "sync_moves": "Moves backfill",
    "import_pgn": "PGN import",
    "analyze": "Analysis",
    "crawl_opponents": "Opponent crawl",
}

COUNTER_LABELS = {
    "found": "found",
    "inserted": "new",
    "updated": "updated",
    "skipped_existing": "unchanged",
    "enriched": "with moves",
    "analyzed": "analysed",
    "failed": "failed",
}

#: Item errors a card lists (the job keeps 50; the `failed` counter has the total).
CARD_ERRORS = 5

#: Keys of a sync's reconciliation shown as its headline rather than as plain facts.
RECONCILIATION_KEYS = frozenset({"site", "site_total", "stored", "difference", "reasons"})


def job_title(job_type: str) -> str:
    return JOB_TITLES.get(job_type, job_type.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a finished job's `result` says: the site's count against ours, and the rest."""

    site: str | None = None
    site_total: int | None = None
    stored: int | None = None
    difference: int | None = None
    reasons: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()

    @property
    def reconciled(self) -> bool:
        return self.stored is not None


def _facts(result: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in result.items():
        if not prefix and key in RECONCILIATION_KEYS:
            continue
        label = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, Mapping):
            yield from _facts(value, prefix=f"{label} ")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            yield label, f"{value:,}"
        elif isinstance(value, float | str):
            yield label, str(value)


def summarise(result: Any) -> Summary | None:
    """A job's `result` for people; None when the job left none."""
    if not isinstance(result, Mapping):
        return None

    def number(key: str) -> int | None:
        value = result.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    reasons = result.get("reasons")
    return Summary(
        site=result.get("site") if isinstance(result.get("site"), str) else None,
        site_total=number("site_total"),
        stored=number("stored"),
        difference=number("difference"),
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        facts=tuple(_facts(result)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCard:
    """One job, ready for the `job_card` macro."""

    job: Job
    title: str
    account: str | None
    counters: tuple[tuple[str, str, int], ...]
    recent_errors: tuple[ItemError, ...]
    summary: Summary | None

    @property
    def active(self) -> bool:
        return self.job.status.active

    @property
    def percent(self) -> float | None:
        fraction = self.job.progress.fraction
        return None if fraction is None else round(fraction * 100, 1)

    @property
    def duration_s(self) -> float | None:
        job = self.job
        if job.started_at is None or job.finished_at is None:
            return None
        return (job.finished_at - job.started_at).total_seconds()


def job_card(job: Job, accounts: Mapping[int, Account]) -> JobCard:
    account = accounts.get(job.account_id) if job.account_id is not None else None
    return JobCard(
        job=job,
        title=job_title(job.job_type),
        account=account.label if account else None,
        counters=tuple(
            (name, label, int(job.counters.get(name, 0))) for name, label in COUNTER_LABELS.items()
        ),
        recent_errors=tuple(reversed(job.errors[-CARD_ERRORS:])),
        summary=summarise(job.result),
    )
