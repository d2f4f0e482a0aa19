"""The API's request and response shapes (Pydantic lives here, at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import Job, Phase, PhaseStatus
from gamekeeper.domain.users import User
from gamekeeper.services.accounts import AccountSummary
from gamekeeper.storage.base import StoredGame

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors -----------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    active_job_id: str | None = None
    retry_after: float | None = None
    errors: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# -- jobs -------------------------------------------------------------------------


class AccountRef(BaseModel):
    id: int
    platform: str
    username: str


class PhaseOut(BaseModel):
    name: str
    status: str
    done: int
    total: int | None
    #: 100 * done / total, one decimal; null while the total is unknown.
    percent: float | None = None
    started_at: datetime | None
    finished_at: datetime | None
    note: str | None
    #: The last item error recorded during this phase (or the job's error, if it failed).
    last_error: str | None = None
    #: While this phase waits out a rate limit or a backoff: when it goes on.
    rate_limit_reset_at: datetime | None = None

    @classmethod
    def of(cls, phase: Phase, job: Job) -> PhaseOut:
        running = phase.status is PhaseStatus.RUNNING
        errors = [
            e.message
            for e in job.errors
            if phase.started_at is not None
            and e.at >= phase.started_at
            and (phase.finished_at is None or e.at <= phase.finished_at)
        ]
        if phase.status is PhaseStatus.FAILED and job.error:
            errors.append(job.error)
        return cls(
            name=phase.name,
            status=phase.status.value,
            done=phase.done,
            total=phase.total,
            percent=round(100 * phase.done / phase.total, 1) if phase.total else None,
            started_at=phase.started_at,
            finished_at=phase.finished_at,
            note=phase.note,
            last_error=errors[-1] if errors else None,
            rate_limit_reset_at=job.wait.resume_at if running and job.wait else None,
        )


class ProgressOut(BaseModel):
    fraction: float | None
    done: int
    total: int | None
    rate_per_s: float | None
    eta_s: float | None
    #: "bytes" for file imports; null when items (games, months) are counted.
    unit: str | None = None


class WaitOut(BaseModel):
    reason: str
    resume_at: datetime


class ItemErrorOut(BaseModel):
    at: datetime
    item: str
    message: str


class JobOut(BaseModel):
    id: str
    job_type: str
    owner: str
    account: AccountRef | None
    parameters: dict[str, Any]
    status: str
    phase: str | None
    phases: list[PhaseOut]
    progress: ProgressOut
    counters: dict[str, int]
    errors: list[ItemErrorOut]
    error: str | None
    wait: WaitOut | None
    #: Where a resumed run would start (the job kind's checkpoint: e.g. a sync's count
    #: and the newest game stored, an import's byte offset); null before the first one.
    checkpoint: Any = None
    result: Any = None
    attempt: int
    cancel_requested: bool
    scheduled: bool
    version: int
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, account: Account | None = None) -> JobOut:
        p = job.progress
        return cls(
            id=job.id,
            job_type=job.job_type,
            owner=job.owner,
            account=(
                AccountRef(
                    id=account.id, platform=account.platform.value, username=account.username
                )
                if account is not None
                else None
            ),
            parameters=dict(job.parameters),
            status=job.status.value,
            phase=job.phase,
            phases=[PhaseOut.of(ph, job) for ph in job.phases],
            progress=ProgressOut(
                fraction=p.fraction,
                done=p.done,
                total=p.total,
                rate_per_s=p.rate_per_s,
                eta_s=p.eta_s,
                unit=p.unit,
            ),
            counters=dict(job.counters),
            errors=[ItemErrorOut(at=e.at, item=e.item, message=e.message) for e in job.errors],
            error=job.error,
            wait=WaitOut(reason=job.wait.reason, resume_at=job.wait.resume_at)
            if job.wait
            else None,
            checkpoint=job.checkpoint,
            result=job.result,
            attempt=job.attempt,
            cancel_requested=job.cancel_requested,
            scheduled=job.scheduled,
            version=job.version,
            created_at=job.created_at,
            started_at=job.started_at,
            updated_at=job.updated_at,
            heartbeat_at=job.heartbeat_at,
            finished_at=job.finished_at,
        )


class JobCreate(Strict):
    job_type: str = Field(min_length=1, max_length=40, examples=["sync_games"])
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        examples=[{"platform": "lichess", "username": "alice"}, {"account_id": 1}],
    )


class JobPageOut(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


class IdleOut(BaseModel):
    """No sync is active: `last` is the one that ended last (null if none ever ran)."""

    status: Literal["idle"] = "idle"
    last: JobOut | None = None


class SweepOut(BaseModel):
    requeued: list[str]
    failed: list[str]
    resubmitted: list[str]


# -- accounts ---------------------------------------------------------------------


class AccountCreate(Strict):
    platform: Literal["lichess", "chesscom"]
    username: str = Field(pattern=USERNAME_PATTERN)


class AccountUpdate(Strict):
    #: Minutes between scheduled syncs; null turns auto-sync off.
    auto_sync_minutes: int | None = Field(default=None, ge=5, le=10080)


class AccountSync(Strict):
    job_type: Literal["sync_games", "sync_metadata", "sync_moves"] = "sync_games"
    since: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    max: int | None = Field(default=None, ge=1)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)
    delay_ms: int | None = Field(default=None, ge=0, le=600_000)


class AccountOut(BaseModel):
    id: int
    owner: str
    platform: str
    username: str
    platform_user_id: str | None
    auto_sync_minutes: int | None
    created_at: datetime | None
    games: int
    last_job: JobOut | None

    @classmethod
    def of(cls, summary: AccountSummary) -> AccountOut:
        account, games, last_job = summary.account, summary.games, summary.last_job
        return cls(
            id=account.id,
            owner=account.owner,
            platform=account.platform.value,
            username=account.username,
            platform_user_id=account.platform_user_id,
            auto_sync_minutes=account.auto_sync_minutes,
            created_at=account.created_at,
            games=games,
            last_job=JobOut.of(last_job, account) if last_job else None,
        )


# -- games ------------------------------------------------------------------------


class PlayerOut(BaseModel):
    name: str | None
    id: str | None
    rating: int | None
    rating_diff: int | None
    title: str | None
    ai_level: int | None
    provisional: bool


class OpeningOut(BaseModel):
    eco: str | None
    name: str | None
    ply: int | None


class EvalOut(BaseModel):
    cp: int | None
    mate: int | None


class GameOut(BaseModel):
    id: int
    platform: str
    platform_game_id: str
    url: str | None
    white: PlayerOut
    black: PlayerOut
    result: str
    termination: str
    winner: str | None
    variant: str
    speed: str | None
    time_control: str | None
    rated: bool | None
    start_time: datetime | None
    end_time: datetime | None
    opening: OpeningOut | None
    plies: int | None
    has_moves: bool
    initial_fen: str | None
    first_job_id: str | None
    last_job_id: str | None

    @classmethod
    def of(cls, stored: StoredGame) -> GameOut:
        g = stored.game

        def player(p: Any) -> PlayerOut:
            return PlayerOut(
                name=p.name,
                id=p.id,
                rating=p.rating,
                rating_diff=p.rating_diff,
                title=p.title,
                ai_level=p.ai_level,
                provisional=p.provisional,
            )

        return cls(
            id=stored.id,
            platform=g.platform.value,
            platform_game_id=g.platform_game_id,
            url=g.url,
            white=player(g.white),
            black=player(g.black),
            result=g.result.value,
            termination=g.termination.value,
            winner=g.winner.value if g.winner else None,
            variant=g.variant,
            speed=g.speed,
            time_control=str(g.time_control) if g.time_control else None,
            rated=g.rated,
            start_time=g.start_time,
            end_time=g.end_time,
            opening=(
                OpeningOut(eco=g.opening.eco, name=g.opening.name, ply=g.opening.ply)
                if g.opening
                else None
            ),
            plies=len(g.moves) if g.moves is not None else None,
            has_moves=g.moves is not None,
            initial_fen=g.initial_fen,
            first_job_id=stored.first_job_id,
            last_job_id=stored.last_job_id,
        )


class GameDetailOut(GameOut):
    moves: list[str] | None
    clocks: list[int | None] | None
    #: Centiseconds left to the side to move when the game ended between moves
    #: (resignation, flag: 0, draw), as Lichess sends it; null when unknown.
    final_clock: int | None = None
    evals: list[EvalOut | None] | None
    raw: str

    @classmethod
    def of(cls, stored: StoredGame) -> GameDetailOut:
        g = stored.game
        return cls(
            **GameOut.of(stored).model_dump(),
            moves=list(g.moves) if g.moves is not None else None,
            clocks=list(g.clocks) if g.clocks is not None else None,
            final_clock=g.final_clock,
            evals=(
                [None if e is None else EvalOut(cp=e.cp, mate=e.mate) for e in g.evals]
                if g.evals is not None
                else None
            ),
            raw=g.raw,
        )


class GamePageOut(BaseModel):
    items: list[GameOut]
    next_cursor: str | None


# -- users ------------------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, name=user.name, role=user.role.value, created_at=user.created_at)


class UserCreate(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    role: Literal["admin", "user"] = "user"


class TokenOut(BaseModel):
    user: UserOut
    #: Shown once: only its hash is stored.
    token: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: str
    version: str
