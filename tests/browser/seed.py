"""Games for the dashboard to show before any sync: varied, legal, reproducible.

`alice` on Lichess (an account of the admin) gets a year and a half of games in three
speeds, with openings, clocks and evaluations, so every chart has something to draw
and the game page has moves to step through.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import chess
import orjson
import sqlalchemy as sa

from gamekeeper.domain.games import (
    Eval,
    Game,
    Opening,
    Platform,
    Player,
    Result,
    Termination,
    TimeControl,
    Winner,
)
from gamekeeper.storage.sql.schema import games as games_table
from tests.support.analyses import analysis_values, example_judged, insert_analyses

#: The seeded account (the admin's): its games are the charts' subject.
SEED_PLAYER = "alice"
OPENINGS = [
    ("B20", "Sicilian Defense", "e4 c5"),
    ("B22", "Sicilian Defense: Alapin Variation", "e4 c5 c3"),
    ("C50", "Italian Game", "e4 e5 Nf3 Nc6 Bc4"),
    ("C00", "French Defense", "e4 e6"),
    ("D06", "Queen's Gambit", "d4 d5 c4"),
    ("B10", "Caro-Kann Defense", "e4 c6"),
    ("A45", "Indian Defense", "d4 Nf6"),
]
SPEEDS = [("blitz", TimeControl(initial_s=180, increment_s=2)),
          ("rapid", TimeControl(initial_s=600, increment_s=0)),
          ("bullet", TimeControl(initial_s=60, increment_s=0))]  # fmt: skip
OPPONENTS = ["bob", "carol", "dave", "erin", "frank"]


def _play(rng: random.Random, opening: str, plies: int) -> tuple[list[str], chess.Board]:
    """The opening, then random legal moves (captures preferred, so games end sometimes)."""
    board = chess.Board()
    sans = []
    for san in opening.split():
        sans.append(san)
        board.push_san(san)
    while len(sans) < plies and not board.is_game_over():
        moves = list(board.legal_moves)
        captures = [m for m in moves if board.is_capture(m)]
        move = rng.choice(captures if captures and rng.random() < 0.6 else moves)
        sans.append(board.san(move))
        board.push(move)
    return sans, board


def seed_games(count: int = 160, *, seed: int = 11) -> list[Game]:
    rng = random.Random(seed)
    start = datetime(2024, 7, 1, 9, tzinfo=UTC)
    ratings = {speed: 1500 + 100 * i for i, (speed, _) in enumerate(SPEEDS)}
    games = []
    for n in range(count):
        speed, tc = SPEEDS[n % 3] if n % 5 else SPEEDS[0]
        ratings[speed] += rng.randint(-18, 22)
        eco, name, opening = OPENINGS[rng.randrange(len(OPENINGS))]
        sans, board = _play(rng, opening, rng.randint(24, 70))
        alice_white = n % 2 == 0
        alice = Player(name="Alice", id=SEED_PLAYER, rating=ratings[speed])
        other_name = OPPONENTS[n % len(OPPONENTS)]
        other = Player(name=other_name.capitalize(), id=other_name, rating=rng.randint(1400, 1800))
        white, black = (alice, other) if alice_white else (other, alice)
        if board.is_checkmate():
            winner = Winner.BLACK if board.turn == chess.WHITE else Winner.WHITE
            termination = Termination.MATE
        else:
            roll = rng.random()
            winner = None if roll < 0.15 else (Winner.WHITE if roll < 0.6 else Winner.BLACK)
            termination = Termination.DRAW if winner is None else Termination.RESIGN
        result = (
            Result.DRAW
            if winner is None
            else Result.WHITE_WINS
            if winner is Winner.WHITE
            else Result.BLACK_WINS
        )
        assert tc.initial_s is not None
        clock = [tc.initial_s * 100, tc.initial_s * 100]
        clocks, evals, cp = [], [], 20
        for ply in range(len(sans)):
            clock[ply % 2] = max(0, clock[ply % 2] - rng.randint(50, 900))
            clocks.append(clock[ply % 2])
            cp += rng.randint(-60, 60)
            evals.append(Eval(cp=cp))
        started = start + timedelta(days=n * 3.4, minutes=rng.randint(0, 600))
        game_id = f"seed{n:04d}"
        games.append(
            Game(
                platform=Platform.LICHESS,
                platform_game_id=game_id,
                white=white,
                black=black,
                result=result,
                termination=termination,
                winner=winner,
                speed=speed,
                time_control=tc,
                rated=True,
                start_time=started,
                end_time=started + timedelta(minutes=8),
                opening=Opening(eco=eco, name=name),
                moves=tuple(sans),
                clocks=tuple(clocks),
                evals=tuple(evals),
                url=f"https://lichess.org/{game_id}",
                raw=orjson.dumps({"id": game_id}).decode(),
            )
        )
    return games


def seed_analysis(engine: sa.Engine, game: Game) -> int:
    """Store an analysis of `game` (already inserted) as the analyze job would; its id."""
    with engine.connect() as conn:
        game_id = conn.execute(
            sa.select(games_table.c.id).where(
                games_table.c.platform == game.platform.value,
                games_table.c.platform_game_id == game.platform_game_id,
            )
        ).scalar_one()
    sans = list(game.moves or ())
    values = analysis_values(
        sans, judged=example_judged(sans), accuracy=(88.4, 61.9), acpl=(23, 71)
    )
    insert_analyses(engine, game_id, values, job_id="j-seed")
    return int(game_id)
