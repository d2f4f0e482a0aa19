"""Write a deterministic PGN file in the style of the Lichess monthly database dumps.

Every game has the dump's tags, a `[%clk]` comment on every move and, for about one
game in ten, `[%eval]` annotations too. The moves are legal: a pool of games is played
out with python-chess (random moves biased towards captures and checks, so games end in
mates sometimes), then each output game takes one from the pool with fresh players,
ratings, ids, dates, time control and clocks. Playing 200,000 games with python-chess
would take longer than reading them, hence the pool.

    python bench/pgn_gen.py OUT.pgn --games 200000 [--seed 7] [--pool 3000]
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chess

_ID_ALPHABET = string.ascii_letters + string.digits
_SPEEDS = [
    # (Event speed, TimeControl initial s, increment s, weight)
    ("Bullet", 60, 0, 25),
    ("Bullet", 120, 1, 5),
    ("Blitz", 180, 0, 20),
    ("Blitz", 180, 2, 10),
    ("Blitz", 300, 0, 10),
    ("Blitz", 300, 3, 5),
    ("Rapid", 600, 0, 15),
    ("Rapid", 600, 5, 5),
    ("Classical", 1800, 0, 3),
    ("UltraBullet", 15, 0, 2),
]
_OPENINGS = [
    ("C00", "French Defense: Normal Variation"),
    ("B01", "Scandinavian Defense: Mieses-Kotroc Variation"),
    ("C50", "Italian Game"),
    ("A00", "Van't Kruijs Opening"),
    ("B20", "Sicilian Defense"),
    ("D02", "Queen's Pawn Game: Chigorin Variation"),
    ("C44", "King's Pawn Game: Tayler Opening"),
    ("A40", "Horwitz Defense"),
    ("B00", "Owen Defense"),
    ("E60", "King's Indian Defense #3"),
]
_NAME_PARTS = [
    "chess",
    "king",
    "pawn",
    "Knight",
    "rook",
    "Magnus",
    "blitz",
    "Zoë",
    "Łukasz",
    "José",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PooledGame:
    """A legal game from the pool: its SAN moves and how it ended."""

    sans: tuple[str, ...]
    result: str
    termination: str


def play_game(rng: random.Random) -> PooledGame:
    """Play one legal game with random moves, preferring captures and checks."""
    board = chess.Board()
    target_plies = int(rng.triangular(10, 160, 70))
    sans: list[str] = []
    while len(sans) < target_plies and not board.is_game_over(claim_draw=False):
        moves = list(board.legal_moves)
        forcing = [m for m in moves if board.is_capture(m) or board.gives_check(m)]
        move = rng.choice(forcing if forcing and rng.random() < 0.5 else moves)
        sans.append(board.san(move))
        board.push(move)
    outcome = board.outcome(claim_draw=False)
    if outcome is not None and outcome.winner is not None:
        return PooledGame(
            sans=tuple(sans), result="1-0" if outcome.winner else "0-1", termination="Normal"
        )
    if outcome is not None:
        return PooledGame(sans=tuple(sans), result="1/2-1/2", termination="Normal")
    roll = rng.random()
    if roll < 0.15:
        return PooledGame(sans=tuple(sans), result="1/2-1/2", termination="Normal")
    winner_white = rng.random() < 0.5
    termination = "Time forfeit" if roll < 0.35 else "Normal"
    return PooledGame(
        sans=tuple(sans), result="1-0" if winner_white else "0-1", termination=termination
    )


def _clock(centis: int) -> str:
    seconds = centis // 100
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def render_game(rng: random.Random, pooled: PooledGame, index: int) -> str:
    """One dump-style game text around a pooled game's moves."""
    speed, initial, increment, _ = rng.choices(_SPEEDS, weights=[s[3] for s in _SPEEDS])[0]
    eco, opening = rng.choice(_OPENINGS)
    game_id = "".join(rng.choices(_ID_ALPHABET, k=8))
    white = f"{rng.choice(_NAME_PARTS)}{rng.randrange(10_000)}"
    black = f"{rng.choice(_NAME_PARTS)}{rng.randrange(10_000)}"
    white_elo, black_elo = rng.randrange(800, 2900), rng.randrange(800, 2900)
    day = 1 + index * 30 // 10**6 % 28
    seconds_of_day = index * 7 % 86400
    utc_time = (
        f"{seconds_of_day // 3600:02d}:{seconds_of_day // 60 % 60:02d}:{seconds_of_day % 60:02d}"
    )
    rated = "Rated" if rng.random() < 0.8 else "Casual"
    diff = rng.randrange(1, 12)
    white_diff, black_diff = (
        (f"+{diff}", f"-{diff}") if pooled.result == "1-0" else (f"-{diff}", f"+{diff}")
    )
    tags = [
        ("Event", f"{rated} {speed} game"),
        ("Site", f"https://lichess.org/{game_id}"),
        ("Date", f"2024.03.{day:02d}"),
        ("Round", "-"),
        ("White", white),
        ("Black", black),
        ("Result", pooled.result),
        ("UTCDate", f"2024.03.{day:02d}"),
        ("UTCTime", utc_time),
        ("WhiteElo", str(white_elo)),
        ("BlackElo", str(black_elo)),
    ]
    if rated == "Rated":
        tags += [("WhiteRatingDiff", white_diff), ("BlackRatingDiff", black_diff)]
    if rng.random() < 0.03:
        tags.append(("WhiteTitle", rng.choice(["GM", "IM", "FM", "BOT"])))
    tags += [
        ("ECO", eco),
        ("Opening", opening),
        ("TimeControl", f"{initial}+{increment}"),
        ("Termination", pooled.termination),
    ]
    with_evals = rng.random() < 0.1
    clocks = [initial * 100, initial * 100]
    evaluation = rng.randrange(-50, 50)
    parts: list[str] = []
    for ply, san in enumerate(pooled.sans):
        side = ply % 2
        spent = min(clocks[side], int(rng.expovariate(1 / 300)))
        clocks[side] = clocks[side] - spent + increment * 100
        number = f"{ply // 2 + 1}." if side == 0 else f"{ply // 2 + 1}..."
        # Lichess gives no evaluation after the mating move.
        if with_evals and not san.endswith("#"):
            evaluation += rng.randrange(-40, 41)
            note = f"[%eval {evaluation / 100:.2f}] [%clk {_clock(clocks[side])}]"
        else:
            note = f"[%clk {_clock(clocks[side])}]"
        parts.append(f"{number} {san} {{ {note} }}")
    parts.append(pooled.result)
    header = "".join(f'[{name} "{value}"]\n' for name, value in tags)
    return f"{header}\n{' '.join(parts)}\n\n"


def generate(games: int, *, seed: int = 7, pool_size: int = 3000) -> Iterator[str]:
    """Yield `games` dump-style game texts, the same ones for the same arguments."""
    rng = random.Random(seed)
    pool = [play_game(rng) for _ in range(pool_size)]
    for index in range(games):
        yield render_game(rng, pool[rng.randrange(pool_size)], index)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--games", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pool", type=int, default=3000)
    args = parser.parse_args(argv)
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        batch: list[str] = []
        for text in generate(args.games, seed=args.seed, pool_size=args.pool):
            batch.append(text)
            if len(batch) >= 1000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    print(
        f"wrote {args.games} games to {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
