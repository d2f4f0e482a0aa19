"""Opening naming speed: the fast path against a python-chess-only replay, in one run.

    python bench/openings.py [--games 10000] [--seed 7] [--rounds 3]

Both sides name the same games with the shipped data set: `OpeningBook.name` (the trie
and the tracker, what `name_opening` uses) and `OpeningBook.name_by_replay` (every move
played with python-chess and each position looked up, as Lichess does). Also shown: the
book's load time (import and build in a fresh process), games/s by kind of game, and
how often the two sides agree (they should, always). Rates are on wall time and on the
process's CPU time, which neighbours' load skews less; the goal is judged on CPU time.

The games are generated once per seed and kept in the system temp directory, since
python-chess takes a while to play them. They are legal and varied:

- `book`: a data set line cut at a random ply, then plausible moves (development,
  castling, central pawns, captures preferred) — the common case;
- `transposed`: a line with two of one side's moves swapped where that reaches the same
  position, then plausible moves;
- `spelled`: like `book`, written as some sites and hand-edited files do (`0-0`, no
  check marks, `!?` annotations, `Ngf3` for `Nf3`);
- `tempo`: a line played after 1. Nf3 Nf6 2. Ng1 Ng8 (named where it comes back);
- `sideline`: plausible moves from the first move on;
- `random`: uniformly random legal moves.

Past the 44th ply (beyond where either side looks), moves are random legal moves, so
games have real lengths without costing long to make.

Goal: at least 20,000 games per CPU-second on the fast path, over the whole mix.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import chess

from gamekeeper.analysis.openings import BookLine, OpeningBook, default_book, read_book_lines
from gamekeeper.domain.games import Opening

GOAL_FAST_GAMES_PER_S = 20_000
PLAUSIBLE_PLIES = 44
KINDS = (
    ("book", 45),
    ("transposed", 15),
    ("spelled", 15),
    ("tempo", 5),
    ("sideline", 10),
    ("random", 10),
)
TEMPO = ("Nf3", "Nf6", "Ng1", "Ng8")


def plausible_move(board: chess.Board, rng: random.Random) -> chess.Move:
    """A legal move, weighted towards what players do early: castle, develop, take."""
    legal = list(board.legal_moves)
    sample = rng.sample(legal, min(8, len(legal)))
    weights = []
    for move in sample:
        piece = board.piece_type_at(move.from_square)
        home = chess.square_rank(move.from_square) in (0, 7)
        if board.is_castling(move):
            weight = 8.0
        elif board.is_capture(move):
            victim = board.piece_type_at(move.to_square) or chess.PAWN
            weight = 2.0 + victim
        elif piece == chess.PAWN:
            weight = 2.0 if chess.square_file(move.from_square) in (2, 3, 4, 5) else 0.7
        elif piece == chess.KING:
            weight = 0.2
        else:
            weight = 3.0 if home else 1.0
        weights.append(weight)
    return rng.choices(sample, weights)[0]


def play(board: chess.Board, sans: list[str], plies: int, rng: random.Random) -> None:
    """Add moves to `sans` until the game has `plies` plies or ends."""
    while len(sans) < plies and not board.is_game_over():
        if len(sans) < PLAUSIBLE_PLIES:
            move = plausible_move(board, rng)
        else:
            move = rng.choice(list(board.legal_moves))
        sans.append(board.san(move))
        board.push(move)


def replayed(sans: Sequence[str]) -> tuple[chess.Board, list[str]] | None:
    """The board after `sans` and their SAN as python-chess writes it; None if illegal."""
    board, out = chess.Board(), []
    for san in sans:
        try:
            move = board.parse_san(san)
        except ValueError:
            return None
        out.append(board.san(move))
        board.push(move)
    return board, out


def transposed(line: BookLine, rng: random.Random) -> list[str] | None:
    """The line with two of one side's moves swapped, reaching the same position."""
    end = replayed(line.sans)
    if end is None or len(line.sans) < 3:
        return None
    for _ in range(12):
        i, j = sorted(rng.sample(range(len(line.sans)), 2))
        if (j - i) % 2:
            continue
        sans = list(line.sans)
        sans[i], sans[j] = sans[j], sans[i]
        swapped = replayed(sans)
        if (
            swapped
            and swapped[0].board_fen() == end[0].board_fen()
            and swapped[0].turn == end[0].turn
        ):
            return swapped[1]
    return None


def spelled(sans: list[str], rng: random.Random) -> list[str]:
    """`sans` as a sloppier site or a hand-edited file might write them."""
    board, out = chess.Board(), []
    for san in sans:
        move = board.parse_san(san)
        if san.startswith("O-O"):
            san = san.replace("O", "0")
        if rng.random() < 0.5:
            san = san.rstrip("+#")
        if rng.random() < 0.05:
            san += rng.choice(("!", "?", "!?", "?!"))
        if san[0] in "NBRQ" and len(san) == 3 and rng.random() < 0.1:
            san = san[0] + chess.FILE_NAMES[chess.square_file(move.from_square)] + san[1:]
        out.append(san)
        board.push(move)
    return out


def make_game(kind: str, lines: Sequence[BookLine], rng: random.Random) -> list[str]:
    """One game of `kind` (see the module docstring)."""
    plies = int(rng.triangular(20, 120, 70))
    line = rng.choice(lines)
    if kind == "transposed":
        start = transposed(line, rng) or list(line.sans)
    elif kind == "tempo":
        start = [*TEMPO, *line.sans[: rng.randint(1, len(line.sans))]]
    elif kind in ("sideline", "random"):
        start = []
    else:
        start = list(line.sans[: rng.randint(max(1, len(line.sans) // 2), len(line.sans))])
    board_sans = replayed(start)
    if board_sans is None:
        board_sans = chess.Board(), []
    board, sans = board_sans
    if kind == "random":
        while len(sans) < plies and not board.is_game_over():
            move = rng.choice(list(board.legal_moves))
            sans.append(board.san(move))
            board.push(move)
    else:
        play(board, sans, plies, rng)
    return spelled(sans, rng) if kind == "spelled" else sans


def games(count: int, seed: int) -> list[tuple[str, tuple[str, ...]]]:
    """`count` (kind, moves) games, generated once per seed and cached in the temp dir."""
    path = Path(tempfile.gettempdir()) / f"gamekeeper-openings-{count}-{seed}.json"
    if path.exists():
        return [(kind, tuple(moves)) for kind, moves in json.loads(path.read_text())]
    print(f"generating {count} games into {path}...", file=sys.stderr)
    rng = random.Random(seed)
    lines = read_book_lines()
    kinds = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=count)
    made = [(kind, make_game(kind, lines, rng)) for kind in kinds]
    path.write_text(json.dumps(made))
    return [(kind, tuple(moves)) for kind, moves in made]


Namer = Callable[[Sequence[str]], Opening | None]
LOAD = (
    "import time; t = time.perf_counter(); "
    "from gamekeeper.analysis.openings import default_book; default_book(); "
    "print(time.perf_counter() - t)"
)


def rate(namer: Namer, moves: Sequence[tuple[str, ...]], rounds: int) -> tuple[float, float, list]:
    """The best games/s (wall, CPU) of `rounds` runs of `namer` over `moves`, and its answers."""
    wall = cpu = float("inf")
    answers: list[Opening | None] = []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        answers = [namer(m) for m in moves]
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return len(moves) / wall, len(moves) / cpu, answers


def load_seconds() -> float:
    """The best of three imports and builds of the book, each in a fresh process."""
    runs = [
        subprocess.run([sys.executable, "-c", LOAD], capture_output=True, check=True)
        for _ in range(3)
    ]
    return min(float(run.stdout) for run in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    played = games(args.games, args.seed)
    moves = [m for _, m in played]
    load_s = load_seconds()
    book: OpeningBook = default_book()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before")
    print(
        f"book: {len(book.lines)} lines, {len(book.named)} named positions, "
        f"import and build {load_s * 1000:.0f} ms"
    )
    fast_wall, fast, fast_answers = rate(book.name, moves, args.rounds)
    slow_wall, slow, slow_answers = rate(book.name_by_replay, moves, 1)
    kinds = Counter(kind for kind, _ in played)
    print("games: " + ", ".join(f"{kinds[k]} {k}" for k, _ in KINDS) + f" ({len(moves)} in all)")
    print(f"{'':<24} {'games/s (wall)':>15} {'per CPU-second':>15} {'us/game (CPU)':>14}")
    for label, wall, cpu in (
        ("fast path", fast_wall, fast),
        ("python-chess replay", slow_wall, slow),
    ):
        print(f"{label:<24} {wall:>15,.0f} {cpu:>15,.0f} {1e6 / cpu:>14.1f}")
    print(f"ratio: the fast path does {fast / slow:.1f}x the replay's games per CPU-second")
    for kind, _ in KINDS:
        of_kind = [m for k, m in played if k == kind]
        _, cpu, _ = rate(book.name, of_kind, args.rounds)
        print(f"  {kind:<11} {cpu:>10,.0f} games per CPU-second ({1e6 / cpu:5.1f} us)")
    same = sum(a == b for a, b in zip(fast_answers, slow_answers, strict=True))
    print(f"agreement: {same}/{len(moves)} games get the same name and ply from both sides")
    print(f"load average {os.getloadavg()[0]:.2f} after")
    ok = fast >= GOAL_FAST_GAMES_PER_S and same == len(moves)
    print(
        f"{'PASS' if ok else 'FAIL'}  fast path >= {GOAL_FAST_GAMES_PER_S:,} games per CPU-second, "
        "same answers as the replay"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
