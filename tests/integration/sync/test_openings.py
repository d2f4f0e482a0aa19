"""Opening names come from Lichess's data set whatever the site called the opening: the
same moves get the same name on Lichess, on Chess.com and in a PGN file without tags."""

from __future__ import annotations

from gamekeeper.analysis.openings import name_opening, read_book_lines
from gamekeeper.bootstrap import Services
from gamekeeper.domain.games import Game, Platform
from gamekeeper.domain.jobs import JobStatus
from tests.integration.sync.conftest import run_job, stored_games


def named(game: Game) -> tuple[str | None, str | None] | None:
    opening = name_opening(game.moves or (), initial_fen=game.initial_fen, variant=game.variant)
    return None if opening is None else (opening.eco, opening.name)


async def test_both_sites_name_the_same_moves_the_same_way(services: Services) -> None:
    for platform, username in (("lichess", "alice"), ("chesscom", "erik")):
        account = await services.accounts.add("admin", platform, username)
        assert (await run_job(services, "sync_games", account)).status is JobStatus.COMPLETED
    book_names = {line.name for line in read_book_lines()}
    checked = 0
    for platform, username in ((Platform.LICHESS, "alice"), (Platform.CHESSCOM, "erik")):
        for game in (await stored_games(services, platform, username)).values():
            expected = named(game)
            if expected is None:
                continue  # a variant, a set-up position, no moves
            assert game.opening is not None
            assert (game.opening.eco, game.opening.name) == expected, game.platform_game_id
            assert game.opening.name in book_names
            checked += 1
    assert checked > 500
    # Chess.com's own spelling stays in the raw record.
    erik = await stored_games(services, Platform.CHESSCOM, "erik")
    assert any("ECOUrl" in g.raw for g in erik.values())
