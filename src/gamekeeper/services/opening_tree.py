"""An opening tree over a player's games: from a position, each next move with its games
and results. Positions, not move orders, are the key: games that reach the position by
another move order (a transposition) count under it too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import chess

from gamekeeper.analysis.openings import PositionKey, position_key
from gamekeeper.domain.players import CrawledPlayer, PlayerGame
from gamekeeper.errors import InvalidInput

#: The longest line a tree may be asked about, in plies.
MAX_TREE_PLIES = 40
#: How many plies past the line's length a game is searched for the position (a
#: transposition can take longer, e.g. a knight out and back).
TRANSPOSITION_SLACK = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeMove:
    san: str
    games: int
    white: int
    draws: int
    black: int
    #: The player's points per game after this move (win 1, draw 0.5).
    score: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningTree:
    player: CrawledPlayer
    color: str | None
    moves: tuple[str, ...]
    fen: str
    #: Games of the player that reached the position.
    games: int
    next_moves: tuple[TreeMove, ...]


def parse_moves(text: str) -> tuple[str, ...]:
    """SAN moves from the start position, checked: `InvalidInput` for an illegal one."""
    tokens = tuple(t for t in text.replace(",", " ").split() if t)
    if len(tokens) > MAX_TREE_PLIES:
        raise InvalidInput(f"moves: at most {MAX_TREE_PLIES} plies")
    board = chess.Board()
    for number, token in enumerate(tokens, 1):
        if len(token) > 10:
            raise InvalidInput(f"moves: {token[:10]!r}… is not a move")
        try:
            board.push_san(token)
        except ValueError:
            raise InvalidInput(f"moves: {token!r} (ply {number}) is not a legal move") from None
    return tokens


def _target(line: Sequence[str]) -> tuple[PositionKey, str]:
    board = chess.Board()
    for san in line:
        board.push_san(san)
    return position_key(board), board.fen()


def _next_move(game: PlayerGame, target: PositionKey, horizon: int) -> str | None:
    """The move the game played from `target` (first time reached), or None."""
    if game.moves is None or game.initial_fen or game.variant != "standard":
        return None
    board = chess.Board()
    sans = game.moves.split()
    for ply in range(min(horizon, len(sans)) + 1):
        if position_key(board) == target:
            return sans[ply] if ply < len(sans) else None
        if ply >= len(sans):
            return None
        try:
            board.push_san(sans[ply])
        except ValueError:
            return None
    return None


def build_tree(
    player: CrawledPlayer,
    games: Sequence[PlayerGame],
    line: Sequence[str],
    *,
    color: str | None = None,
) -> OpeningTree:
    target, fen = _target(line)
    horizon = len(line) + TRANSPOSITION_SLACK
    tallies: dict[str, list[int]] = {}
    points: dict[str, float] = {}
    reached = 0
    for game in games:
        san = _next_move(game, target, horizon)
        if san is None:
            continue
        reached += 1
        row = tallies.setdefault(san, [0, 0, 0, 0])
        row[0] += 1
        if game.result == "1-0":
            row[1] += 1
        elif game.result == "1/2-1/2":
            row[2] += 1
        elif game.result == "0-1":
            row[3] += 1
        gained = {"win": 1.0, "draw": 0.5}.get(game.outcome or "", 0.0)
        points[san] = points.get(san, 0.0) + gained
    moves = tuple(
        TreeMove(
            san=san,
            games=row[0],
            white=row[1],
            draws=row[2],
            black=row[3],
            score=_score(points[san], row[1] + row[2] + row[3]),
        )
        for san, row in sorted(tallies.items(), key=lambda item: (-item[1][0], item[0]))
    )
    return OpeningTree(
        player=player, color=color, moves=tuple(line), fen=fen, games=reached, next_moves=moves
    )


def _score(points: float, decided: int) -> float | None:
    return None if not decided else round(points / decided, 3)
