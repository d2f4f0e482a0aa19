"""A game's moves replayed with python-chess: the move list and SVG boards, ply by ply."""

from __future__ import annotations

from dataclasses import dataclass

import chess
import chess.svg

from gamekeeper.domain.games import Game
from gamekeeper.domain.variants import VARIANT_BOARDS
from gamekeeper.web.formatting import fmt_clock, fmt_eval


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveCell:
    ply: int
    san: str
    clock: str
    eval: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveRow:
    """One move number: White's move and Black's (either may be missing)."""

    number: int
    white: MoveCell | None
    black: MoveCell | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """The start position and the legal moves of a game, as far as they could be read."""

    start: chess.Board
    moves: tuple[chess.Move, ...]
    sans: tuple[str, ...]
    #: Why the replay stopped early (an illegal or unreadable move), if it did.
    problem: str | None = None

    @property
    def plies(self) -> int:
        return len(self.moves)

    def board_at(self, ply: int) -> chess.Board:
        board = self.start.copy(stack=False)
        for move in self.moves[: max(0, min(ply, self.plies))]:
            board.push(move)
        return board

    def describe(self, ply: int) -> str:
        """`Start position`, `12. Nf3`, `12… Nc6`: what the board shows."""
        if ply <= 0 or not self.sans:
            return "Start position"
        ply = min(ply, self.plies)
        # Half-moves since a White move started the start position's move number.
        half = ply - 1 + (1 if self.start.turn == chess.BLACK else 0)
        number = self.start.fullmove_number + half // 2
        return f"{number}{'.' if half % 2 == 0 else '…'} {self.sans[ply - 1]}"


def start_board(game: Game) -> chess.Board:
    cls = VARIANT_BOARDS.get(game.variant, chess.Board)
    chess960 = game.variant == "chess960"
    if game.initial_fen:
        return cls(game.initial_fen, chess960=chess960)
    return cls(chess960=chess960)


def replay(game: Game) -> Replay:
    """Replay the game's SAN moves; stop (and say why) at the first one that won't play."""
    try:
        board = start_board(game)
    except ValueError as exc:
        return Replay(start=chess.Board(), moves=(), sans=(), problem=f"bad start position: {exc}")
    start = board.copy(stack=False)
    moves: list[chess.Move] = []
    sans: list[str] = []
    problem = None
    for san in game.moves or ():
        try:
            move = board.parse_san(san)
        except ValueError:
            problem = f"move {len(moves) + 1} ({san}) could not be played; the rest is not shown"
            break
        board.push(move)
        moves.append(move)
        sans.append(san)
    return Replay(start=start, moves=tuple(moves), sans=tuple(sans), problem=problem)


def move_rows(game: Game, played: Replay) -> list[MoveRow]:
    """The move list in pairs, each move with the clock after it and the evaluation."""
    clocks, evals = game.clocks or (), game.evals or ()
    cells = [
        MoveCell(
            ply=i + 1,
            san=san,
            clock=fmt_clock(clocks[i]) if i < len(clocks) else "",
            eval=fmt_eval(evals[i]) if i < len(evals) else "",
        )
        for i, san in enumerate(played.sans)
    ]
    number = played.start.fullmove_number
    rows: list[MoveRow] = []
    index = 0
    if played.start.turn == chess.BLACK and cells:
        rows.append(MoveRow(number=number, white=None, black=cells[0]))
        index, number = 1, number + 1
    while index < len(cells):
        white = cells[index]
        black = cells[index + 1] if index + 1 < len(cells) else None
        rows.append(MoveRow(number=number, white=white, black=black))
        index, number = index + 2, number + 1
    return rows


def board_svg(played: Replay, ply: int, *, flipped: bool = False) -> str:
    """The position after `ply` plies, the last move and any check marked; sized by CSS."""
    ply = max(0, min(ply, played.plies))
    board = played.board_at(ply)
    last = played.moves[ply - 1] if ply else None
    check = board.king(board.turn) if board.is_check() else None
    return chess.svg.board(
        board,
        orientation=chess.BLACK if flipped else chess.WHITE,
        lastmove=last,
        check=check,
        coordinates=True,
        size=None,
    )
