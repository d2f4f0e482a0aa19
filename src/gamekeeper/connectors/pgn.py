"""PGN files: movetext parsing (more to come: streaming reader, `Game` mapping)."""

from __future__ import annotations

from gamekeeper.connectors.pgn_movetext import Movetext, parse_movetext

__all__ = ["Movetext", "parse_movetext"]
