"""Lichess's raw payloads as TypedDicts (lichess-api GameJson, GamePlayerUser, LightUser,
UserExtended)."""

from __future__ import annotations

from typing import Any, TypedDict


class LichessLightUser(TypedDict, total=False):
    id: str
    name: str
    title: str
    flair: str
    patron: bool


class LichessPlayer(TypedDict, total=False):
    user: LichessLightUser
    rating: int
    ratingDiff: int
    #: Imported games: the name from the PGN, and nothing else.
    name: str
    provisional: bool
    #: Computer opponents: a level and no `user`.
    aiLevel: int
    analysis: dict[str, int]
    team: str


class LichessPlayers(TypedDict, total=False):
    white: LichessPlayer
    black: LichessPlayer


class LichessClock(TypedDict, total=False):
    initial: int
    increment: int
    totalTime: int


class LichessOpening(TypedDict, total=False):
    eco: str
    name: str
    ply: int


class LichessMoveAnalysis(TypedDict, total=False):
    eval: int
    mate: int
    best: str
    variation: str
    judgment: dict[str, str]


class LichessGameJson(TypedDict, total=False):
    id: str
    rated: bool
    variant: str
    speed: str
    perf: str
    createdAt: int
    lastMoveAt: int
    #: A `GameStatusName`; other endpoints send `{"id": 31, "name": "resign"}`.
    status: str | dict[str, Any]
    source: str
    players: LichessPlayers
    initialFen: str
    winner: str
    opening: LichessOpening
    moves: str
    pgn: str
    daysPerTurn: int
    analysis: list[LichessMoveAnalysis]
    clock: LichessClock
    clocks: list[int]
    division: dict[str, int]


LichessCount = TypedDict(
    "LichessCount",
    {
        "all": int,
        "rated": int,
        "ai": int,
        "draw": int,
        "loss": int,
        "win": int,
        "bookmark": int,
        "playing": int,
        "import": int,
        "me": int,
    },
    total=False,
)


class LichessUserJson(TypedDict, total=False):
    id: str
    username: str
    title: str
    createdAt: int
    seenAt: int
    disabled: bool
    tosViolation: bool
    url: str
    count: LichessCount
