"""An analysis run's checkpointed state: what a resumed run starts from."""

from __future__ import annotations

from datetime import UTC, datetime

from gamekeeper.sync.analysis_state import AnalysisState


def test_the_state_round_trips_through_its_checkpoint_with_its_working_time() -> None:
    state = AnalysisState(
        done=5,
        total=9,
        analyzed=4,
        positions=300,
        engine_evals=200,
        cache_hits=100,
        skipped={"no engine": 1},
        after=(datetime(2026, 1, 2, tzinfo=UTC), 17),
        seconds=12.5,
    )
    again = AnalysisState.from_json(state.to_json())
    assert again == AnalysisState(**{**vars_of(state), "resumed": True})


def test_a_checkpoint_without_a_time_or_with_a_bad_one_counts_none() -> None:
    for seconds in (None, "12", -1, True):
        value = {**AnalysisState(done=1).to_json(), "seconds": seconds}
        assert AnalysisState.from_json(value).seconds == 0.0


def vars_of(state: AnalysisState) -> dict[str, object]:
    return {name: getattr(state, name) for name in state.__dataclass_fields__}
