"""Legal move sequences for the emulators' games, made with python-chess.

Playing a legal game move by move costs about 50 µs a ply, far too slow for 100,000
games. So there is a small pool of legal *templates* (an opening, then biased
random play to a natural end or a cut-off), and every generated game takes one
template whole (when it ended in mate, stalemate, a draw or a variant win) or a
prefix of it (any prefix of a legal game is legal: resignations, time-outs, aborts).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Final, Literal

import chess
import chess.variant

from gamekeeper.domain.variants import VARIANT_BOARDS

#: How a template's last position ends the game; "open" means it was cut off.
Ending = Literal["mate", "stalemate", "draw", "variantEnd", "open"]
#: Which automatic draw a "draw" ending is (Chess.com's result codes).
DrawKind = Literal["insufficient", "repetition", "50move"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    eco: str
    name: str
    moves: tuple[str, ...]


#: Well-known openings (ECO code, Lichess-style name, SAN moves) the games start with.
OPENINGS: Final = tuple(
    Opening(eco=eco, name=name, moves=tuple(moves.split()))
    for eco, name, moves in [
        ("B07", "Pirc Defense", "e4 d6 d4 Nf6 Nc3 g6"),
        ("C50", "Italian Game", "e4 e5 Nf3 Nc6 Bc4"),
        ("C60", "Ruy Lopez", "e4 e5 Nf3 Nc6 Bb5"),
        ("B20", "Sicilian Defense", "e4 c5"),
        ("B22", "Sicilian Defense: Alapin Variation", "e4 c5 c3"),
        ("C00", "French Defense", "e4 e6"),
        ("B10", "Caro-Kann Defense", "e4 c6"),
        ("D06", "Queen's Gambit", "d4 d5 c4"),
        ("D30", "Queen's Gambit Declined", "d4 d5 c4 e6"),
        ("E60", "King's Indian Defense", "d4 Nf6 c4 g6"),
        ("A45", "Indian Defense", "d4 Nf6"),
        ("A10", "English Opening", "c4"),
        ("A04", "Zukertort Opening", "Nf3"),
        ("C42", "Petrov's Defense", "e4 e5 Nf3 Nf6"),
        ("C44", "Scotch Game", "e4 e5 Nf3 Nc6 d4"),
        ("B01", "Scandinavian Defense", "e4 d5"),
        ("C20", "King's Pawn Game", "e4 e5"),
        ("A00", "Van't Kruijs Opening", "e3"),
        ("A02", "Bird Opening", "f4"),
        ("D00", "Queen's Pawn Game", "d4 d5"),
        ("C30", "King's Gambit", "e4 e5 f4"),
        ("B06", "Modern Defense", "e4 g6"),
        ("A80", "Dutch Defense", "d4 f5"),
    ]
)

#: Start positions of `fromPosition` games.
FROM_POSITIONS: Final = (
    "8/8/8/4k3/8/8/4P3/4K3 w - - 0 1",
    "4k3/pppppppp/8/8/8/8/PPPPPPPP/4K3 w - - 0 1",
    "r3k2r/pppq1ppp/2npbn2/4p3/4P3/2NPBN2/PPPQ1PPP/R3K2R w KQkq - 4 8",
    "6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1",
)


#: How many templates each seed gets, per variant.
POOL: Final = {
    "standard": 40,
    "chess960": 4,
    "fromPosition": 3,
    "crazyhouse": 2,
    "atomic": 2,
    "kingOfTheHill": 2,
    "threeCheck": 2,
    "antichess": 2,
    "horde": 1,
    "racingKings": 2,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """One legal game: its moves, positions and how it ends."""

    variant: str
    #: Set for chess960 and fromPosition games (as Lichess's `initialFen`).
    initial_fen: str | None
    sans: tuple[str, ...]
    #: FEN after each ply: fens[0] is the start, fens[n] the position after n plies.
    fens: tuple[str, ...]
    ending: Ending
    winner: Literal["white", "black"] | None
    draw_kind: DrawKind | None
    opening: Opening | None
    #: Engine-like evaluation after each ply: centipawns, or ("mate", n).
    evals: tuple[int | tuple[str, int], ...]

    def moves_text(self, plies: int) -> str:
        return " ".join(self.sans[:plies])


def _board(variant: str, rng: random.Random) -> tuple[chess.Board, str | None]:
    if variant == "chess960":
        board = chess.Board.from_chess960_pos(rng.randrange(960))
        return board, board.fen()
    if variant == "fromPosition":
        fen = rng.choice(FROM_POSITIONS)
        return chess.Board(fen), fen
    if variant in VARIANT_BOARDS:
        return VARIANT_BOARDS[variant](), None
    return chess.Board(), None


def _pick(board: chess.Board, rng: random.Random, ply: int) -> chess.Move:
    moves = list(board.legal_moves)
    # Take a win when it is on the board, so games end in mates and variant wins too.
    if ply > 8:
        for move in moves:
            if board.gives_check(move) or board.uci_variant != "chess":
                board.push(move)
                over = board.is_checkmate() or board.is_variant_end()
                board.pop()
                if over and rng.random() < 0.85:
                    return move
    if isinstance(board, chess.variant.RacingKingsBoard):
        forward = [
            m
            for m in moves
            if board.piece_type_at(m.from_square) == chess.KING
            and chess.square_rank(m.to_square) > chess.square_rank(m.from_square)
        ]
        if forward and rng.random() < 0.7:
            return rng.choice(forward)
    roll = rng.random()
    if roll < 0.25:
        checks = [m for m in moves if board.gives_check(m)]
        if checks:
            return rng.choice(checks)
    captures = [m for m in moves if board.is_capture(m)]
    if captures and roll < 0.7:
        return rng.choice(captures)
    return rng.choice(moves)


def _ending(board: chess.Board) -> tuple[Ending, Literal["white", "black"] | None]:
    result = board.result(claim_draw=False)
    winner: Literal["white", "black"] | None = None
    if result == "1-0":
        winner = "white"
    elif result == "0-1":
        winner = "black"
    if board.is_variant_end():
        return "variantEnd", winner
    if board.is_checkmate():
        return "mate", winner
    if board.is_stalemate():
        return "stalemate", None
    if board.is_game_over(claim_draw=False):
        return "draw", None
    return "open", None


def _evals(
    rng: random.Random, plies: int, ending: Ending, winner: str | None
) -> list[int | tuple[str, int]]:
    evals: list[int | tuple[str, int]] = []
    cp = rng.randint(-30, 40)
    for _ in range(plies):
        cp = max(-1500, min(1500, cp + int(rng.gauss(0, 45))))
        evals.append(cp)
    if ending == "mate" and winner is not None:
        sign = 1 if winner == "white" else -1
        for back in range(1, min(4, plies) + 1):
            evals[-back] = ("mate", sign * ((back + 1) // 2))
        # After the mating move there is nothing to evaluate.
        evals.pop()
    return evals


def make_template(variant: str, rng: random.Random) -> Template:
    """Play one legal game of `variant`: an opening (standard chess), then biased random play."""
    board, initial_fen = _board(variant, rng)
    sans: list[str] = []
    fens = [board.fen()]
    opening = None
    if variant == "standard":
        opening = rng.choice(OPENINGS)
        for san in opening.moves:
            move = board.parse_san(san)
            sans.append(board.san(move))
            board.push(move)
            fens.append(board.fen())
    limit = rng.randint(30, 150)
    while len(sans) < limit and not board.is_game_over(claim_draw=False):
        move = _pick(board, rng, len(sans))
        sans.append(board.san(move))
        board.push(move)
        fens.append(board.fen())
    ending, winner = _ending(board)
    draw_kind: DrawKind | None = None
    if ending == "draw":
        if board.is_insufficient_material():
            draw_kind = "insufficient"
        elif board.is_seventyfive_moves():
            draw_kind = "50move"
        else:
            draw_kind = "repetition"
    return Template(
        variant=variant,
        initial_fen=initial_fen,
        sans=tuple(sans),
        fens=tuple(fens),
        ending=ending,
        winner=winner,
        draw_kind=draw_kind,
        opening=opening,
        evals=tuple(_evals(rng, len(sans), ending, winner)),
    )


@functools.lru_cache(maxsize=1)
def template_pool() -> dict[str, tuple[Template, ...]]:
    """The template pool, by variant: made once per process (about half a second).

    It is the same for every seed; a seed picks templates, cut-off points and everything
    else about its games, which is variety enough and keeps each new seed cheap.
    """
    rng = random.Random("gamekeeper templates v1")
    return {
        variant: tuple(make_template(variant, rng) for _ in range(count))
        for variant, count in POOL.items()
    }
