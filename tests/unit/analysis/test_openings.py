"""Opening names from moves: site spellings, transpositions, the shipped data set."""

from __future__ import annotations

import random
from collections import defaultdict
from importlib import resources
from pathlib import Path

import chess
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gamekeeper.analysis import openings
from gamekeeper.analysis.openings import (
    DATA_FILES,
    BookLine,
    OpeningBook,
    default_book,
    name_opening,
    read_book_lines,
)
from gamekeeper.domain.games import Opening

REFERENCE = Path("/work/shared/reference/openings")
SHIPPED = (*DATA_FILES, "COPYING.txt")


@pytest.fixture(scope="module")
def book() -> OpeningBook:
    return default_book()


@pytest.fixture(scope="module")
def names_by_position(book: OpeningBook) -> dict[str, set[tuple[str, str]]]:
    """Every (eco, name) of the data set by the EPD of the position its line reaches."""
    names: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for line in book.lines:
        names[played(line.sans).epd()].add((line.eco, line.name))
    return names


def played(moves: tuple[str, ...] | list[str]) -> chess.Board:
    board = chess.Board()
    for san in moves:
        board.push_san(san)
    return board


def named(opening: Opening | None) -> tuple[str | None, str | None] | None:
    return None if opening is None else (opening.eco, opening.name)


# -- the data set ---------------------------------------------------------------------


@pytest.mark.parametrize("file_name", SHIPPED)
def test_the_data_set_ships_inside_the_package(file_name: str) -> None:
    shipped = resources.files("gamekeeper.analysis") / "openings_data" / file_name
    assert shipped.is_file()
    if REFERENCE.is_dir():  # byte-identical to the copy SOURCES.md describes
        assert shipped.read_bytes() == (REFERENCE / file_name).read_bytes()


def test_every_row_of_the_data_set_is_read() -> None:
    lines = read_book_lines()
    folder = resources.files("gamekeeper.analysis") / "openings_data"
    rows = sum(len((folder / f).read_text(encoding="utf-8").splitlines()) - 1 for f in DATA_FILES)
    assert len(lines) == rows > 3000
    assert lines[0] == BookLine(eco="A00", name="Amar Opening", sans=("Nh3",))
    assert all(line.sans and not any(s[-1] in "+#" for s in line.sans) for line in lines)


def test_every_line_played_out_is_named_after_its_position(
    book: OpeningBook, names_by_position: dict[str, set[tuple[str, str]]]
) -> None:
    for line in book.lines:
        opening = book.name(line.sans)
        assert opening is not None, line
        assert named(opening) in names_by_position[played(line.sans).epd()], line
        assert opening.ply == len(line.sans)
        assert book.name_by_replay(line.sans) == opening


# -- spellings ------------------------------------------------------------------------

POLERIO = Opening(
    eco="C58", name="Italian Game: Two Knights Defense, Polerio Defense, Bishop Check Line", ply=11
)
TWO_KNIGHTS = ("e4", "e5", "Nf3", "Nc6", "Bc4", "Nf6", "Ng5", "d5", "exd5", "Na5", "Bb5+", "c6")
SPELLINGS = [
    TWO_KNIGHTS,
    tuple(s.rstrip("+") for s in TWO_KNIGHTS),  # no check marks
    ("e4!", "e5", "Nf3", "Nc6", "Bc4", "Nf6?!", "Ng5", "d5", "exd5", "Na5!?", "Bb5+?", "c6"),
    ("e4", "e5", "Ngf3", "Nbc6", "Bfc4", "Ngf6", "Nfg5", "d5", "exd5", "Nca5", "Bcb5", "c6"),
    (
        "e2e4",
        "e7e5",
        "g1f3",
        "b8c6",
        "f1c4",
        "g8f6",
        "f3g5",
        "d7d5",
        "e4d5",
        "c6a5",
        "c4b5",
        "c7c6",
    ),
]


@pytest.mark.parametrize("moves", SPELLINGS)
def test_the_same_moves_get_the_same_name_however_they_are_spelled(
    book: OpeningBook, moves: tuple[str, ...]
) -> None:
    assert book.name(moves) == POLERIO
    assert book.name_by_replay(moves) == POLERIO


@pytest.mark.parametrize("castle", ["O-O", "0-0", "O-O+", "0-0!"])
def test_castling_is_read_however_it_is_written(book: OpeningBook, castle: str) -> None:
    ruy = ("e4", "e5", "Nf3", "Nc6", "Bb5", "a6", "Ba4", "Nf6", castle, "Be7")
    assert book.name(ruy) == Opening(eco="C84", name="Ruy Lopez: Closed", ply=10)


def test_sites_that_name_an_opening_differently_get_one_name() -> None:
    # Chess.com calls these "Caro Kann Defense", Lichess "Caro-Kann Defense": the moves
    # decide, and the data set's Classical line goes 3. Nd2, which 3. Nc3 transposes to.
    lichess = ("e4", "c6", "d4", "d5", "Nc3", "dxe4", "Nxe4", "Bf5")
    chesscom = ("e4", "c6", "d4", "d5", "Nd2", "dxe4", "Nxe4", "Bf5")
    classical = Opening(eco="B18", name="Caro-Kann Defense: Classical Variation", ply=8)
    assert name_opening(lichess) == name_opening(chesscom) == classical


# -- positions, not move orders -------------------------------------------------------


def test_a_transposition_gets_the_name_of_the_position(
    book: OpeningBook, names_by_position: dict[str, set[tuple[str, str]]]
) -> None:
    zukertort_first = book.name(("Nf3", "d5", "d4"))
    queen_pawn_first = book.name(("d4", "d5", "Nf3"))
    assert zukertort_first == queen_pawn_first
    assert named(zukertort_first) in names_by_position[played(["d4", "d5", "Nf3"]).epd()]


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        # 1. c3 c5 is no line of the data set: the game is named once 2. e4 reaches one.
        (("c3", "c5", "e4", "Nc6"), ("B22", "Sicilian Defense: Alapin Variation")),
        (
            ("Nf3", "d5", "c4", "e6", "d4", "Nf6", "Nc3", "a6"),
            ("D37", "Queen's Gambit Declined: Three Knights Variation"),
        ),
        (
            ("c3", "c5", "e4", "d5", "exd5", "Qxd5", "d4", "a6"),
            ("B22", "Sicilian Defense: Alapin Variation, Barmen Defense"),
        ),
        # A lost tempo each: Lichess names the position where it comes back, and so do we.
        (("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1", "Ng8"), ("A05", "Zukertort Opening")),
    ],
)
def test_a_game_that_comes_back_to_the_book_by_another_road_is_named_there(
    book: OpeningBook, moves: tuple[str, ...], expected: tuple[str, str]
) -> None:
    opening = book.name(moves)
    assert named(opening) == expected
    assert opening == book.name_by_replay(moves)


def test_the_ply_is_where_the_position_is_reached(book: OpeningBook) -> None:
    moves = ("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1", "Ng8")
    assert book.name(moves) == Opening(eco="A05", name="Zukertort Opening", ply=6)


def test_a_game_that_leaves_the_book_after_move_3_keeps_the_name_of_move_3(
    book: OpeningBook,
) -> None:
    italian = ("e4", "e5", "Nf3", "Nc6", "Bc4")
    moves = (*italian, "h5", "h4", "Rh6", "Rh3", "Rb6", "Ra3", "Rb4")
    assert book.name(moves) == Opening(eco="C50", name="Italian Game", ply=5)
    assert book.name_by_replay(moves) == book.name(moves)


def test_only_the_first_plies_are_looked_at(book: OpeningBook) -> None:
    shuffle = ["Ng1", "Ng8", "Nf3", "Nf6"] * 50  # back to 1. Nf3 Nf6 every four plies
    opening = book.name(("Nf3", "Nf6", *shuffle))
    assert opening is not None and opening.ply is not None
    assert opening.ply <= book.depth == 40
    assert opening == book.name_by_replay(("Nf3", "Nf6", *shuffle))


# -- what gets no name, or a shorter one ----------------------------------------------


@pytest.mark.parametrize("moves", [(), [], ("",), ("Ke2",), ("e5",), ("zz", "e4")])
def test_games_without_a_named_position_get_none(book: OpeningBook, moves: tuple[str, ...]) -> None:
    assert book.name(moves) is None
    assert book.name_by_replay(moves) is None


@pytest.mark.parametrize(
    ("initial_fen", "variant"),
    [
        ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", "chess960"),
        ("8/8/8/4k3/8/8/4P3/4K3 w - - 0 1", "fromPosition"),
        ("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1", "standard"),
        (None, "crazyhouse"),
        (None, "atomic"),
    ],
)
def test_games_from_another_start_or_variant_get_no_name(
    book: OpeningBook, initial_fen: str | None, variant: str
) -> None:
    moves = ("e4", "e5", "Nf3")
    assert book.name(moves, initial_fen=initial_fen, variant=variant) is None
    assert book.name_by_replay(moves, initial_fen=initial_fen, variant=variant) is None
    assert name_opening(moves, initial_fen=initial_fen, variant=variant) is None


def test_the_standard_start_written_out_is_the_standard_start(book: OpeningBook) -> None:
    moves = ("e4", "e5", "Nf3")
    assert book.name(moves, initial_fen=chess.STARTING_FEN) == book.name(moves) is not None
    assert book.name(moves, variant="Standard") == book.name(moves)


@pytest.mark.parametrize("illegal", ["Ra6", "Nxe4", "O-O", "e4", "Kd7", "zz", "e4e5"])
def test_an_illegal_move_ends_the_game_for_naming(book: OpeningBook, illegal: str) -> None:
    # After 3. Bb5, what follows the bad move would otherwise be the Morphy Defense.
    moves = ("e4", "e5", "Nf3", "Nc6", "Bb5", illegal, "a6", "Ba4", "Nf6")
    assert book.name(moves) == Opening(eco="C60", name="Ruy Lopez", ply=5)
    assert book.name_by_replay(moves) == book.name(moves)


def test_a_move_that_leaves_the_king_in_check_ends_the_game_for_naming(
    book: OpeningBook,
) -> None:
    # 3. Nc3 ignores the check; 3... Qe7 4. Nb1 Qh4 would be Keene's Defense again.
    keene = Opening(eco="C30", name="King's Gambit Declined: Keene's Defense", ply=4)
    moves = ("e4", "e5", "f4", "Qh4+", "Nc3", "Qe7", "Nb1", "Qh4+")
    assert book.name(moves) == keene == book.name_by_replay(moves)


def test_an_illegal_move_past_the_book_stops_a_transposition(book: OpeningBook) -> None:
    # 1. c3 c5 reaches the Alapin with 2. e4, but the queen cannot get to c5 first.
    moves = ("c3", "c5", "Qxc5", "Nc6", "e4")
    assert book.name(moves) == Opening(eco="A00", name="Saragossa Opening", ply=1)
    assert book.name_by_replay(moves) == book.name(moves)


# -- the tracker and the fast path against python-chess -------------------------------


def test_the_tracker_keeps_the_position_python_chess_keeps() -> None:
    rng = random.Random(5)
    for _ in range(300):
        board = chess.Board()
        position = list(openings.position_key(board))
        while board.ply() < 60 and not board.is_game_over():
            move = rng.choice(list(board.legal_moves))
            rivals = [m for m in board.legal_moves if m.to_square == move.to_square]
            same_kind = [
                m
                for m in rivals
                if board.piece_type_at(m.from_square) == board.piece_type_at(move.from_square)
            ]
            san = board.san(move)
            board.push(move)
            if openings._push(position, san, rng.random() < 0.5) == openings._LOST:
                # Given up on only for promotions and for two men SAN tells apart by a pin.
                assert move.promotion or len(same_kind) == 1, san
                break
            key = openings.position_key(board)
            # The tracker keeps an en passant square a pin forbids; python-chess does not.
            assert tuple(position) == key or (position[:-1] == list(key[:-1]) and key[-1] == -1)


def play_out(line: BookLine, cut: int, extra: int, seed: int) -> tuple[str, ...]:
    """The first `cut` moves of `line`, then `extra` random legal moves."""
    rng = random.Random(seed)
    board = chess.Board()
    sans = []
    for step in range(cut + extra):
        legal = list(board.legal_moves)
        if not legal:
            break
        move = board.parse_san(line.sans[step]) if step < min(cut, len(line.sans)) else None
        move = move or rng.choice(legal)
        sans.append(board.san(move))
        board.push(move)
    return tuple(sans)


@settings(max_examples=300, deadline=None)
@given(
    which=st.integers(0, 10**6),
    cut=st.integers(0, 36),
    extra=st.integers(0, 30),
    seed=st.integers(0, 2**32),
)
def test_the_fast_path_names_games_as_python_chess_does(
    book: OpeningBook, which: int, cut: int, extra: int, seed: int
) -> None:
    line = book.lines[which % len(book.lines)]
    moves = play_out(line, cut, extra, seed)
    assert book.name(moves) == book.name_by_replay(moves)
