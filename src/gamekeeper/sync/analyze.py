"""The `analyze` job kind, and a sync's `analyzing` phase: analysis plugins over the
games that lack their values (see `analysis_run`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gamekeeper.analysis.base import AnalysisPlugin
from gamekeeper.domain.limits import INT32_MAX, check_int, check_optional_int
from gamekeeper.domain.users import Role
from gamekeeper.errors import AccountNotFound, InvalidInput
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.analyses import PendingQuery
from gamekeeper.sync.analysis_run import AnalysisDeps, AnalysisPlan, run_analysis

#: Its own family: an analysis runs beside a sync of the same account.
FAMILY = "analysis"

#: `game_ids` names at most this many games.
MAX_GAME_IDS = 1000
#: Nodes a job may ask for per position.
NODES_BOUNDS = (1_000, 100_000_000)
#: `limit`: games one job analyses at most.
LIMIT_BOUNDS = (1, 1_000_000)


def choose_plugins(
    installed: Mapping[str, AnalysisPlugin], names: Sequence[str] | None
) -> tuple[AnalysisPlugin, ...]:
    """The plugins named (every installed one when None); `InvalidInput` for others."""
    if names is None:
        return tuple(installed[n] for n in sorted(installed))
    unknown = [n for n in names if n not in installed]
    if unknown or not names:
        known = ", ".join(sorted(installed)) or "none"
        raise InvalidInput(f"unknown analysis plugin(s) {unknown or names!r} (known: {known})")
    return tuple(installed[n] for n in dict.fromkeys(names))


def versions(plugins: Sequence[AnalysisPlugin]) -> tuple[tuple[str, str], ...]:
    return tuple((p.name, p.version) for p in plugins)


class AnalyzeKind:
    """The `analyze` kind over one set of dependencies."""

    def __init__(self, deps: AnalysisDeps) -> None:
        self.deps = deps

    def validate(self, parameters: Mapping[str, Any]) -> None:
        """Bounds and names, checked whoever creates the job (API, CLI)."""
        check_optional_int(parameters, "account_id", low=1, high=INT32_MAX)
        check_optional_int(parameters, "nodes", low=NODES_BOUNDS[0], high=NODES_BOUNDS[1])
        check_optional_int(parameters, "limit", low=LIMIT_BOUNDS[0], high=LIMIT_BOUNDS[1])
        ids = parameters.get("game_ids")
        if (parameters.get("account_id") is None) == (ids is None):
            raise InvalidInput("analyze needs account_id or game_ids (one of them)")
        if ids is not None:
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_GAME_IDS:
                raise InvalidInput(f"game_ids must be a list of 1 to {MAX_GAME_IDS} game ids")
            for value in ids:
                check_int("game_ids", value, low=1, high=INT32_MAX)
        names = parameters.get("plugins")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InvalidInput("plugins must be a list of plugin names")
            choose_plugins(self.deps.plugins(), names)

    async def scope(
        self, ctx: JobContext, account_id: int | None, game_ids: Sequence[int] | None
    ) -> PendingQuery:
        """The games the job may touch: the account's, or the named ones the owner may
        see (an admin sees every game)."""
        store = self.deps.store
        if account_id is not None:
            account = await store.get_account(account_id)
            if account is None:
                raise AccountNotFound(f"account {account_id} no longer exists")
            return PendingQuery(plugins=(), players=((account.platform, account.player_id),))
        owner = await store.get_user(ctx.job.owner)
        players = None
        if owner is None or owner.role is not Role.ADMIN:
            accounts = await store.list_accounts(ctx.job.owner)
            players = tuple((a.platform, a.player_id) for a in accounts)
        ids = tuple(dict.fromkeys(game_ids or ()))
        return PendingQuery(plugins=(), players=players, game_ids=ids)

    async def analyze(
        self,
        ctx: JobContext,
        *,
        account_id: int | None = None,
        game_ids: list[int] | None = None,
        plugins: list[str] | None = None,
        nodes: int | None = None,
        limit: int | None = None,
        engine: bool = True,
    ) -> None:
        """Run analysis plugins on the games pending them (an account's, or `game_ids`),
        newest first; `engine` false runs only what needs no engine."""
        chosen = choose_plugins(self.deps.plugins(), plugins)
        query = await self.scope(ctx, account_id, game_ids)
        plan = AnalysisPlan(
            query=_with_plugins(query, chosen),
            plugins=chosen,
            engine=engine,
            nodes=nodes or self.deps.nodes,
            limit=limit,
        )
        ctx.set_phases("analyzing")
        await run_analysis(ctx, self.deps, plan, resume=ctx.resume_from)


def _with_plugins(query: PendingQuery, plugins: Sequence[AnalysisPlugin]) -> PendingQuery:
    return PendingQuery(
        plugins=versions(plugins),
        players=query.players,
        game_ids=query.game_ids,
        job_id=query.job_id,
    )


async def analyze_synced(
    ctx: JobContext,
    deps: AnalysisDeps | None,
    *,
    engine: bool,
    resume: Any,
) -> None:
    """A sync's `analyzing` phase: every plugin on the games this job inserted or changed;
    with the engine only when asked (`analyze: true` or the account's `auto_analyze`).
    The job's own games are the account's: no player filter is needed."""
    if deps is None:
        await ctx.skip_phase("analyzing", "no analysis plugins enabled")
        return
    plugins = choose_plugins(deps.plugins(), None)
    query = PendingQuery(plugins=versions(plugins), job_id=ctx.job_id)
    base = ctx.resume_from if isinstance(ctx.resume_from, dict) else {}
    sync_result = ctx.job.result if isinstance(ctx.job.result, dict) else {}
    plan = AnalysisPlan(query=query, plugins=plugins, engine=engine, nodes=deps.nodes)
    await run_analysis(
        ctx,
        deps,
        plan,
        resume=resume,
        checkpoint_of=lambda state: {**base, "analysis": state},
        on_result=lambda summary: ctx.set_result({**sync_result, "analysis": summary}),
    )


def register_analysis_kinds(registry: JobRegistry, deps: AnalysisDeps) -> None:
    kind = AnalyzeKind(deps)
    registry.add(kind.analyze, name="analyze", family=FAMILY, validate=kind.validate)
