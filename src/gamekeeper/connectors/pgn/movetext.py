"""PGN movetext to mainline SAN moves, clocks, evaluations and result, without a board.

`parse_movetext` reads the movetext of one game the way python-chess's `read_game`
tokenises it (same move, comment, variation and result rules), but never builds a
position. The regular shapes sites export take a fast path (`pgn.fast`); anything
else goes through the general tokeniser here. `pgn.notation` says which normalisations
of the SAN as written are made (the ones python-chess's `Board.san` would make too) and
which are left to the analysis stage.
"""

from __future__ import annotations

import re
from typing import Final

from gamekeeper.connectors.pgn.fast import read_exported
from gamekeeper.connectors.pgn.notation import (
    CLOCK_PATTERN,
    EVAL_PATTERN,
    MOVE_PATTERN,
    RESULTS,
    Movetext,
    centiseconds,
    evaluation,
    normalise_san,
)
from gamekeeper.domain.games import Eval

__all__ = [
    "Movetext",
    "movetext_end",
    "parse_movetext",
    "read_game_movetext",
    "read_general_movetext",
]

# One alternation, no capturing groups, so `findall` returns plain strings (far cheaper
# than match objects).
_TOKEN_RE: Final = re.compile(
    rf"""
    \{{[^}}]*\}}?               # comment; an unterminated one runs to the end
    |;[^\n]*                # rest-of-line comment
    |^%[^\n]*               # escape line
    |[()]                   # variation start / end
    |{MOVE_PATTERN}
    |1-0|0-1|1/2-1/2|\*     # game termination marker
    """,
    re.VERBOSE | re.MULTILINE,
)
_CLOCK_RE: Final = re.compile(rf"\[%clk\s{CLOCK_PATTERN}\]")
_EVAL_RE: Final = re.compile(rf"\[%eval\s{EVAL_PATTERN}\]")

#: A comment's (clock, eval) pair.
_Note = tuple[int | None, Eval | None]
_NO_NOTE: Final[_Note] = (None, None)


class _TokenSans(dict[str, str]):
    """Move token (as the tokeniser cuts it) -> SAN."""

    def __missing__(self, token: str) -> str:
        san = normalise_san(token)
        if len(self) >= 200_000:
            self.clear()
        self[token] = san
        return san


class _NoteCache(dict[str, _Note]):
    """Comment text -> (clock, eval)."""

    def __missing__(self, comment: str) -> _Note:
        note = _parse_note(comment)
        # Bounded: comments are free text, and only repeated ones are worth keeping.
        if len(self) >= 20_000:
            self.clear()
        # Long comments are rarely repeated: don't let them fill the cache.
        if len(comment) <= 200:
            self[comment] = note
        return note


_NOTE_CACHE: Final = _NoteCache()
_TOKEN_SANS: Final = _TokenSans()


def _parse_note(comment: str) -> _Note:
    clock_match = _CLOCK_RE.search(comment)
    eval_match = _EVAL_RE.search(comment)
    if clock_match is None and eval_match is None:
        return _NO_NOTE
    return (
        None if clock_match is None else centiseconds(*clock_match.groups()),
        None if eval_match is None else evaluation(*eval_match.groups()),
    )


def parse_movetext(text: str) -> Movetext:
    """Read the mainline moves, clocks, evaluations and result of one game's movetext."""
    return read_exported(text.encode()) or _parse_tokens(text)


def read_game_movetext(text: str, data: bytes | None = None) -> tuple[Movetext, int]:
    """The first game's mainline in `text`, and the index where that game's movetext ends.

    A game ends just past its termination marker; whatever follows (another game
    without tags, text that is no game) is left to the caller. Without a marker the
    whole text is the game, and its `result` is None. `data` is `text` encoded, when
    the caller has it.
    """
    exported = read_exported(text.encode() if data is None else data)
    if exported is not None:
        return exported, len(text)
    return read_general_movetext(text)


def read_general_movetext(text: str) -> tuple[Movetext, int]:
    """`read_game_movetext` without trying the fast path first."""
    end = movetext_end(text)
    # (Not `str.isspace`, which takes the control characters \x1c-\x1f for spaces.)
    if end is None or not text[end:].strip(" \t\r\n\x0c"):
        return _parse_tokens(text), len(text)
    return _parse_tokens(text[:end]), end


def movetext_end(text: str, start: int = 0) -> int | None:
    """The index just past the first termination marker from `start` that is outside
    comments and variations and followed by whitespace, or None when there is none."""
    played = [0]
    for match in _TOKEN_RE.finditer(text, start):
        token = match.group()
        first = token[0]
        if first == "(":
            if played[-1]:
                played.append(played[-1] - 1)
        elif first == ")":
            if len(played) > 1:
                played.pop()
        elif first in "{;%":
            continue
        elif token in RESULTS:
            stop = match.end()
            # A marker glued to what follows (`*A`) is not one: likely binary junk.
            if len(played) == 1 and (stop == len(text) or text[stop].isspace()):
                return stop
        else:
            played[-1] += 1
    return None


def _parse_tokens(text: str) -> Movetext:
    """Any movetext, token by token, with python-chess's rules for variations and comments."""
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
    for token in _TOKEN_RE.findall(text):
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
        elif token in RESULTS:
            if len(played) == 1 and result is None:
                result = token
        else:
            played[-1] += 1
            after_move = True
            if len(played) == 1:
                moves.append(token)
                notes.append(None)

    sans = tuple(map(_TOKEN_SANS.__getitem__, moves))
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
