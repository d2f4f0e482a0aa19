"""The pieces of PGN movetext notation the PGN modules share: the `Movetext` value,
how python-chess cuts moves, SAN normalisation, and `[%clk]` / `[%eval]` values.

Moves are kept as written, with only the purely syntactic normalisations python-chess's
`Board.san` would also produce:

- annotation suffixes (`!`, `?`, `!?`, ...) and NAGs are dropped;
- `0-0`/`0-0-0` become `O-O`/`O-O-O`; null moves `Z0`, `0000`, `@@@@` become `--`;
- promotions get `=` and an upper-case piece (`e8q` → `e8=Q`); a pawn letter is dropped
  (`Pe4` → `e4`, `P@e4` → `@e4`, as python-chess prints pawn drops);
- check marks are kept as written (`++` → `+`).

What needs a position is left to the analysis stage: long algebraic moves (`e2e4`),
over-disambiguated moves (`Nbd2` where `Nd2` suffices) and missing check marks are kept
as written, and legality is not checked. Every site that exports PGN (Lichess,
Chess.com, ChessBase, pgn-extract) writes canonical SAN, so this only matters for
hand-edited files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from gamekeeper.domain.games import Eval

__all__ = ["Movetext"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Movetext:
    """The mainline of one game's movetext."""

    #: Mainline SAN moves, as python-chess's `node.san()` prints them for canonical input.
    moves: tuple[str, ...]
    #: Remaining clock after each move in centiseconds (`[%clk h:mm:ss.f]`), aligned with
    #: `moves`; None when no move has a clock.
    clocks: tuple[int | None, ...] | None = None
    #: Evaluation after each move (`[%eval 0.17]`, `[%eval #-3]`), aligned with `moves`;
    #: None when no move has one.
    evals: tuple[Eval | None, ...] | None = None
    #: The first game termination marker outside variations (`1-0`, `0-1`, `1/2-1/2`,
    #: `*`), None when the movetext has none.
    result: str | None = None


# python-chess's move alternatives (its `MOVETEXT_REGEX`), so we cut moves where it does,
# with the check marks it would recompute from the board.
MOVE_PATTERN: Final = r"""(?:[NBKRQ]?[a-h]?[1-8]?[-x]?[a-h][1-8](?:=?[nbrqkNBRQK])?
    |[PNBRQK]?@[a-h][1-8]
    |--|Z0|0000|@@@@
    |O-O(?:-O)?|0-0(?:-0)?
    )[+\#]*"""
RESULTS: Final = frozenset({"1-0", "0-1", "1/2-1/2", "*"})

# Exactly python-chess's `CLOCK_REGEX` and `EVAL_REGEX` (without their affixes), so a
# comment yields the same clock and evaluation as `node.clock()` / `node.eval()`.
CLOCK_PATTERN: Final = r"(\d+):(\d+):(\d+(?:\.\d*)?)"
EVAL_PATTERN: Final = r"(?:\#([+-]?\d+)|([+-]?(?:\d{0,10}\.\d{1,2}|\d{1,10}\.?)))(?:,\d+)?"

_MOVE_RE: Final = re.compile(MOVE_PATTERN, re.VERBOSE)
_ANNOTATION_RE: Final = re.compile(r"[!?]*")
_CANONICAL_SAN_RE: Final = re.compile(
    r"(?:[NBRQK]?[a-h]?[1-8]?x?[a-h][1-8](?:=[NBRQK])?|[NBRQK]?@[a-h][1-8]|O-O(?:-O)?|--)[+#]?"
)
_NULL_MOVES: Final = frozenset({"--", "Z0", "0000", "@@@@"})


def normalise_san(token: str) -> str:
    """The SAN python-chess would print for a move token, as far as syntax tells."""
    if _CANONICAL_SAN_RE.fullmatch(token):
        return token
    body = token.rstrip("+#")
    suffix = token[len(body) :]
    mark = "#" if "#" in suffix else ("+" if suffix else "")
    if body in _NULL_MOVES:
        return "--"
    if body.startswith("0-0"):
        return body.replace("0", "O") + mark
    if body.startswith("P"):
        body = body[1:]
    if "@" not in body and body[-1] in "nbrqkNBRQK":
        square_end = len(body) - 1 - (body[-2] == "=")
        body = f"{body[:square_end]}={body[-1].upper()}"
    return body + mark


def move_word(word: str) -> str | None:
    """The SAN of a whole word from which python-chess reads exactly one move (with
    check marks and `!?` annotations), else None."""
    match = _MOVE_RE.match(word)
    if match is None or not _ANNOTATION_RE.fullmatch(word, match.end()):
        return None
    return normalise_san(match.group())


def centiseconds(hours: str, minutes: str, seconds: str) -> int:
    """A `[%clk h:mm:ss.f]` reading in centiseconds."""
    return int(hours) * 360_000 + int(minutes) * 6_000 + round(float(seconds) * 100)


def evaluation(mate: str | None, cp: str | None) -> Eval:
    """An `[%eval]` reading: a mate in `mate` moves, else `cp` pawns."""
    if mate is not None:
        return Eval(mate=int(mate))
    # round(float * 100) is what python-chess does, so `0.29` is 29 cp in both.
    return Eval(cp=round(float(cp or 0) * 100))
