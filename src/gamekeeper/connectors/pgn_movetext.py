"""PGN movetext to mainline SAN moves, clocks, evaluations and result, without a board.

`parse_movetext` reads the movetext of one game the way python-chess's `read_game`
tokenises it (same move, comment, variation and result rules), but never builds a
position: it keeps the SAN tokens as written, with only the purely syntactic
normalisations python-chess's `Board.san` would also produce:

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

__all__ = ["Movetext", "parse_movetext"]


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


# One alternation, no capturing groups, so `findall` returns plain strings (far cheaper
# than match objects). The move alternatives are python-chess's `MOVETEXT_REGEX` ones,
# plus the check marks python-chess would recompute from the board.
_TOKEN_RE: Final = re.compile(
    r"""
    \{[^}]*\}?                                  # comment; an unterminated one runs to the end
    |;[^\n]*                                    # rest-of-line comment
    |^%[^\n]*                                   # escape line
    |[()]                                       # variation start / end
    |(?:[NBKRQ]?[a-h]?[1-8]?[-x]?[a-h][1-8](?:=?[nbrqkNBRQK])?
       |[PNBRQK]?@[a-h][1-8]
       |--|Z0|0000|@@@@
       |O-O(?:-O)?|0-0(?:-0)?
      )[+\#]*                                   # a move with its check mark
    |1-0|0-1|1/2-1/2|\*                         # game termination marker
    """,
    re.VERBOSE | re.MULTILINE,
)

_RESULTS: Final = frozenset({"1-0", "0-1", "1/2-1/2", "*"})

# Exactly python-chess's `CLOCK_REGEX` and `EVAL_REGEX` (without their affixes), so a
# comment yields the same clock and evaluation as `node.clock()` / `node.eval()`.
_CLOCK_RE: Final = re.compile(r"\[%clk\s(\d+):(\d+):(\d+(?:\.\d*)?)\]")
_EVAL_RE: Final = re.compile(
    r"\[%eval\s(?:\#([+-]?\d+)|([+-]?(?:\d{0,10}\.\d{1,2}|\d{1,10}\.?)))(?:,\d+)?\]"
)
_CANONICAL_SAN_RE: Final = re.compile(
    r"(?:[NBRQK]?[a-h]?[1-8]?x?[a-h][1-8](?:=[NBRQK])?|[NBRQK]?@[a-h][1-8]|O-O(?:-O)?|--)[+#]?"
)
_NULL_MOVES: Final = frozenset({"--", "Z0", "0000", "@@@@"})

#: A comment's (clock, eval) pair. Dump comments repeat a lot (`[%clk 0:03:00]`), so
#: caching them turns most lookups into one dict hit.
_Note = tuple[int | None, Eval | None]
_NO_NOTE: Final[_Note] = (None, None)
_CACHE_LIMIT: Final = 200_000


class _SanCache(dict[str, str]):
    """Raw move token -> normalised SAN; a miss computes and remembers it."""

    def __missing__(self, token: str) -> str:
        san = _normalise_san(token)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[token] = san
        return san


class _NoteCache(dict[str, _Note]):
    """Comment text -> (clock, eval); a miss parses and remembers it."""

    def __missing__(self, comment: str) -> _Note:
        note = _parse_note(comment)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        # Long comments are rarely repeated: don't let them fill the cache.
        if len(comment) <= 200:
            self[comment] = note
        return note


_SAN_CACHE: Final = _SanCache()
_NOTE_CACHE: Final = _NoteCache()


def _normalise_san(token: str) -> str:
    """The SAN python-chess would print for a syntactically valid move token."""
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


def _parse_note(comment: str) -> _Note:
    clock = None
    evaluation = None
    match = _CLOCK_RE.search(comment)
    if match:
        hours, minutes, seconds = match.groups()
        clock = int(hours) * 360_000 + int(minutes) * 6_000 + round(float(seconds) * 100)
    match = _EVAL_RE.search(comment)
    if match:
        mate, cp = match.groups()
        # round(float * 100) is what python-chess does, so `0.29` is 29 cp in both.
        evaluation = Eval(mate=int(mate)) if mate is not None else Eval(cp=round(float(cp) * 100))
    if clock is None and evaluation is None:
        return _NO_NOTE
    return (clock, evaluation)


def parse_movetext(text: str) -> Movetext:
    """Read the mainline moves, clocks, evaluations and result of one game's movetext."""
    tokens = _TOKEN_RE.findall(text)
    if "(" not in text and "{" not in text:
        return _parse_plain(tokens)

    moves: list[str] = []
    # The comments after each mainline move, or None; they give the clock and eval.
    notes: list[str | None] = []
    result: str | None = None
    # Like python-chess's board stack: how many moves each open line has played. A `(`
    # opens a variation only when there is a move to branch from.
    played = [0]
    # python-chess's GameBuilder.in_variation: a comment belongs to the last mainline
    # move unless a variation without moves was opened or closed since.
    after_move = False
    for token in tokens:
        first = token[0]
        if first == "{":
            if after_move and len(played) == 1 and moves:
                previous = notes[-1]
                notes[-1] = token if previous is None else previous + token
        elif first == "(":
            if played[-1]:
                played.append(played[-1] - 1)
                after_move = False
        elif first == ")":
            if len(played) > 1:
                played.pop()
        elif first in ";%":
            continue
        elif token in _RESULTS:
            if len(played) == 1 and result is None:
                result = token
        else:
            played[-1] += 1
            after_move = True
            if len(played) == 1:
                moves.append(token)
                notes.append(None)

    sans = tuple(map(_SAN_CACHE.__getitem__, moves))
    if not any(notes):
        return Movetext(moves=sans, result=result)
    parsed = [_NO_NOTE if note is None else _NOTE_CACHE[note] for note in notes]
    clocks = tuple(note[0] for note in parsed)
    evals = tuple(note[1] for note in parsed)
    return Movetext(
        moves=sans,
        clocks=clocks if any(clock is not None for clock in clocks) else None,
        evals=evals if any(evals) else None,
        result=result,
    )


def _parse_plain(tokens: list[str]) -> Movetext:
    """The common case without comments or variations: moves, results and `;` comments."""
    moves: list[str] = []
    result: str | None = None
    for token in tokens:
        if token in _RESULTS:
            if result is None:
                result = token
        elif token[0] not in ";%)":
            moves.append(token)
    return Movetext(moves=tuple(map(_SAN_CACHE.__getitem__, moves)), result=result)
