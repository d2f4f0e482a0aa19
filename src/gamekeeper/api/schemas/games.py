"""Games as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from gamekeeper.storage.base import StoredGame

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
