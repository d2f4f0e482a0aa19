"""A sync's `analyzing` phase with the engine (`analyze: true`), real Stockfish."""

from __future__ import annotations

import sqlalchemy as sa

from gamekeeper.domain.jobs import JobStatus, PhaseStatus
from gamekeeper.storage.sql.schema import analyses
from tests.integration.sync.conftest import ServicesFactory, run_job


async def test_sync_with_analyze_judges_every_inserted_game(
    make_services: ServicesFactory,
) -> None:
    services = await make_services(analysis_nodes=1000, engine_workers=2, engine_hash_mb=16)
    account = await services.accounts.add("admin", "lichess", "bob")
    job = await run_job(services, "sync_games", account, analyze=True)

    assert job.status is JobStatus.COMPLETED, job.error
    assert [(p.name, p.status) for p in job.phases] == [
        ("fetching", PhaseStatus.COMPLETED),
        ("enriching", PhaseStatus.COMPLETED),
        ("analyzing", PhaseStatus.COMPLETED),
    ]
    inserted = job.counters["inserted"]
    assert inserted == 30
    assert job.counters["analyzed"] == inserted
    summary = job.result["analysis"]
    assert summary["games"] == inserted
    with services.store.engine.connect() as conn:
        judged = conn.execute(
            sa.select(analyses.c.game_id, analyses.c.job_id).where(analyses.c.plugin == "judgments")
        ).all()
    assert {row.job_id for row in judged} == {job.id}
    # Judged, unless the engine cannot play the variant (then skipped with the reason).
    variants = sum(n for reason, n in summary["skipped"].items() if "variant" in reason)
    assert set(summary["skipped"]) <= {r for r in summary["skipped"] if "variant" in r}
    assert len(judged) + variants // 4 == inserted  # 4 plugins need evals
    assert summary["engine_evals"] > 0
