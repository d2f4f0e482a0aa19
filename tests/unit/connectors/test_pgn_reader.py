"""The PGN reader against python-chess as the oracle: same games, tags, moves, clocks, evals.

python-chess builds every position, so it is slow but exact; our reader never builds
one. On the same text both must agree, game by game. python-chess keeps tag values
escaped (`\\"`); we unescape them, so the oracle's values are unescaped to compare.
"""

from __future__ import annotations

import io
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess
import chess.pgn
import chess.variant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gamekeeper.connectors.pgn import (
    PgnError,
    PgnRecord,
    iter_pgn,
    parse_movetext,
    record_to_game,
)
from gamekeeper.connectors.pgn import movetext as pgn_movetext
from gamekeeper.connectors.pgn.fast import read_exported
from gamekeeper.domain.games import Eval

CORPUS = Path(__file__).parents[2] / "fixtures" / "pgn" / "corpus.pgn"
_ESCAPED = re.compile(r'\\(["\\])')


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """What one reader makes of one game, in comparable form."""

    tags: dict[str, str]
    moves: tuple[str, ...]
    clocks: tuple[int | None, ...] | None
    evals: tuple[Eval | None, ...] | None
    result: str


class _TagRecorder(chess.pgn.GameBuilder):  # type: ignore[type-arg]
    """A GameBuilder that also remembers the tags exactly as the text had them."""

    def begin_game(self) -> None:
        super().begin_game()
        self.tags: dict[str, str] = {}

    def visit_header(self, tagname: str, tagvalue: str) -> None:
        super().visit_header(tagname, tagvalue)
        self.tags[tagname] = _ESCAPED.sub(r"\1", tagvalue)

    def result(self) -> Any:
        game = super().result()
        game.recorded_tags = self.tags
        return game


def _eval(node: chess.pgn.ChildNode) -> Eval | None:
    pov = node.eval()
    if pov is None:
        return None
    score = pov.white()
    if score.is_mate():
        return Eval(mate=score.mate())
    return Eval(cp=score.score())


def oracle(text: str) -> list[Read]:
    """Every game python-chess reads from `text`, which it must read without errors."""
    handle = io.StringIO(text.lstrip("\ufeff"), newline=None)
    games: list[Read] = []
    while (game := chess.pgn.read_game(handle, Visitor=_TagRecorder)) is not None:
        assert not game.errors, game.errors
        nodes = list(game.mainline())
        clocks = tuple(None if n.clock() is None else round(n.clock() * 100) for n in nodes)
        evals = tuple(_eval(n) for n in nodes)
        games.append(
            Read(
                tags=game.recorded_tags,
                moves=tuple(n.san() for n in nodes),
                clocks=clocks if any(c is not None for c in clocks) else None,
                evals=evals if any(evals) else None,
                result=game.headers["Result"],
            )
        )
    return games


def ours(data: bytes, **options: Any) -> list[Read]:
    """Every game our reader reads from `data`, which must hold no unreadable piece."""
    games: list[Read] = []
    for item in iter_pgn(io.BytesIO(data), **options):
        assert isinstance(item, PgnRecord), item
        game = record_to_game(item)
        games.append(
            Read(
                tags=dict(item.tags),
                moves=game.moves or (),
                clocks=game.clocks,
                evals=game.evals,
                result=game.result.value,
            )
        )
    return games


def test_corpus_reads_like_python_chess() -> None:
    data = CORPUS.read_bytes()
    expected = oracle(data.decode("utf-8"))
    assert len(expected) == 19
    assert ours(data) == expected


def test_crlf_corpus_reads_like_python_chess() -> None:
    data = CORPUS.read_bytes().replace(b"\n", b"\r\n")
    assert ours(data) == oracle(data.decode("utf-8"))


def test_corpus_without_bom_and_with_bom_mid_file() -> None:
    # Files concatenated with `cat` keep each one's byte order mark.
    single = CORPUS.read_bytes()
    data = single + b"\n" + single
    assert data.count(b"\xef\xbb\xbf") == 2
    expected = oracle(single.decode("utf-8"))
    assert ours(data) == expected + expected


def test_chunk_boundaries_do_not_matter() -> None:
    data = CORPUS.read_bytes()
    whole = ours(data)
    for chunk_bytes in (1, 7, 64, 333):
        assert ours(data, chunk_bytes=chunk_bytes) == whole


def test_missing_blank_lines_between_games() -> None:
    # python-chess needs the blank line (it ends a game); we don't.
    spaced = CORPUS.read_bytes().decode("utf-8")
    squeezed = re.sub(r"\n\n+(?=\[)", "\n", spaced)
    assert squeezed.count("\n\n") < spaced.count("\n\n") - 10
    assert ours(squeezed.encode()) == oracle(spaced)


def test_tag_values_are_unescaped() -> None:
    records = [r for r in iter_pgn(io.BytesIO(CORPUS.read_bytes())) if isinstance(r, PgnRecord)]
    assert records[1].tags["Black"] == 'Magnus "The Hammer" C'
    assert records[2].tags["Site"] == "Somewhere \\ Nowhere"


def test_records_keep_offsets_and_text() -> None:
    data = CORPUS.read_bytes()
    records = list(iter_pgn(io.BytesIO(data)))
    assert all(isinstance(r, PgnRecord) for r in records)
    assert records[0].offset == 3  # after the byte order mark
    for record, following in itertools.pairwise(records):
        assert record.end_offset == following.offset
    assert records[-1].end_offset == len(data)
    for record in records:
        assert isinstance(record, PgnRecord)
        assert data[record.offset : record.end_offset].decode().rstrip() == record.text


def test_resume_from_any_end_offset_yields_exactly_the_rest() -> None:
    data = CORPUS.read_bytes() * 2
    records = list(iter_pgn(io.BytesIO(data)))
    for index, record in enumerate(records):
        rest = list(iter_pgn(io.BytesIO(data), start_offset=record.end_offset))
        assert rest == records[index + 1 :]


def test_resume_on_a_stream_that_cannot_seek() -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    data = CORPUS.read_bytes()
    records = list(iter_pgn(io.BytesIO(data)))
    start = records[4].end_offset
    assert list(iter_pgn(Unseekable(data), start_offset=start)) == records[5:]


# --- random legal games, decorated and written in several styles --------------------

_VARIANTS: list[tuple[str | None, type[chess.Board]]] = [
    (None, chess.Board),
    ("Crazyhouse", chess.variant.CrazyhouseBoard),
    ("Chess960", chess.Board),
    ("Atomic", chess.variant.AtomicBoard),
    ("Three-check", chess.variant.ThreeCheckBoard),
]


def _clock(rng: random.Random) -> str:
    seconds = rng.randrange(0, 3 * 3600)
    fraction = rng.choice(["", ".5", ".25", ".0"])
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{fraction}"


def _note(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.4:
        parts.append(
            f"[%eval {rng.choice([f'{rng.uniform(-9, 9):.2f}', f'#{rng.randint(-9, 9)}'])}]"
        )
    if rng.random() < 0.8:
        parts.append(f"[%clk {_clock(rng)}]")
    if rng.random() < 0.2:
        parts.append(
            rng.choice(["good move", "a (bracket", "semi; colon", "1-0 is near", "Ünïcödé"])
        )
    return " ".join(parts)


def _random_game(rng: random.Random) -> chess.pgn.Game:
    variant, board_class = rng.choice(_VARIANTS)
    if variant == "Chess960":
        board = chess.Board.from_chess960_pos(rng.randrange(960))
    else:
        board = board_class()
    game = chess.pgn.Game.from_board(board)
    game.headers["White"] = rng.choice(["Ann", 'Quote "Q" Q', "Back\\slash", "Zoë"])
    if variant:
        game.headers["Variant"] = variant
    node: chess.pgn.GameNode = game
    for _ in range(rng.randrange(0, 60)):
        moves = list(node.board().legal_moves)
        if not moves:
            break
        move = rng.choice(moves)
        child = node.add_main_variation(move)
        if rng.random() < 0.7:
            child.comment = _note(rng)
        if rng.random() < 0.1:
            child.nags.add(rng.choice([1, 2, 3, 4, 5, 6, 14]))
        if rng.random() < 0.1 and len(moves) > 1:
            # A variation: another move from the same position, sometimes nested.
            alternative = node.add_variation(rng.choice([m for m in moves if m != move]))
            alternative.comment = _note(rng)
            replies = list(alternative.board().legal_moves)
            if replies:
                deeper = alternative.add_main_variation(rng.choice(replies))
                if rng.random() < 0.5 and len(replies) > 1:
                    alternative.add_variation(rng.choice(replies))
                deeper.comment = _note(rng)
        node = child
    game.headers["Result"] = rng.choice(["1-0", "0-1", "1/2-1/2", "*"])
    return game


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _dump_style(game: chess.pgn.Game, rng: random.Random) -> str:
    """The game as Lichess dumps write it: mainline only, `{ [%clk] }` after moves."""
    tags = "".join(f'[{name} "{_escape(value)}"]\n' for name, value in game.headers.items())
    words = []
    tight = rng.random() < 0.3
    for node in game.mainline():
        board = node.parent.board() if node.parent else game.board()
        number = board.fullmove_number
        words.append(f"{number}{'.' if board.turn else '...'} {node.san()}")
        if node.comment:
            words.append(f"{{{node.comment}}}" if tight else f"{{ {node.comment} }}")
    words.append(game.headers["Result"])
    return f"{tags}\n{' '.join(words)}\n\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    styles=st.lists(st.sampled_from(["chess", "dump"]), min_size=1, max_size=4),
)
def test_random_games_read_like_python_chess(seed: int, styles: list[str]) -> None:
    rng = random.Random(seed)
    texts = []
    for style in styles:
        game = _random_game(rng)
        if style == "chess":
            texts.append(f"{game}\n\n")
        else:
            texts.append(_dump_style(game, rng))
    text = "".join(texts)
    assert ours(text.encode()) == oracle(text)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_fast_path_agrees_with_tokeniser(seed: int) -> None:
    rng = random.Random(seed)
    game = _random_game(rng)
    text = _dump_style(game, rng)
    movetext = text.split("\n\n", 1)[1]
    assert parse_movetext(movetext) == pgn_movetext._parse_tokens(movetext)
    assert parse_movetext(movetext).moves == tuple(n.san() for n in game.mainline())


def test_no_item_is_an_error_on_clean_input() -> None:
    assert not [r for r in iter_pgn(io.BytesIO(CORPUS.read_bytes())) if isinstance(r, PgnError)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), shape=st.sampled_from(["clock", "eval", "tight", "plain"]))
def test_exported_shapes_take_the_fast_path(seed: int, shape: str) -> None:
    rng = random.Random(seed)
    board = chess.Board()
    words = []
    for ply in range(rng.randrange(1, 80)):
        moves = list(board.legal_moves)
        if not moves:
            break
        move = rng.choice(moves)
        number = f"{board.fullmove_number}{'.' if board.turn else '...'}"
        san = board.san(move)
        board.push(move)
        last = not any(board.legal_moves)
        if shape == "clock":
            words.append(f"{number} {san} {{ [%clk {_clock(rng)}] }}")
        elif shape == "eval":
            # Lichess gives no evaluation after the mating move.
            note = "" if last and board.is_checkmate() else f"[%eval {rng.uniform(-5, 5):.2f}] "
            words.append(f"{number} {san} {{ {note}[%clk {_clock(rng)}] }}")
        elif shape == "tight":
            words.append(f"{number} {san} {{[%clk {_clock(rng)}]}}")
        else:
            words.append(f"{number} {san}" if ply % 2 == 0 else san)
    text = " ".join([*words, "1-0"])
    fast = read_exported(text.encode())
    assert fast is not None
    assert fast == pgn_movetext._parse_tokens(text)
    [expected] = oracle(text)
    assert (fast.moves, fast.clocks, fast.evals) == (
        expected.moves,
        expected.clocks,
        expected.evals,
    )
