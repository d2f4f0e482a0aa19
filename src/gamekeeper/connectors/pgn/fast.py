"""The fast path of movetext reading: the regular shapes that sites export.

Lichess dumps (`1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] }`, with
`[%eval 0.17]` before the clock on every move of analysed games but a final mate),
Chess.com (`1. e4 {[%clk 0:02:59.9]}`) and plain `1. e4 e5 2. Nf3` movetext split into
words with a fixed period, so slicing the word list by that period gives the move
numbers, the moves and the clocks, all with C-level operations. Every word is checked
against what its slot must hold, so a text that merely looks similar is refused (None)
and read by the general tokeniser instead: both give the same result on any text the
fast path accepts (a property test holds them to it).

It works on bytes: `bytes.split` is a good deal cheaper than `str.split`, and the
reader has the bytes at hand anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Generic, TypeVar

from gamekeeper.connectors.pgn.notation import (
    CLOCK_PATTERN,
    EVAL_PATTERN,
    Movetext,
    centiseconds,
    evaluation,
    move_word,
)
from gamekeeper.domain.games import Eval

__all__ = ["read_exported"]

_T = TypeVar("_T")
_RESULTS: Final = {b"1-0": "1-0", b"0-1": "0-1", b"1/2-1/2": "1/2-1/2", b"*": "*"}
#: Move numbers of a game from the initial position: `1.`, `1...`, `2.`, `2...`, ...
_MOVE_NUMBERS: Final = [
    f"{ply // 2 + 1}{'...' if ply % 2 else '.'}".encode() for ply in range(1200)
]


class _WordTable(Generic[_T]):
    """The words that may fill one slot of an exported movetext, parsed.

    Exports repeat the same few thousand moves, clock readings and evaluations, so a
    word is parsed once and then found by C-level `map` over a plain dict.
    """

    __slots__ = ("_known", "_limit", "_parse")

    def __init__(self, parse: Callable[[str], _T | None], limit: int = 200_000) -> None:
        self._known: dict[bytes, _T] = {}
        self._parse = parse
        self._limit = limit

    def lookup(self, words: list[bytes]) -> tuple[_T, ...] | None:
        """The values of `words`, or None if one of them does not fit the slot."""
        # One pass of C-level lookups; a word not known yet (rare once warm) raises.
        # Not `get` then `None in values`: that compares every value with None.
        try:
            return tuple(map(self._known.__getitem__, words))
        except KeyError:
            if not self._learn(words):
                return None
            return tuple(map(self._known.__getitem__, words))

    def _learn(self, words: list[bytes]) -> bool:
        if len(self._known) > self._limit:
            self._known.clear()
        for word in words:
            if word not in self._known:
                if not word.isascii():
                    return False
                value = self._parse(word.decode("ascii"))
                if value is None:
                    return False
                self._known[word] = value
        return True


def _clock_word(suffix: str) -> Callable[[str], int | None]:
    pattern = re.compile(CLOCK_PATTERN + re.escape(suffix))

    def parse(word: str) -> int | None:
        match = pattern.fullmatch(word)
        return None if match is None else centiseconds(*match.groups())

    return parse


_EVAL_WORD_RE: Final = re.compile(EVAL_PATTERN + r"\]")


def _eval_word(word: str) -> Eval | None:
    match = _EVAL_WORD_RE.fullmatch(word)
    return None if match is None else evaluation(*match.groups())


_SANS: Final = _WordTable(move_word)
#: Lichess: `{ [%clk 0:03:00] }` split on whitespace gives `0:03:00]`.
_SPACED_CLOCKS: Final = _WordTable(_clock_word("]"))
#: Chess.com: `{[%clk 0:02:59.9]}` gives `0:02:59.9]}`.
_TIGHT_CLOCKS: Final = _WordTable(_clock_word("]}"))
#: Lichess: `{ [%eval 0.17] [%clk 0:03:00] }` gives `0.17]`.
_EVALS: Final = _WordTable(_eval_word)


def read_exported(data: bytes) -> Movetext | None:
    """The mainline of a movetext in an exported shape; None for any other text."""
    words = data.split()
    result = _RESULTS.get(words.pop()) if words and words[-1] in _RESULTS else None
    if len(words) < 4:
        return _read_plain(words, result) if b"{" not in data else None
    third, fourth = words[2], words[3]
    if third == b"{":
        if fourth == b"[%clk":
            return _read_clocks(words, result)
        if fourth == b"[%eval":
            return _read_evals(words, result)
        return None
    if third == b"{[%clk":
        return _read_tight_clocks(words, result)
    if b"{" in data:
        return None
    return _read_plain(words, result)


def _numbers_ok(numbers: list[bytes]) -> bool:
    """Move numbers hold no move: only digits and dots, and no `0000` (a null move)."""
    if numbers == _MOVE_NUMBERS[: len(numbers)]:
        return True
    joined = b" ".join(numbers)
    return not joined.translate(None, b"0123456789. ") and b"0000" not in joined


def _read_clocks(words: list[bytes], result: str | None) -> Movetext | None:
    """`1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] }`: six words a move."""
    plies, rest = divmod(len(words), 6)
    if (
        rest
        or words[2::6].count(b"{") != plies
        or words[3::6].count(b"[%clk") != plies
        or words[5::6].count(b"}") != plies
        or not _numbers_ok(words[0::6])
    ):
        return None
    sans = _SANS.lookup(words[1::6])
    clocks = _SPACED_CLOCKS.lookup(words[4::6])
    if sans is None or clocks is None:
        return None
    return Movetext(moves=sans, clocks=clocks, result=result)


def _read_evals(words: list[bytes], result: str | None) -> Movetext | None:
    """`1. e4 { [%eval 0.17] [%clk 0:03:00] }`: eight words a move, but six for a last
    move without an evaluation (a mate)."""
    last = None
    if len(words) % 8 == 6:
        last = _read_clocks(words[-6:], None)
        if last is None:
            return None
        words = words[:-6]
    plies, rest = divmod(len(words), 8)
    if (
        rest
        or words[2::8].count(b"{") != plies
        or words[3::8].count(b"[%eval") != plies
        or words[5::8].count(b"[%clk") != plies
        or words[7::8].count(b"}") != plies
        or not _numbers_ok(words[0::8])
    ):
        return None
    sans = _SANS.lookup(words[1::8])
    evals: tuple[Eval | None, ...] | None = _EVALS.lookup(words[4::8])
    clocks: tuple[int | None, ...] | None = _SPACED_CLOCKS.lookup(words[6::8])
    if sans is None or evals is None or clocks is None:
        return None
    if last is not None:
        sans += last.moves
        clocks += last.clocks or (None,)
        evals += (None,)
    return Movetext(moves=sans, clocks=clocks, evals=evals, result=result)


def _read_tight_clocks(words: list[bytes], result: str | None) -> Movetext | None:
    """`1. e4 {[%clk 0:02:59.9]} 1... e5 {[%clk 0:02:58.2]}`: four words a move."""
    plies, rest = divmod(len(words), 4)
    if rest or words[2::4].count(b"{[%clk") != plies or not _numbers_ok(words[0::4]):
        return None
    sans = _SANS.lookup(words[1::4])
    clocks = _TIGHT_CLOCKS.lookup(words[3::4])
    if sans is None or clocks is None:
        return None
    return Movetext(moves=sans, clocks=clocks, result=result)


def _read_plain(words: list[bytes], result: str | None) -> Movetext | None:
    """`1. e4 e5 2. Nf3 ...`: a move number, then White's and Black's moves."""
    if not _numbers_ok(words[0::3]):
        return None
    del words[0::3]
    sans = _SANS.lookup(words)
    if sans is None:
        return None
    return Movetext(moves=sans, result=result)
