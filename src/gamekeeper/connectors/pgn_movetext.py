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
_CACHE_LIMIT: Final = 200_000

# Sentinels of the whole-word caches below: "this word is not what the shape expects".
_NOT_A_MOVE: Final = ""
_NOT_A_CLOCK: Final = -1
_NOT_AN_EVAL: Final = Eval()
#: Deletes the characters of move numbers (`12.`, `12...`) and the spaces between them.
_NUMBER_CHARS: Final = str.maketrans("", "", "0123456789. ")

#: A comment's (clock, eval) pair.
_Note = tuple[int | None, Eval | None]
_NO_NOTE: Final[_Note] = (None, None)


# Exports repeat the same few thousand move words, clock values and comments, so each
# is parsed once and then found with one dict lookup, often through C-level `map`.
class _SanCache(dict[str, str]):
    """A whole word -> its normalised SAN, or `_NOT_A_MOVE` if python-chess would not
    read exactly one move (plus check marks and `!?` annotations) from it."""

    def __missing__(self, word: str) -> str:
        match = _MOVE_RE.match(word)
        if match is None or not _ANNOTATION_RE.fullmatch(word, match.end()):
            san = _NOT_A_MOVE
        else:
            san = _normalise_san(match.group())
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[word] = san
        return san


class _ClockCache(dict[str, int]):
    """A clock word (`0:03:00]`) -> centiseconds, or `_NOT_A_CLOCK`."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self._pattern = re.compile(_CLOCK + re.escape(suffix))

    def __missing__(self, word: str) -> int:
        match = self._pattern.fullmatch(word)
        centis = _NOT_A_CLOCK if match is None else _centiseconds(*match.groups())
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[word] = centis
        return centis


class _EvalCache(dict[str, Eval | None]):
    """An eval word (`0.17`, `#-3`; `-` for none) -> `Eval`, or `_NOT_AN_EVAL`."""

    def __missing__(self, word: str) -> Eval | None:
        match = _EVAL_FULL_RE.fullmatch(word)
        evaluation = _NOT_AN_EVAL if match is None else _eval(*match.groups())
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[word] = evaluation
        return evaluation


class _NoteCache(dict[str, _Note]):
    """Comment text -> (clock, eval)."""

    def __missing__(self, comment: str) -> _Note:
        note = _parse_note(comment)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        # Long comments are rarely repeated: don't let them fill the cache.
        if len(comment) <= 200:
            self[comment] = note
        return note


_EVAL_FULL_RE: Final = re.compile(_EVAL)
_SAN_CACHE: Final = _SanCache()
#: Lichess dumps: `{ [%clk 0:03:00] }`, split on whitespace.
_SPACED_CLOCKS: Final = _ClockCache("]")
#: Chess.com: `{[%clk 0:02:59.9]}`.
_TIGHT_CLOCKS: Final = _ClockCache("]}")
#: Lichess dumps with evals, after `_flatten_evals`.
_BARE_CLOCKS: Final = _ClockCache("")
_EVAL_CACHE: Final = _EvalCache({"-": None})
_NOTE_CACHE: Final = _NoteCache()


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


def _parse_exported(text: str) -> Movetext | None:
    """The shapes sites export, read with whole-string operations; None for other shapes.

    Lichess dumps (`1. e4 { [%clk 0:03:00] } 1... e5 { [%eval 0.2] [%clk 0:03:00] }`),
    Chess.com (`1. e4 {[%clk 0:02:59.9]}`) and plain `1. e4 e5 2. Nf3` movetext split
    into words with a fixed period, so slicing by that period gives the move numbers,
    moves and clocks. Every word is checked against what its slot must hold, so a text
    that merely looks similar falls through to the general tokeniser.
    """
    words = text.split()
    result = words.pop() if words and words[-1] in _RESULTS else None
    if len(words) < 3:
        return None
    third = words[2]
    if third == "{" and len(words) > 3:
        if words[3] == "[%clk":
            return _read_periodic(words, 6, {2: "{", 3: "[%clk", 5: "}"}, 4, _SPACED_CLOCKS, result)
        if words[3] == "[%eval":
            return _read_evals(text, result)
        return None
    if third == "{[%clk":
        return _read_periodic(words, 4, {2: "{[%clk"}, 3, _TIGHT_CLOCKS, result)
    if "{" in text:
        return None
    return _read_plain(words, result)


def _numbers_ok(numbers: list[str]) -> bool:
    """Move numbers hold no move: only digits and dots, and no `0000` (a null move)."""
    joined = " ".join(numbers)
    return not joined.translate(_NUMBER_CHARS) and "0000" not in joined


def _read_periodic(
    words: list[str],
    period: int,
    fixed: dict[int, str],
    clock_slot: int,
    clock_cache: _ClockCache,
    result: str | None,
) -> Movetext | None:
    plies, rest = divmod(len(words), period)
    if rest or not plies:
        return None
    for slot, word in fixed.items():
        if words[slot::period].count(word) != plies:
            return None
    if not _numbers_ok(words[0::period]):
        return None
    sans = tuple(map(_SAN_CACHE.__getitem__, words[1::period]))
    clocks = tuple(map(clock_cache.__getitem__, words[clock_slot::period]))
    if _NOT_A_MOVE in sans or _NOT_A_CLOCK in clocks:
        return None
    return Movetext(moves=sans, clocks=clocks, result=result)


def _read_evals(text: str, result: str | None) -> Movetext | None:
    """Lichess dump movetext where some moves also carry `[%eval]` before `[%clk]`."""
    # Each ply becomes four words, `12. Nf3 0.25 0:02:58`, with `-` for a missing eval.
    flat = (
        text.replace(" { [%eval ", " ")
        .replace("] [%clk ", " ")
        .replace(" { [%clk ", " - ")
        .replace("] } ", " ")
    )
    words = flat.split()
    if words and words[-1] == result:
        words.pop()
    plies, rest = divmod(len(words), 4)
    # Every clock must come from a comment of its own: no bare `0:01:00` in the text.
    if rest or not plies or not text.count("{") == text.count("[%clk") == plies:
        return None
    if not _numbers_ok(words[0::4]):
        return None
    sans = tuple(map(_SAN_CACHE.__getitem__, words[1::4]))
    evals = tuple(map(_EVAL_CACHE.__getitem__, words[2::4]))
    clocks = tuple(map(_BARE_CLOCKS.__getitem__, words[3::4]))
    if _NOT_A_MOVE in sans or _NOT_A_CLOCK in clocks or _NOT_AN_EVAL in evals:
        return None
    return Movetext(moves=sans, clocks=clocks, evals=evals if any(evals) else None, result=result)


def _read_plain(words: list[str], result: str | None) -> Movetext | None:
    """`1. e4 e5 2. Nf3 ...`: a move number, then White's and Black's moves."""
    if not _numbers_ok(words[0::3]):
        return None
    del words[0::3]
    sans = tuple(map(_SAN_CACHE.__getitem__, words))
    if _NOT_A_MOVE in sans:
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
