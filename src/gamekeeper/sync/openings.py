"""Opening names from Lichess's own data set, whatever a site called the opening.

Lichess names every game by the last position of its first moves that the data set
(shipped in `analysis/openings_data`) names, so its names are kept as they come: the
API's `opening` and a dump's `Opening` tag. Chess.com spells openings its own way
("Caro Kann Defense" against Lichess's "Caro-Kann Defense") and a PGN file may carry
none: those games are named from their moves by the same book, so the same moves give
the same name on every site. The site's own name stays in the raw record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gamekeeper.analysis.openings import name_opening
from gamekeeper.domain.games import Game


def named_by_the_book(game: Game) -> Game:
    """`game` with the book's opening, when the book names its moves (else as it was)."""
    if not game.moves:
        return game
    opening = name_opening(game.moves, initial_fen=game.initial_fen, variant=game.variant)
    return game if opening is None else dataclasses.replace(game, opening=opening)


def name_untagged(games: Sequence[Game]) -> list[Game]:
    """Games without an opening name get the book's (a PGN file without the tags)."""
    return [g if g.opening is not None and g.opening.name else named_by_the_book(g) for g in games]
