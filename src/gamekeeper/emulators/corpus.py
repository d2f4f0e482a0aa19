"""Deterministic game histories for the emulators, site-neutral.

`GameFactory` turns (seed, site, account) into an endless, reproducible sequence of
`GameSpec`s: who played whom, when, at which time control, with which legal moves
(from `templates`), how it ended and with which clocks. Each site's records module
renders a spec in that site's own format. The same seed always gives the same games,
and asking for 37 more games later continues the same sequence.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, TypeVar

from gamekeeper.emulators.templates import Template, template_pool
from gamekeeper.emulators.timing import clocks_for

Color = Literal["white", "black"]
_T = TypeVar("_T")

#: Generated histories end around here (so they look like the past), unless games are added.
HISTORY_END_MS: Final = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
#: ...and never start before Lichess's API minimum `since` (2013-01-01).
HISTORY_START_MS: Final = 1356998400070
_DAY_MS: Final = 86_400_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteRules:
    """What a site's histories contain."""

    #: Variant key (Lichess names) → weight.
    variants: dict[str, float]
    ai_share: float = 0.0
    import_share: float = 0.0
    #: Aborted and never-started games (Lichess lists them; Chess.com archives do not).
    aborts: bool = False
    #: Correspondence games still running.
    ongoing_share: float = 0.0
    cheat_share: float = 0.0
    analysed_share: float = 0.1


LICHESS_RULES: Final = SiteRules(
    variants={
        "standard": 88,
        "chess960": 3,
        "fromPosition": 1,
        "crazyhouse": 2,
        "atomic": 1,
        "kingOfTheHill": 1,
        "threeCheck": 1,
        "antichess": 1,
        "horde": 0.5,
        "racingKings": 0.5,
    },
    ai_share=0.03,
    import_share=0.005,
    aborts=True,
    ongoing_share=0.03,
    cheat_share=0.002,
    analysed_share=0.15,
)
CHESSCOM_RULES: Final = SiteRules(
    variants={"standard": 95, "chess960": 2, "kingOfTheHill": 1, "threeCheck": 1, "crazyhouse": 1},
    analysed_share=0.0,
)

#: (initial seconds, increment seconds) or days per move for correspondence, with weights.
TIME_CONTROLS: Final[Sequence[tuple[tuple[int, int] | int, float]]] = (
    ((15, 0), 1),
    ((60, 0), 8),
    ((120, 1), 6),
    ((180, 0), 10),
    ((180, 2), 12),
    ((300, 0), 10),
    ((300, 3), 8),
    ((600, 0), 10),
    ((600, 5), 8),
    ((900, 10), 6),
    ((1800, 0), 3),
    ((1800, 20), 2),
    (1, 2),
    (3, 2),
    (7, 1),
    (14, 1),
)
LICHESS_SOURCES: Final = (("pool", 62), ("lobby", 8), ("friend", 8), ("arena", 12), ("swiss", 4))
TITLES: Final = ("GM", "IM", "FM", "CM", "NM", "WGM", "LM")

_ADJECTIVES: Final = (
    *("dark", "silent", "rapid", "lazy", "brave", "quiet", "lucky", "grumpy", "sharp"),
    *("wild", "clever", "royal", "tiny", "iron", "golden", "crazy", "sleepy", "bold"),
)
_NOUNS: Final = (
    *("knight", "bishop", "rook", "pawn", "king", "queen", "gambit", "fianchetto"),
    *("castle", "tempo", "zugzwang", "endgame", "blunder", "fork", "pin", "skewer"),
)


def speed_of(initial_s: int, increment_s: int) -> str:
    """Lichess's speed for a clock: by estimated game time, initial + 40 * increment."""
    total = initial_s + 40 * increment_s
    if total < 30:
        return "ultraBullet"
    if total < 180:
        return "bullet"
    if total < 480:
        return "blitz"
    if total < 1500:
        return "rapid"
    return "classical"


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    """One player of a generated game."""

    #: The display name; None for a computer opponent.
    name: str | None
    title: str | None = None
    rating: int | None = None
    rating_diff: int | None = None
    provisional: bool = False
    ai_level: int | None = None
    #: An imported game's player: a name and nothing else.
    imported: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class GameSpec:
    """Everything about one generated game, in no site's format."""

    #: Unique within the factory's corpus; ids are derived from it.
    number: int
    white: Side
    black: Side
    #: The color the account played.
    account_color: Color
    start_ms: int
    end_ms: int
    variant: str
    template: Template
    #: How many plies of the template were played.
    plies: int
    #: A Lichess status name (created, started, aborted, mate, resign, ...).
    status: str
    winner: Color | None
    #: For draws: agreed, repetition, 50move, insufficient, stalemate, timevsinsufficient.
    draw_kind: str | None
    initial_s: int | None
    increment_s: int | None
    days_per_move: int | None
    speed: str
    rated: bool
    source: str
    analysed: bool
    #: Remaining time after each ply in centiseconds; None for correspondence.
    clocks: tuple[int, ...] | None

    @property
    def sans(self) -> tuple[str, ...]:
        return self.template.sans[: self.plies]

    @property
    def final_fen(self) -> str:
        return self.template.fens[self.plies]

    @property
    def opponent(self) -> Side:
        return self.black if self.account_color == "white" else self.white


def _weighted(rng: random.Random, items: Sequence[tuple[_T, float]]) -> _T:
    values = [item for item, _ in items]
    weights = [weight for _, weight in items]
    return rng.choices(values, weights=weights)[0]


def opponent_names(seed: int, count: int = 400) -> tuple[str, ...]:
    """A reproducible pool of plausible usernames."""
    rng = random.Random(f"names:{seed}")
    names: dict[str, None] = {}
    while len(names) < count:
        style = rng.random()
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        if style < 0.4:
            name = f"{adjective.title()}{noun.title()}{rng.randint(1, 999)}"
        elif style < 0.7:
            name = f"{adjective}_{noun}{rng.randint(10, 99)}"
        else:
            name = f"{noun.title()}{adjective.title()}"
        names[name] = None
    return tuple(names)


class GameFactory:
    """The reproducible game history of one account on one site."""

    def __init__(
        self,
        *,
        seed: int,
        site: str,
        username: str,
        rules: SiteRules,
        planned: int,
        first_number: int = 0,
        opponents: Sequence[str] | None = None,
    ) -> None:
        self.username = username
        self._rng = random.Random(f"{seed}:{site}:{username.lower()}")
        self._rules = rules
        self._templates = template_pool()
        # `opponents`: a network's own players (see `emulators/network.py`).
        pool = opponents if opponents else opponent_names(seed)
        self._names = [n for n in pool if n.lower() != username.lower()]
        self._variants = list(rules.variants.items())
        #: Spread `planned` games up to HISTORY_END_MS: about an hour apart for big
        #: histories, up to three days apart for small ones (so they span months).
        span = HISTORY_END_MS - HISTORY_START_MS
        self._gap_ms = max(600_000, min(3 * _DAY_MS, span // max(1, planned)))
        self.next_start_ms = max(HISTORY_START_MS, HISTORY_END_MS - planned * self._gap_ms)
        self.created_ms = self.next_start_ms - self._rng.randint(1, 30) * _DAY_MS
        self.rating = self._rng.randint(1100, 2100)
        self.title = self._rng.choice(TITLES) if self._rng.random() < 0.05 else None
        self.next_number = first_number

    def next_spec(self) -> GameSpec:
        rng = self._rng
        number = self.next_number
        self.next_number += 1
        start = self.next_start_ms
        self.next_start_ms += int(self._gap_ms * rng.uniform(0.2, 1.8))

        variant = _weighted(rng, self._variants)
        template = rng.choice(self._templates[variant])
        initial_s, increment_s, days, speed = _control(rng)
        kind, rated = self._kind(rng)
        status, winner, draw_kind, plies = self._finish(rng, template, speed)
        color: Color = "white" if rng.random() < 0.5 else "black"
        account, opponent = self._sides(rng, kind, rated, status, winner, color)
        white, black = (account, opponent) if color == "white" else (opponent, account)

        clocks = None
        elapsed_cs = plies * 500
        if initial_s is not None and increment_s is not None and kind != "import":
            clocks, elapsed_cs = clocks_for(rng, initial_s, increment_s, plies, status)
        if days is not None:
            end = start + plies * rng.randint(1, 30) * 3_600_000 + 60_000
        else:
            end = start + elapsed_cs * 10 + plies * 150 + 2_000
        source = kind if kind in ("ai", "import") else _weighted(rng, LICHESS_SOURCES)
        return GameSpec(
            number=number,
            white=white,
            black=black,
            account_color=color,
            start_ms=start,
            end_ms=end,
            variant=variant,
            template=template,
            plies=plies,
            status=status,
            winner=winner,
            draw_kind=draw_kind,
            initial_s=initial_s,
            increment_s=increment_s,
            days_per_move=days,
            speed=speed,
            rated=rated,
            source=source,
            analysed=kind == "user" and rng.random() < self._rules.analysed_share,
            clocks=clocks,
        )

    def _kind(self, rng: random.Random) -> tuple[str, bool]:
        """Who the opponent is (a user, the computer, or an imported game), and rated."""
        roll = rng.random()
        kind = "user"
        if roll < self._rules.ai_share:
            kind = "ai"
        elif roll < self._rules.ai_share + self._rules.import_share:
            kind = "import"
        return kind, kind == "user" and rng.random() < 0.85

    def _finish(
        self, rng: random.Random, template: Template, speed: str
    ) -> tuple[str, Color | None, str | None, int]:
        """Status, winner, draw kind and plies played."""
        rules = self._rules
        length = len(template.sans)
        roll = rng.random()
        if rules.aborts and roll < 0.02:
            return "aborted", None, None, rng.randint(0, min(1, length))
        if rules.aborts and roll < 0.024:
            return "noStart", None, None, 0
        if speed == "correspondence" and rng.random() < rules.ongoing_share:
            return "started", None, None, rng.randint(1, max(1, length))
        if template.ending != "open" and rng.random() < 0.6:
            if template.ending == "draw":
                return "draw", None, template.draw_kind, length
            if template.ending == "stalemate":
                return "stalemate", None, "stalemate", length
            return template.ending, template.winner, None, length
        plies = rng.randint(min(length, 8), length) if length else 0
        # The side to move when the game stopped (all start positions have White to move).
        mover: Color = "white" if plies % 2 == 0 else "black"
        other: Color = "black" if mover == "white" else "white"
        roll = rng.random()
        if roll < 0.58:
            return "resign", mover if rng.random() < 0.2 else other, None, plies
        if roll < 0.83:
            if speed != "correspondence" and rng.random() < 0.04:
                return "outoftime", None, "timevsinsufficient", plies
            return "outoftime", other, None, plies
        if roll < 0.95:
            return "draw", None, "agreed", plies
        if roll < 0.95 + rules.cheat_share:
            return "cheat", rng.choice(("white", "black")), None, plies
        return "timeout", other, None, plies

    def _sides(
        self,
        rng: random.Random,
        kind: str,
        rated: bool,
        status: str,
        winner: Color | None,
        color: Color,
    ) -> tuple[Side, Side]:
        if kind == "import":
            return (
                Side(name=self.username, imported=True),
                Side(name=rng.choice(self._names), imported=True),
            )
        self.rating = max(600, min(2900, self.rating + rng.randint(-12, 12)))
        if kind == "ai":
            level = rng.randint(1, 8)
            return Side(name=self.username, title=self.title, rating=self.rating), Side(
                name=None, ai_level=level
            )
        opponent_rating = max(600, min(3000, int(rng.gauss(self.rating, 150))))
        diff_account = diff_opponent = None
        decided = status not in ("aborted", "noStart", "started", "created")
        if rated and decided:
            swing = max(1, min(20, 8 + (opponent_rating - self.rating) // 50))
            if winner is None:
                diff_account = (opponent_rating - self.rating) // 100
            else:
                diff_account = swing if winner == color else -max(1, 16 - swing)
            diff_opponent = -diff_account
            self.rating += diff_account
        title = rng.choice(TITLES) if rng.random() < 0.04 else None
        if rng.random() < 0.02:
            title = "BOT"
        account = Side(
            name=self.username,
            title=self.title,
            rating=self.rating,
            rating_diff=diff_account,
            provisional=rng.random() < 0.01,
        )
        opponent = Side(
            name=rng.choice(self._names),
            title=title,
            rating=opponent_rating,
            rating_diff=diff_opponent,
            provisional=rng.random() < 0.05,
        )
        return account, opponent


def _control(rng: random.Random) -> tuple[int | None, int | None, int | None, str]:
    """A time control: (initial s, increment s, days per move, speed)."""
    control = _weighted(rng, TIME_CONTROLS)
    if isinstance(control, tuple):
        return control[0], control[1], None, speed_of(control[0], control[1])
    return None, None, control, "correspondence"
