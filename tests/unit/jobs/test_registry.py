from __future__ import annotations

import pytest

from gamekeeper.errors import InvalidInput
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.progress import RateMeter
from gamekeeper.jobs.registry import JobRegistry


def test_registry_binds_and_checks_parameters() -> None:
    registry = JobRegistry()

    @registry.register("Sync_Things", family="sync")
    async def sync_things(
        ctx: JobContext, *, account_id: int, limit: int = 10, since: str | None = None
    ) -> None: ...

    kind = registry.get("SYNC_THINGS")
    assert (kind.name, kind.family, kind.needs_account) == ("sync_things", "sync", True)
    assert kind.bind({"account_id": 1, "since": None}) == {"account_id": 1, "since": None}
    for bad in ({}, {"account_id": "1"}, {"account_id": True}, {"account_id": 1, "x": 2}):
        with pytest.raises(InvalidInput):
            kind.bind(bad)
    with pytest.raises(InvalidInput, match="known: sync_things"):
        registry.get("nope")


def test_a_loader_registers_the_kinds_once_on_first_lookup() -> None:
    calls: list[int] = []

    async def things(ctx: JobContext) -> None: ...

    def load(registry: JobRegistry) -> None:
        calls.append(1)
        registry.add(things)

    registry = JobRegistry(loader=load)
    assert calls == []  # building the registry loads nothing
    assert "things" in registry
    assert registry.names() == ["things"]
    assert registry.get("THINGS").fn is things
    assert calls == [1]


def test_rate_meter_measures_over_its_window() -> None:
    meter = RateMeter(window_s=10)
    assert meter.add(0.0, 0) is None
    assert meter.add(1.0, 100) == 100
    assert meter.add(2.0, 300) == 150
    for t in range(3, 30):
        rate = meter.add(float(t), 300 + (t - 2) * 10)
    assert rate == pytest.approx(10)
