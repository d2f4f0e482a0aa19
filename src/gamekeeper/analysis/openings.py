"""Opening names from a game's moves, with Lichess's chess-openings data set (CC0).

A game is named as Lichess names it, by the last position of its first 40 plies that
the data set names, whatever its site called it: 1. e4 c6 2. d4 d5 3. Nc3 dxe4 4. Nxe4
Bf5 is the Classical Caro-Kann, whose line goes 3. Nd2. Every stored game is named, and
python-chess takes 10 µs a move, so:

1. **Trie.** The lines, in SAN without check marks, form a trie whose nodes hold the
   name of their position: a game is named without a board while it follows a line.
2. **Tracker.** Past the trie, a few bitboards play on, each position is looked up
   (one found takes the game back onto the trie), until no named one is in reach.
3. **Replay.** `OpeningBook.name_by_replay` plays the moves with python-chess, like
   Lichess: for what the tracker gives up on (`e2e4`, a pin that SAN need not spell
   out, a promotion, an illegal move), and as the reference the fast path is checked on.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

import chess

from gamekeeper.domain.games import Opening

__all__ = ["BookLine", "OpeningBook", "default_book", "name_opening", "read_book_lines"]

DATA_FILES: Final = ("a.tsv", "b.tsv", "c.tsv", "d.tsv", "e.tsv")
#: Plies looked at past the longest line (36), for games that get to a named position
#: later than its line does: 40 in all, as Lichess looks at.
MARGIN: Final = 4

#: Bitboards (pawns … kings, White's men, Black's men), White to move, castling rights, a
#: legal en passant square or -1: an EPD as python-chess keeps it, 100x cheaper to get.
PositionKey = tuple[int, ...]
_TURN, _CASTLING, _EP = 8, 9, 10
#: What `_push` says of a move: given up on, undoable, or not (pawn, capture, castling).
_LOST, _QUIET, _FIXED = 0, 1, 2
#: What no move undoes: pawns on home squares and castling rights (rook squares), men.
_Fixed = tuple[int, int, int]
_START_FIXED: Final = (chess.BB_RANK_2 | chess.BB_RANK_7 | chess.BB_CORNERS, 16, 16)

_MOVE_NUMBER_RE: Final = re.compile(r"\d+\.+")
_SAN_RE: Final = re.compile(r"([NBRQK])?([a-h])?([1-8])?x?([a-h][1-8])(=?[NBRQ])?")
_PIECES: Final = {"N": 1, "B": 2, "R": 3, "Q": 4, "K": 5}
_SQUARES: Final = {name: square for square, name in enumerate(chess.SQUARE_NAMES)}
_START: Final = chess.STARTING_FEN.split()[:4]
_BACK_RANKS: Final = (chess.BB_RANK_1, chess.BB_RANK_8)
_PAWN_ATTACKS: Final = chess.BB_PAWN_ATTACKS


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLine:
    """One row of the data set: a named line of moves from the start position."""

    eco: str
    name: str
    #: SAN moves without check marks, as `plain_san` spells them.
    sans: tuple[str, ...]


def plain_san(token: str) -> str:
    """A SAN move without check marks or `!?` annotations, castling spelled `O-O`."""
    token = token.rstrip("+#!?")
    return token.replace("0", "O") if token[:1] == "0" else token


def position_key(board: chess.Board) -> PositionKey:
    """The key of a position, without move counters (what an EPD tells)."""
    ep = board.ep_square if board.ep_square is not None and board.has_legal_en_passant() else -1
    pieces = (board.pawns, board.knights, board.bishops, board.rooks, board.queens, board.kings)
    white, black = board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]
    return (*pieces, white, black, board.turn, board.clean_castling_rights(), ep)


def read_book_lines() -> tuple[BookLine, ...]:
    """Every line of the data set shipped in `openings_data/`, in file order, headers off."""
    folder = resources.files("gamekeeper.analysis") / "openings_data"
    lines: list[BookLine] = []
    for file_name in DATA_FILES:
        for row in (folder / file_name).read_text(encoding="utf-8").splitlines()[1:]:
            eco, name, pgn = row.split("\t")
            sans = tuple(plain_san(t) for t in pgn.split() if not _MOVE_NUMBER_RE.fullmatch(t))
            lines.append(BookLine(eco=eco, name=name, sans=sans))
    return tuple(lines)


def _standard_start(initial_fen: str | None, variant: str) -> bool:
    """True when a game starts from the standard position under standard rules."""
    fen = None if initial_fen is None else initial_fen.split()[:4]
    return variant.lower() == "standard" and fen in (None, _START)


@functools.lru_cache(maxsize=8192)  # games spell a few thousand moves, over and over
def _parse(token: str) -> tuple[int, int, int, int] | None:
    """A SAN move as (kind: 0 pawn … 5 king, 6 O-O, 7 O-O-O; the file a pawn takes from or
    -1; the squares the man may come from; its square); None if left to python-chess."""
    san = plain_san(token)
    if san in ("O-O", "O-O-O"):
        return 6 + len(san) // 5, -1, 0, 0
    move = _SAN_RE.fullmatch(san)
    if move is None or move[5]:
        return None
    kind, to = _PIECES.get(move[1] or "P", 0), _SQUARES[move[4]]
    file = ord(move[2]) - 97 if move[2] else -1
    if kind == 0 and (move[3] or to >> 3 in (0, 7) or file == to & 7):
        return None  # long algebraic (`e2e4`), or a promotion
    mask = chess.BB_FILES[file] if file >= 0 else chess.BB_ALL
    return kind, file, mask & (chess.BB_RANKS[int(move[3]) - 1] if move[3] else mask), to


def _attackers(kind: int, square: int, occupied: int) -> int:
    """The squares from which a man of `kind` (1 knight … 5 king) reaches `square`."""
    if kind == 1 or kind == 5:
        return (chess.BB_KNIGHT_ATTACKS if kind == 1 else chess.BB_KING_ATTACKS)[square]
    reach = 0
    if kind != 3:
        reach |= chess.BB_DIAG_ATTACKS[square][chess.BB_DIAG_MASKS[square] & occupied]
    if kind != 2:
        reach |= chess.BB_RANK_ATTACKS[square][chess.BB_RANK_MASKS[square] & occupied]
        reach |= chess.BB_FILE_ATTACKS[square][chess.BB_FILE_MASKS[square] & occupied]
    return reach


def _attacked(s: Sequence[int], square: int, by: int) -> bool:
    """Whether the men of `by` (6 White, 7 Black) attack `square` in position `s`."""
    occupied = s[6] | s[7]
    near = chess.BB_KNIGHT_ATTACKS[square] & s[1] | chess.BB_KING_ATTACKS[square] & s[5]
    near |= _PAWN_ATTACKS[by == 7][square] & s[0]
    far = _attackers(2, square, occupied) & (s[2] | s[4])
    return bool(s[by] & (near | far | _attackers(3, square, occupied) & (s[3] | s[4])))


def _castle(s: list[int], short: bool, us: int, legal: bool) -> int:
    """Castle in the key-shaped position `s`, if the rights and the way allow it."""
    rank = 0 if us == 6 else 56
    rook, between, king_to, rook_to = (7, 0x60, 6, 5) if short else (0, 0xE, 2, 3)
    if not s[_CASTLING] & (1 << (rank + rook)) or (s[6] | s[7]) & (between << rank):
        return _LOST
    if legal and any(_attacked(s, rank + file, 13 - us) for file in (4, (4 + king_to) // 2)):
        return _LOST  # out of check, or through an attacked square
    king_moved, rook_moved = (0x10 | 1 << king_to) << rank, (1 << rook | 1 << rook_to) << rank
    s[5] ^= king_moved
    s[3] ^= rook_moved
    s[us] ^= king_moved | rook_moved
    s[_CASTLING] &= ~_BACK_RANKS[us - 6]
    s[_TURN] = not s[_TURN]
    return _FIXED


def _pawn_from(s: list[int], us: int, file: int, to: int, ep: int) -> tuple[int, int]:
    """Where a pawn comes from to `to` (-1 if none can), and the square of the man it takes."""
    step, occupied = 8 if us == 6 else -8, s[6] | s[7]
    if file >= 0:  # a capture: of the man on `to`, or of the pawn passed en passant
        target = to - step if to == ep else to
        frm = (to - step) & ~7 | file if s[13 - us] & (1 << target) else -1
    else:
        target, frm = to, -1 if occupied & (1 << to) else to - step
        if frm >= 0 and not occupied & (1 << frm) and frm - step >> 3 == (1 if us == 6 else 6):
            frm -= step  # two squares at once, from the home rank
    return (frm if frm >= 0 and s[0] & s[us] & (1 << frm) else -1), target


def _push(s: list[int], token: str, legal: bool = False) -> int:
    """Play a SAN move in the key-shaped position `s` (a list, changed in place). Only if
    `legal` are king safety and castling through check checked: that takes a third longer."""
    parsed = _parse(token)
    if parsed is None:
        return _LOST
    kind, file, mask, to = parsed
    us = 6 if s[_TURN] else 7
    ep, s[_EP] = s[_EP], -1
    if kind > 5:
        return _castle(s, kind == 6, us, legal)
    if kind == 0:
        frm, target = _pawn_from(s, us, file, to, ep)
    else:
        found = _attackers(kind, to, s[6] | s[7]) & s[kind] & s[us] & mask
        # Two men can go there: SAN leaves it to a pin to tell them apart.
        frm = -1 if found & (found - 1) or s[us] & (1 << to) else found.bit_length() - 1
        target = to
    if frm < 0:
        return _LOST
    them, taken, castling = 13 - us, 1 << target, s[_CASTLING]
    captured = s[them] & taken
    if captured:
        for men in (*range(6), them):
            s[men] &= ~taken
    moved = (1 << frm) | (1 << to)
    s[kind] ^= moved
    s[us] ^= moved
    s[_CASTLING] &= ~(moved | (_BACK_RANKS[us - 6] if kind == 5 else 0))
    if legal and _attacked(s, (s[5] & s[us]).bit_length() - 1, them):
        return _LOST  # the king is left in check
    passed = (frm + to) >> 1  # the square a pawn went over, to be taken en passant
    if kind == 0 and abs(to - frm) == 16 and _PAWN_ATTACKS[us == 6][passed] & s[0] & s[them]:
        s[_EP] = passed
    s[_TURN] = not s[_TURN]
    return _FIXED if kind == 0 or captured or s[_CASTLING] != castling else _QUIET


def _fixed(s: Sequence[int]) -> _Fixed:
    """The `_Fixed` of the key-shaped position `s`."""
    home = s[0] & ((s[6] & chess.BB_RANK_2) | (s[7] & chess.BB_RANK_7))
    return home | s[_CASTLING], s[6].bit_count(), s[7].bit_count()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reach:
    """Which named positions a game can still reach, as bit masks (a bit a position): none with
    a pawn where the game's left home, a castling right it lost, more men of a kind than it has."""

    #: By home square or rook corner: the named positions without that pawn or right.
    lost: dict[int, int]
    #: [colour][kind][n]: the named positions with at most n men of that colour and kind.
    at_most: tuple[tuple[tuple[int, ...], ...], ...]

    @classmethod
    def of(cls, keys: Sequence[PositionKey]) -> _Reach:
        """The masks of the positions `keys`, numbered in that order."""
        kept = dict.fromkeys(chess.scan_forward(_START_FIXED[0]), 0)
        exactly = [[[0] * 11 for _ in range(5)] for _ in range(2)]
        for bit, key in enumerate(keys):
            for square in chess.scan_forward(_fixed(key)[0]):
                kept[square] |= 1 << bit
            for side, kind in itertools.product(range(2), range(5)):
                exactly[side][kind][(key[kind] & key[6 + side]).bit_count()] |= 1 << bit
        every = (1 << len(keys)) - 1
        at_most = tuple(
            tuple(tuple(itertools.accumulate(n, int.__or__)) for n in e) for e in exactly
        )
        return cls(lost={square: every ^ mask for square, mask in kept.items()}, at_most=at_most)

    def narrow(self, found: int, before: _Fixed, after: _Fixed, s: Sequence[int]) -> int:
        """`found` less what the moves from `before` to `after` (now at `s`) put out of reach."""
        for square in chess.scan_forward(before[0] & ~after[0]):
            found &= self.lost[square]
        for side, at_most in enumerate(self.at_most):
            if after[1 + side] < before[1 + side]:
                for kind, counts in enumerate(at_most):
                    found &= counts[min((s[kind] & s[6 + side]).bit_count(), 10)]
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class _Node:
    """A position the data set's lines pass through."""

    children: dict[str, _Node]
    #: The name of this position (its `ply` unset), None when the data set names none.
    opening: Opening | None
    key: PositionKey


@dataclass(slots=True)
class _Draft:
    """A trie node while the book is built (mutable: children arrive one line at a time)."""

    children: dict[str, _Draft] = field(default_factory=dict)
    key: PositionKey = ()

    def key_all(self, board: chess.Board) -> None:
        """Set the key of this node, at `board`'s position, and of every node under it."""
        self.key = position_key(board)
        for san, child in self.children.items():
            board.push_san(san)
            child.key_all(board)
            board.pop()

    def freeze(self, names: dict[PositionKey, Opening], named: dict[PositionKey, _Node]) -> _Node:
        """The `_Node` of this draft and those under it, the named ones put in `named` too."""
        children = {san: child.freeze(names, named) for san, child in self.children.items()}
        node = _Node(children=children, opening=names.get(self.key), key=self.key)
        if node.opening is not None:
            named.setdefault(self.key, node)
        return node


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningBook:
    """The data set's lines, indexed to name games by the positions they reach."""

    lines: tuple[BookLine, ...] = field(repr=False)
    root: _Node = field(repr=False)
    #: A trie node of each named position (named by its first line in file order).
    named: dict[PositionKey, _Node] = field(repr=False)
    reach: _Reach = field(repr=False)
    #: The named positions' pawns (to test before a lookup); what `reach` leaves at exits.
    pawns: frozenset[int] = field(repr=False)
    exits: dict[int, int] = field(default_factory=dict, repr=False)
    #: How many plies of a game are looked at: the longest line's and `MARGIN`.
    depth: int

    @classmethod
    def from_lines(cls, lines: Sequence[BookLine]) -> OpeningBook:
        """A book of `lines` (their moves must be legal from the start position)."""
        root, ends = _Draft(), []
        for line in lines:
            node = root
            for san in line.sans:
                node = node.children.get(san) or node.children.setdefault(san, _Draft())
            ends.append(node)
        root.key_all(chess.Board())
        pairs = reversed(list(zip(lines, ends, strict=True)))  # the first line to a position wins
        names = {end.key: Opening(eco=line.eco, name=line.name) for line, end in pairs}
        named: dict[PositionKey, _Node] = {}
        return cls(
            lines=tuple(lines),
            root=root.freeze(names, named),
            named=named,
            reach=_Reach.of(list(names)),
            pawns=frozenset(key[0] for key in names),
            depth=max((len(line.sans) for line in lines), default=0) + MARGIN,
        )

    def name(
        self, moves: Sequence[str], *, initial_fen: str | None = None, variant: str = "standard"
    ) -> Opening | None:
        """The last named position of a game's first `depth` plies, None if none is."""
        if not moves or not _standard_start(initial_fen, variant):
            return None
        node, ply = self.root, 0
        found, found_ply = None, 0
        while True:
            for raw in itertools.islice(moves, ply, None):
                child = node.children.get(raw.rstrip("+#!?"))  # the tracker reads `0-0`
                if child is None:
                    break
                node, ply = child, ply + 1
                if child.opening is not None:
                    found, found_ply = child.opening, ply
            if ply == len(moves):
                break
            back, ply = self._past_trie(moves, node, ply)
            if ply < 0:
                return self.name_by_replay(moves)
            if back is None:
                break
            node, found, found_ply = back, back.opening, ply
        return None if found is None else Opening(eco=found.eco, name=found.name, ply=found_ply)

    def _past_trie(self, moves: Sequence[str], node: _Node, start: int) -> tuple[_Node | None, int]:
        """The named node where a game that left the trie at `node` after `start` plies comes
        back, and its ply; None if it does not; ply -1 if the tracker gives up on it."""
        s = list(node.key)
        fixed = _fixed(s)
        reachable = self.exits.get(id(node))
        if reachable is None:  # -1: every bit set
            reachable = self.exits[id(node)] = self.reach.narrow(-1, _START_FIXED, fixed, s)
        for ply in range(start, min(len(moves), self.depth)):
            if not reachable:
                break
            pushed = _push(s, moves[ply])
            if pushed == _LOST:
                return None, -1
            if pushed == _FIXED:
                before, fixed = fixed, _fixed(s)
                reachable = self.reach.narrow(reachable, before, fixed, s)
            back = self.named.get(tuple(s)) if s[0] in self.pawns else None
            if back is not None:
                again = list(node.key)  # play the moves again, now refusing illegal ones
                legal = all(_push(again, m, True) != _LOST for m in moves[start : ply + 1])
                return (back, ply + 1) if legal else (None, -1)
        return None, start

    def name_by_replay(
        self, moves: Sequence[str], *, initial_fen: str | None = None, variant: str = "standard"
    ) -> Opening | None:
        """`name`, playing every move with python-chess and looking each position up."""
        if not moves or not _standard_start(initial_fen, variant):
            return None
        board = chess.Board()
        found, found_ply = None, 0
        for ply, raw in enumerate(itertools.islice(moves, self.depth), 1):
            try:
                board.push_san(plain_san(raw))
            except ValueError:  # illegal or unreadable: the game is named up to here
                break
            node = self.named.get(position_key(board))
            if node is not None:
                found, found_ply = node.opening, ply
        return None if found is None else Opening(eco=found.eco, name=found.name, ply=found_ply)


@functools.cache  # two threads asking first may both build it: either book will do
def default_book() -> OpeningBook:
    """The book of the shipped data set, built on first use and kept for the process."""
    return OpeningBook.from_lines(read_book_lines())


def name_opening(
    moves: Sequence[str], *, initial_fen: str | None = None, variant: str = "standard"
) -> Opening | None:
    """The opening of a game from its SAN moves, named by the shipped data set."""
    return default_book().name(moves, initial_fen=initial_fen, variant=variant)
