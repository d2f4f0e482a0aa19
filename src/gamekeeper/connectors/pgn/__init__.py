"""PGN files as a source of games, and games written as PGN.

`files` opens plain or compressed files; `reader` splits a stream into records
(`movetext`, `notation` and the `fast` path read the moves); `games` turns a record
into a `Game`; `writer` writes a `Game` as PGN. The names below are the public ones.
"""

from gamekeeper.connectors.pgn.files import OpenedPgn, open_pgn
from gamekeeper.connectors.pgn.games import (
    lichess_game_id,
    pgn_content_key,
    read_pgn_games,
    record_to_game,
)
from gamekeeper.connectors.pgn.movetext import Movetext, parse_movetext
from gamekeeper.connectors.pgn.reader import (
    DEFAULT_MAX_GAME_BYTES,
    PgnError,
    PgnRecord,
    iter_pgn,
    read_pieces,
)
from gamekeeper.connectors.pgn.segments import Piece, piece_chunks
from gamekeeper.connectors.pgn.writer import game_to_pgn

__all__ = [
    "DEFAULT_MAX_GAME_BYTES",
    "Movetext",
    "OpenedPgn",
    "PgnError",
    "PgnRecord",
    "Piece",
    "game_to_pgn",
    "iter_pgn",
    "lichess_game_id",
    "open_pgn",
    "parse_movetext",
    "pgn_content_key",
    "piece_chunks",
    "read_pgn_games",
    "read_pieces",
    "record_to_game",
]
