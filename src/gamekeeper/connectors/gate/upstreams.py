"""One gate per host over one shared httpx client."""

from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from gamekeeper.connectors.gate.base import HostCoordinator
from gamekeeper.connectors.gate.exchange import UpstreamGate
from gamekeeper.connectors.gate.local import LocalHostCoordinator
from gamekeeper.connectors.gate.policy import GatePolicy, GateStats, user_agent
from gamekeeper.settings import Settings


def host_key(base_url: str) -> str:
    """The key of a host: scheme-less `host[:port]`, lowercase."""
    return urlsplit(base_url).netloc.lower()


class Upstreams:
    """One `UpstreamGate` per host, built from `Settings`, over one shared httpx client."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        coordinator_for: Callable[[str], HostCoordinator] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout_s,
            read=settings.upstream_read_timeout_s,
            write=settings.upstream_read_timeout_s,
            pool=settings.upstream_connect_timeout_s,
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
        return self.gate(self._settings.lichess_url)

    @property
    def chesscom(self) -> UpstreamGate:
        return self.gate(self._settings.chesscom_url)

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
        """The politeness rules for a host, from the settings."""
        s = self._settings
        key = host_key(base_url)
        is_lichess = key == host_key(s.lichess_url)
        cooldown = s.lichess_cooldown_s if is_lichess else s.chesscom_cooldown_s
        return GatePolicy(
            name=key,
            user_agent=user_agent(s.contact),
            min_interval_s=s.upstream_min_interval_s,
            cooldown_s=cooldown,
            cooldown_is_floor=is_lichess,
            cooldown_max_s=max(cooldown, s.upstream_cooldown_max_s),
            attempts=s.upstream_attempts,
            backoff_base_s=s.upstream_backoff_base_s,
            backoff_max_s=s.upstream_backoff_max_s,
            busy_grace_s=s.upstream_busy_grace_s,
        )

    def stats(self) -> list[GateStats]:
        """Counters of every gate made so far."""
        return [gate.stats() for gate in self._gates.values()]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Upstreams:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
