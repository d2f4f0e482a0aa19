"""One gate per host over one shared httpx client."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx

from gamekeeper.connectors.gate.base import HostCoordinator
from gamekeeper.connectors.gate.exchange import UpstreamGate
from gamekeeper.connectors.gate.local import LocalHostCoordinator
from gamekeeper.connectors.gate.policy import GatePolicy, GateStats, UpstreamPlan, host_key


class Upstreams:
    """One `UpstreamGate` per host, with the plan's policies, over one shared httpx client."""

    def __init__(
        self,
        plan: UpstreamPlan,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        coordinator_for: Callable[[str], HostCoordinator] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._plan = plan
        timeout = httpx.Timeout(
            connect=plan.connect_timeout_s,
            read=plan.read_timeout_s,
            write=plan.read_timeout_s,
            pool=plan.connect_timeout_s,
        )
        # Chess.com answers 301 when a URL moved; following it is what its docs ask.
        self._client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, transport=transport
        )
        self._coordinator_for = coordinator_for or (lambda _host: LocalHostCoordinator())
        self._rng = rng
        self._gates: dict[str, UpstreamGate] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    @property
    def lichess(self) -> UpstreamGate:
        return self.gate(self._plan.lichess_url)

    @property
    def chesscom(self) -> UpstreamGate:
        return self.gate(self._plan.chesscom_url)

    def gate(self, base_url: str) -> UpstreamGate:
        """The gate for the host of `base_url` (made on first use)."""
        key = host_key(base_url)
        gate = self._gates.get(key)
        if gate is None:
            gate = UpstreamGate(
                self._client,
                self.policy_for(base_url),
                coordinator=self._coordinator_for(key),
                rng=self._rng,
            )
            self._gates[key] = gate
        return gate

    def policy_for(self, base_url: str) -> GatePolicy:
        """The politeness rules for a host, from the plan."""
        return self._plan.policy_for(base_url)

    def stats(self) -> list[GateStats]:
        """Counters of every gate made so far."""
        return [gate.stats() for gate in self._gates.values()]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Upstreams:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
