"""`gamekeeper players list|show`: the players your crawls reached, and a scouting card."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.services.players import PlayerCard


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("players", help="players your crawls reached")
    sub = parser.add_subparsers(dest="players_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="the crawl frontier: depth, status, games")
    listing.set_defaults(handler=list_command)
    show = sub.add_parser("show", help="a player's scouting card, e.g. lichess:bob")
    show.add_argument("player", metavar="PLATFORM:USER")
    show.set_defaults(handler=show_command)


async def list_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await cli_user(services)
        players = await services.players.frontier(user)
    from rich.table import Table

    table = Table("player", "depth", "status", "games", "found through")
    for p in players:
        status = p.status.value + (f" ({p.last_error})" if p.last_error else "")
        table.add_row(
            f"{p.platform.value}:{p.username}",
            str(p.depth),
            status,
            str(p.games),
            p.discovered_from or "",
        )
    console.print(table if players else "no players yet: gamekeeper crawl lichess:USER")
    return 0


def card_lines(card: PlayerCard) -> list[str]:
    p = card.player
    lines = [
        f"{p.platform.value}:{p.username} — depth {p.depth}, {p.status.value}, "
        f"{card.games} stored games",
        "ratings: "
        + (", ".join(f"{r.speed} {r.rating or '?'} ({r.games})" for r in card.ratings) or "none"),
        "time controls: " + (", ".join(f"{tc} ({n})" for tc, n in card.time_controls) or "none"),
    ]
    for line in card.openings[:10]:
        t = line.tally
        lines.append(
            f"  as {line.color}: {line.opening}: {t.games} games, +{t.wins} ={t.draws} -{t.losses}"
        )
    h = card.head_to_head
    when = h.last_played.date().isoformat() if h.last_played else "never"
    lines.append(
        f"head-to-head (you): {h.games} games, +{h.wins} ={h.draws} -{h.losses}, last {when}"
    )
    for g in card.last_games:
        day = g.start_time.date().isoformat() if g.start_time else "?"
        lines.append(
            f"  {day} {g.color} vs {g.opponent or '?'}: {g.outcome or g.result} "
            f"{g.speed or ''} {g.opening_name or ''}".rstrip()
        )
    return lines


async def show_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.services.players import parse_player_ref

    platform, username = parse_player_ref(args.player)
    async with open_services() as services:
        user = await cli_user(services)
        card = await services.players.card(user, platform.value, username)
    for line in card_lines(card):
        console.print(line, highlight=False)
    return 0
