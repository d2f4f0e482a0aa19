"""Broken PGN: every unreadable piece is one error with its byte range, every good game
around it is read, and memory stays bounded."""

from __future__ import annotations

import io
import itertools
import random
import sys
import tracemalloc

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gamekeeper.connectors.pgn import PgnError, PgnRecord, iter_pgn
from gamekeeper.connectors.pgn.reader import DEFAULT_MAX_GAME_BYTES


def game(
    number: int, *, moves: str = "1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] }"
) -> bytes:
    return (
        f'[Event "Game {number}"]\n[Site "https://lichess.org/game{number:04d}"]\n'
        f'[White "W{number}"]\n[Black "B{number}"]\n[Result "1-0"]\n\n{moves} 1-0\n\n'
    ).encode()


def read(data: bytes, **options: int) -> list[PgnRecord | PgnError]:
    return list(iter_pgn(io.BytesIO(data), **options))


def events(items: list[PgnRecord | PgnError]) -> list[str]:
    return [r.tags.get("Event", "untagged") for r in items if isinstance(r, PgnRecord)]


def errors(items: list[PgnRecord | PgnError]) -> list[PgnError]:
    return [r for r in items if isinstance(r, PgnError)]


def assert_tiled(items: list[PgnRecord | PgnError], size: int) -> None:
    """Items follow each other without gaps or overlaps, to the end of the data."""
    for item, following in itertools.pairwise(items):
        assert item.end_offset == following.offset
    assert items[-1].end_offset == size


def test_truncated_game_mid_movetext() -> None:
    cut = game(2)[:-30]
    data = game(1) + cut + b"\n" + game(3)
    items = read(data)
    assert events(items) == ["Game 1", "Game 3"]
    [error] = errors(items)
    assert error.offset == len(game(1))
    assert error.item == f"offset {len(game(1))}"
    assert "termination marker" in error.message
    assert_tiled(items, len(data))


def test_truncated_game_mid_comment_without_newline_before_the_next() -> None:
    # The cut falls inside `{ [%clk 0:03:00] }`; the next game follows on the next line.
    text = game(2)
    cut = text[: text.index(b"[%clk") + 8]
    data = game(1) + cut + b"\n" + game(3) + game(4)
    items = read(data)
    assert events(items) == ["Game 1", "Game 3", "Game 4"]
    assert [e.offset for e in errors(items)] == [len(game(1))]


def test_truncated_in_tags_glued_to_the_next_game() -> None:
    data = game(1) + b'[Event "Game 2"]\n[Site "x"]\n' + game(3)
    items = read(data)
    assert events(items) == ["Game 1", "Game 3"]
    [error] = errors(items)
    assert error.offset == len(game(1))
    assert "no moves" in error.message
    assert_tiled(items, len(data))


def test_binary_garbage_between_games() -> None:
    rng = random.Random(3)
    garbage = bytes(rng.randrange(256) for _ in range(5000))
    data = game(1) + garbage + b"\n\n" + game(2) + game(3)
    items = read(data)
    assert events(items) == ["Game 1", "Game 2", "Game 3"]
    assert len(errors(items)) == 1
    [error] = errors(items)
    assert error.offset == len(game(1))
    assert error.end_offset == len(game(1)) + len(garbage) + 2
    assert_tiled(items, len(data))


def test_binary_garbage_at_the_start_and_the_end() -> None:
    data = b"\x00\x01\x02\xff\xfe junk\n" + game(1) + b"\x00\x07"
    items = read(data)
    assert events(items) == ["Game 1"]
    assert [e.offset for e in errors(items)] == [0, len(data) - 2]


def test_binary_garbage_behind_a_percent_sign_at_the_end_is_reported() -> None:
    # A `%` line is an escape (comment) line in PGN, but binary data is no comment.
    data = game(1) + b"%#$\xf7.\x9c\x13\xa2\x00 junk\n"
    items = read(data)
    assert events(items) == ["Game 1"]
    [error] = errors(items)
    assert (error.offset, error.end_offset) == (len(game(1)), len(data))
    assert error.message == "binary data, not PGN"
    assert_tiled(items, len(data))


def test_comments_after_the_last_game_belong_to_it() -> None:
    for tail in (b"; the end\n", b"% escape line\n\n", b"{ a comment }\n"):
        data = game(1) + b"1. d4 d5 *\n\n" + tail
        items = read(data)
        assert not errors(items)
        assert_tiled(items, len(data))
        data = game(1) + tail
        items = read(data)
        assert not errors(items)
        assert_tiled(items, len(data))


def test_a_dos_end_of_file_mark_is_not_an_error() -> None:
    assert not errors(read(game(1) + b"\x1a"))


def test_truncated_game_followed_by_binary_junk_takes_no_moves_from_it() -> None:
    # The junk holds a `*`, which would otherwise end the cut game with junk "moves".
    data = game(1)[:-40] + b"\n\x00\x9a e5 Nf3 \x07 * \x01\n\n" + game(2)
    items = read(data)
    assert events(items) == ["Game 2"]
    assert errors(items)[0].offset == 0


def test_ten_megabyte_comment_is_read() -> None:
    comment = b"{ " + b"blah " * (2 * 1024 * 1024) + b"}"
    assert len(comment) > 10_000_000
    data = game(1) + game(2, moves="1. e4 " + comment.decode() + " 1... e5") + game(3)
    items = read(data)
    assert events(items) == ["Game 1", "Game 2", "Game 3"]
    big = items[1]
    assert isinstance(big, PgnRecord)
    assert big.mainline.moves == ("e4", "e5")


def test_game_larger_than_the_bound_is_skipped_in_bounded_memory() -> None:
    comment = b"{ " + b"x" * 300_000 + b" }"
    data = game(1) + game(2, moves=f"1. e4 {comment.decode()} 1... e5") + game(3)
    items = read(data, max_game_bytes=100_000, chunk_bytes=4096)
    assert events(items) == ["Game 1", "Game 3"]
    [error] = errors(items)
    assert (error.offset, error.end_offset) == (
        len(game(1)),
        len(game(1)) + len(game(2, moves=f"1. e4 {comment.decode()} 1... e5")),
    )
    assert "larger than" in error.message
    assert_tiled(items, len(data))


def test_unterminated_comment_runs_into_the_next_game_only_up_to_its_tags() -> None:
    data = game(1, moves="1. e4 { never closed 1... e5") + game(2)
    items = read(data)
    assert events(items) == ["Game 2"]
    assert [e.offset for e in errors(items)] == [0]


def test_unterminated_tag() -> None:
    data = game(1) + b'[Event "Game 2"]\n[White "Foo\n[Black "Bar"]\n\n1. d4 1-0\n\n' + game(3)
    items = read(data)
    assert events(items) == ["Game 1", "Game 3"]
    [error] = errors(items)
    assert error.offset == len(game(1))
    assert "malformed tag" in error.message


def test_unterminated_tag_value_at_the_end_of_the_file() -> None:
    data = game(1) + b'[Event "Game 2'
    items = read(data)
    assert events(items) == ["Game 1"]
    assert [e.offset for e in errors(items)] == [len(game(1))]


def test_games_without_tags_and_stray_text() -> None:
    data = (
        b"Exported by SomeTool v1\n\n1. e4 e5 2. Nf3 1-0\n\n1. d4 d5 0-1\n1. c4 *\n"
        b"; a comment line between games\n\n" + game(1)
    )
    items = read(data)
    records = [r for r in items if isinstance(r, PgnRecord)]
    assert [r.mainline.moves for r in records] == [
        ("e4", "e5", "Nf3"),
        ("d4", "d5"),
        ("c4",),
        ("e4", "e5"),
    ]
    [error] = errors(items)
    assert error.offset == 0
    assert error.end_offset == data.index(b"1. e4")


def test_text_after_a_result_is_not_glued_to_the_game() -> None:
    data = game(1).rstrip() + b" 1. d4 Nf6 0-1\n\n" + game(2)
    items = read(data)
    records = [r for r in items if isinstance(r, PgnRecord)]
    assert [r.mainline.moves for r in records] == [("e4", "e5"), ("d4", "Nf6"), ("e4", "e5")]
    assert records[0].text.endswith("1-0")
    assert_tiled(items, len(data))


def test_invalid_utf8_is_read_as_latin1() -> None:
    data = game(1).replace(b"W1", "Ljubojević".encode("latin-1", "replace").replace(b"?", b"\xe6"))
    [record] = read(data)
    assert isinstance(record, PgnRecord)
    assert record.tags["White"] == "Ljubojevi\xe6"


def test_memory_stays_flat_on_a_huge_unbroken_line() -> None:
    # 64 MB without a newline: skipped as one oversized piece, never held whole.
    class Endless(io.RawIOBase):
        def __init__(self, size: int) -> None:
            self.left = size

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            n = min(len(buffer), self.left)
            buffer[:n] = b"a" * n
            self.left -= n
            return n

    stream = io.BufferedReader(Endless(64 * 1024 * 1024), buffer_size=1 << 20)
    tracemalloc.start()
    items = list(iter_pgn(stream, max_game_bytes=DEFAULT_MAX_GAME_BYTES))  # type: ignore[arg-type]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(items) == 1
    assert isinstance(items[0], PgnError)
    assert peak < 3 * DEFAULT_MAX_GAME_BYTES


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(["good", "garbage", "truncated", "crlf", "untagged"]), max_size=12
    ),
    chunk_bytes=st.integers(1, 600),
    seed=st.integers(0, 2**16),
)
# Garbage that starts with `%` (an escape line) after the last game.
@example(pieces=["truncated", "good", "garbage"], chunk_bytes=1, seed=342)
def test_good_games_survive_any_mix_of_damage(
    pieces: list[str], chunk_bytes: int, seed: int
) -> None:
    rng = random.Random(seed)
    data = b""
    expected: list[str] = []
    cut: set[str] = set()
    damaged = False
    for number, kind in enumerate(pieces):
        if kind == "good":
            data += game(number)
            expected.append(f"Game {number}")
        elif kind == "crlf":
            data += game(number).replace(b"\n", b"\r\n")
            expected.append(f"Game {number}")
        elif kind == "garbage":
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) + b"\n"
        elif kind == "truncated":
            text = game(number)
            data += text[: rng.randrange(1, len(text) - 8)] + b"\n"
            cut.add(f"Game {number}")
        elif not damaged:
            # After a damaged piece, a game without tags cannot be told from the rest of
            # that piece (an unclosed comment may run into it), so it only follows games.
            data += b"1. d4 d5 *\n\n"
            expected.append("untagged")
        damaged = kind in ("garbage", "truncated") or (damaged and kind == "untagged")
    items = read(data, chunk_bytes=chunk_bytes)
    # Every good game, in order. A game cut at a move boundary and followed by junk
    # that happens to end in ` * ` may pass for a whole game: nothing tells them apart.
    assert [event for event in events(items) if event not in cut] == expected
    if items:
        for item, following in itertools.pairwise(items):
            assert item.end_offset <= following.offset
        assert items[-1].end_offset == len(data)


def _calls_to_read(data: bytes) -> int:
    """Function calls (Python and built-in) made while reading `data` in 4 KiB chunks:
    a count of work that does not depend on the machine's speed."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        items = list(iter_pgn(io.BytesIO(data), chunk_bytes=4096))
    finally:
        sys.setprofile(None)
    assert not [item for item in items if isinstance(item, PgnRecord)]
    return calls


@pytest.mark.parametrize("blank", [b"\n", b"\r\n", b" \n"])
def test_blank_lines_are_read_in_linear_work(blank: bytes) -> None:
    """A file of nothing but blank lines: twice the lines, about twice the work (a
    rescan of the blank run for each chunk made it four times)."""
    lines = 32 * 1024 // len(blank)
    single = _calls_to_read(blank * lines)
    double = _calls_to_read(blank * (2 * lines))
    assert double <= 2.3 * single, (single, double)
