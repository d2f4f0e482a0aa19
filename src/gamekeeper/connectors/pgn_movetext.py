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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from gamekeeper.domain.games import Eval

__all__ = ["Movetext", "movetext_end", "parse_movetext", "read_game_movetext"]


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


# python-chess's move alternatives (its `MOVETEXT_REGEX`), so we cut moves where it does.
_MOVE = r"""(?:[NBKRQ]?[a-h]?[1-8]?[-x]?[a-h][1-8](?:=?[nbrqkNBRQK])?
    |[PNBRQK]?@[a-h][1-8]
    |--|Z0|0000|@@@@
    |O-O(?:-O)?|0-0(?:-0)?
    )[+\#]*"""

# One alternation, no capturing groups, so `findall` returns plain strings (far cheaper
# than match objects). A move keeps its check mark, which python-chess would recompute.
_TOKEN_RE: Final = re.compile(
    rf"""
    \{{[^}}]*\}}?               # comment; an unterminated one runs to the end
    |;[^\n]*                # rest-of-line comment
    |^%[^\n]*               # escape line
    |[()]                   # variation start / end
    |{_MOVE}
    |1-0|0-1|1/2-1/2|\*     # game termination marker
    """,
    re.VERBOSE | re.MULTILINE,
)
_MOVE_RE: Final = re.compile(_MOVE, re.VERBOSE)
_ANNOTATION_RE: Final = re.compile(r"[!?]*")

_RESULTS: Final = frozenset({"1-0", "0-1", "1/2-1/2", "*"})

# Exactly python-chess's `CLOCK_REGEX` and `EVAL_REGEX` (without their affixes), so a
# comment yields the same clock and evaluation as `node.clock()` / `node.eval()`.
_CLOCK = r"(\d+):(\d+):(\d+(?:\.\d*)?)"
_EVAL = r"(?:\#([+-]?\d+)|([+-]?(?:\d{0,10}\.\d{1,2}|\d{1,10}\.?)))(?:,\d+)?"
_CLOCK_RE: Final = re.compile(rf"\[%clk\s{_CLOCK}\]")
_EVAL_RE: Final = re.compile(rf"\[%eval\s{_EVAL}\]")
_CANONICAL_SAN_RE: Final = re.compile(
    r"(?:[NBRQK]?[a-h]?[1-8]?x?[a-h][1-8](?:=[NBRQK])?|[NBRQK]?@[a-h][1-8]|O-O(?:-O)?|--)[+#]?"
)
_NULL_MOVES: Final = frozenset({"--", "Z0", "0000", "@@@@"})
#: Deletes the characters of move numbers (`12.`, `12...`) and the spaces between them.
_NUMBER_CHARS: Final = str.maketrans("", "", "0123456789. ")
#: Move numbers of a game from the initial position: `1.`, `1...`, `2.`, `2...`, ...
_MOVE_NUMBERS: Final = [f"{ply // 2 + 1}{'...' if ply % 2 else '.'}" for ply in range(1200)]

#: A comment's (clock, eval) pair.
_Note = tuple[int | None, Eval | None]
_NO_NOTE: Final[_Note] = (None, None)
_T = TypeVar("_T")


class _WordTable(Generic[_T]):
    """The words that may fill one slot of an exported movetext, parsed.

    Exports repeat the same few thousand moves, clock readings and evaluations, so a
    word is parsed once and then found by C-level `map` over a plain dict.
    """

    __slots__ = ("_known", "_limit", "_parse")

    def __init__(self, parse: Callable[[str], _T | None], limit: int = 200_000) -> None:
        self._known: dict[str, _T] = {}
        self._parse = parse
        self._limit = limit

    def lookup(self, words: list[str]) -> tuple[_T, ...] | None:
        """The values of `words`, or None if one of them does not fit the slot."""
        values = tuple(map(self._known.get, words))
        if None in values:
            if not self._learn(words):
                return None
            values = tuple(map(self._known.get, words))
        return values  # type: ignore[return-value]  # no None left: all were learnt

    def _learn(self, words: list[str]) -> bool:
        if len(self._known) > self._limit:
            self._known.clear()
        for word in words:
            if word not in self._known:
                value = self._parse(word)
                if value is None:
                    return False
                self._known[word] = value
        return True


class _TokenSans(dict[str, str]):
    """Move token (as the tokeniser cuts it) -> SAN."""

    def __missing__(self, token: str) -> str:
        san = _normalise_san(token)
        if len(self) >= 200_000:
            self.clear()
        self[token] = san
        return san


class _NoteCache(dict[str, _Note]):
    """Comment text -> (clock, eval)."""

    def __missing__(self, comment: str) -> _Note:
        note = _parse_note(comment)
        if len(self) >= 200_000:
            self.clear()
        # Long comments are rarely repeated: don't let them fill the cache.
        if len(comment) <= 200:
            self[comment] = note
        return note


class _EvalTable(_WordTable[Eval]):
    """A `_WordTable` of evaluations."""

    __slots__ = ()

    def lookup(self, words: list[str]) -> tuple[Eval, ...] | None:
        known = self._known
        # Not `None in values`: comparing an `Eval` with None runs its Python `__eq__`.
        if not all(map(known.__contains__, words)) and not self._learn(words):
            return None
        return tuple(map(known.__getitem__, words))


def _move_word(word: str) -> str | None:
    """The SAN of a word from which python-chess reads exactly one move (with check
    marks and `!?` annotations), else None."""
    match = _MOVE_RE.match(word)
    if match is None or not _ANNOTATION_RE.fullmatch(word, match.end()):
        return None
    return _normalise_san(match.group())


def _clock_word(suffix: str) -> Callable[[str], int | None]:
    pattern = re.compile(_CLOCK + re.escape(suffix))

    def parse(word: str) -> int | None:
        match = pattern.fullmatch(word)
        return None if match is None else _centiseconds(*match.groups())

    return parse


def _eval_word(word: str) -> Eval | None:
    match = _EVAL_WORD_RE.fullmatch(word)
    return None if match is None else _eval(*match.groups())


_EVAL_WORD_RE: Final = re.compile(_EVAL + r"\]")
_SANS: Final = _WordTable(_move_word)
#: Lichess: `{ [%clk 0:03:00] }` split on whitespace gives `0:03:00]`.
_SPACED_CLOCKS: Final = _WordTable(_clock_word("]"))
#: Chess.com: `{[%clk 0:02:59.9]}` gives `0:02:59.9]}`.
_TIGHT_CLOCKS: Final = _WordTable(_clock_word("]}"))
#: Lichess: `{ [%eval 0.17] [%clk 0:03:00] }` gives `0.17]`.
_EVALS: Final = _EvalTable(_eval_word)
_NOTE_CACHE: Final = _NoteCache()
_TOKEN_SANS: Final = _TokenSans()


def _normalise_san(token: str) -> str:
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


def _centiseconds(hours: str, minutes: str, seconds: str) -> int:
    return int(hours) * 360_000 + int(minutes) * 6_000 + round(float(seconds) * 100)


def _eval(mate: str | None, cp: str | None) -> Eval:
    if mate is not None:
        return Eval(mate=int(mate))
    # round(float * 100) is what python-chess does, so `0.29` is 29 cp in both.
    return Eval(cp=round(float(cp or 0) * 100))


def _parse_note(comment: str) -> _Note:
    clock_match = _CLOCK_RE.search(comment)
    eval_match = _EVAL_RE.search(comment)
    if clock_match is None and eval_match is None:
        return _NO_NOTE
    return (
        None if clock_match is None else _centiseconds(*clock_match.groups()),
        None if eval_match is None else _eval(*eval_match.groups()),
    )


def parse_movetext(text: str) -> Movetext:
    """Read the mainline moves, clocks, evaluations and result of one game's movetext."""
    return _parse_exported(text) or _parse_tokens(text)


def read_game_movetext(text: str) -> tuple[Movetext, int]:
    """The first game's mainline in `text`, and the index where that game's movetext ends.

    A game ends just past its termination marker; whatever follows (another game
    without tags, text that is no game) is left to the caller. Without a marker the
    whole text is the game, and its `result` is None.
    """
    exported = _parse_exported(text)
    if exported is not None:
        return exported, len(text)
    end = movetext_end(text)
    if end is None or text[end:].isspace() or end == len(text):
        return _parse_tokens(text), len(text)
    return _parse_tokens(text[:end]), end


def movetext_end(text: str, start: int = 0) -> int | None:
    """The index just past the first termination marker from `start` that is outside
    comments and variations, or None when there is none."""
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
        elif token in _RESULTS:
            if len(played) == 1:
                return match.end()
        else:
            played[-1] += 1
    return None


def _parse_exported(text: str) -> Movetext | None:
    """The shapes sites export, read with whole-string operations; None for other shapes.

    Lichess dumps (`1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] }`, with
    `[%eval 0.17]` before the clock on every move of analysed games but a final mate),
    Chess.com (`1. e4 {[%clk 0:02:59.9]}`) and plain `1. e4 e5 2. Nf3` movetext split
    into words with a fixed period, so slicing by that period gives the move numbers,
    moves and clocks. Every word is checked against what its slot must hold, so a text
    that merely looks similar falls through to the general tokeniser.
    """
    words = text.split()
    result = words.pop() if words and words[-1] in _RESULTS else None
    if len(words) < 4:
        return _read_plain(words, result) if "{" not in text else None
    third, fourth = words[2], words[3]
    if third == "{":
        if fourth == "[%clk":
            return _read_clocks(words, result)
        if fourth == "[%eval":
            return _read_evals(words, result)
        return None
    if third == "{[%clk":
        return _read_tight_clocks(words, result)
    if "{" in text:
        return None
    return _read_plain(words, result)


def _numbers_ok(numbers: list[str]) -> bool:
    """Move numbers hold no move: only digits and dots, and no `0000` (a null move)."""
    if numbers == _MOVE_NUMBERS[: len(numbers)]:
        return True
    joined = " ".join(numbers)
    return not joined.translate(_NUMBER_CHARS) and "0000" not in joined


def _read_clocks(words: list[str], result: str | None) -> Movetext | None:
    """`1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] }`: six words a move."""
    plies, rest = divmod(len(words), 6)
    if (
        rest
        or words[2::6].count("{") != plies
        or words[3::6].count("[%clk") != plies
        or words[5::6].count("}") != plies
        or not _numbers_ok(words[0::6])
    ):
        return None
    sans = _SANS.lookup(words[1::6])
    clocks = _SPACED_CLOCKS.lookup(words[4::6])
    if sans is None or clocks is None:
        return None
    return Movetext(moves=sans, clocks=clocks, result=result)


def _read_evals(words: list[str], result: str | None) -> Movetext | None:
    """`1. e4 { [%eval 0.17] [%clk 0:03:00] }`: eight words a move, but six for a last
    move without an evaluation (a mate)."""
    last = None
    if len(words) % 8 == 6:
        # The last move ends the game: a clock, no evaluation.
        last = _read_clocks(words[-6:], None)
        if last is None:
            return None
        words = words[:-6]
    plies, rest = divmod(len(words), 8)
    if (
        rest
        or words[2::8].count("{") != plies
        or words[3::8].count("[%eval") != plies
        or words[5::8].count("[%clk") != plies
        or words[7::8].count("}") != plies
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


def _read_tight_clocks(words: list[str], result: str | None) -> Movetext | None:
    """`1. e4 {[%clk 0:02:59.9]} 1... e5 {[%clk 0:02:58.2]}`: four words a move."""
    plies, rest = divmod(len(words), 4)
    if rest or words[2::4].count("{[%clk") != plies or not _numbers_ok(words[0::4]):
        return None
    sans = _SANS.lookup(words[1::4])
    clocks = _TIGHT_CLOCKS.lookup(words[3::4])
    if sans is None or clocks is None:
        return None
    return Movetext(moves=sans, clocks=clocks, result=result)


def _read_plain(words: list[str], result: str | None) -> Movetext | None:
    """`1. e4 e5 2. Nf3 ...`: a move number, then White's and Black's moves."""
    if not _numbers_ok(words[0::3]):
        return None
    del words[0::3]
    sans = _SANS.lookup(words)
    if sans is None:
        return None
    return Movetext(moves=sans, result=result)


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
        elif token in _RESULTS:
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
