"""A network of players for the opponent crawl: opponents who are real accounts.

Each player's generated games are played against players of the network, and a game
between two accounts is in both histories (the same record, so the same game seen from
both sides). Names in a pool without an account are "ghosts": the site answers 404 for
them, as for a closed or renamed account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from gamekeeper.emulators.accounts import AccountCorpus, EmulatedAccount
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess_records import LichessCorpus

#: The prefix of a ghost's name: it plays, but has no account.
GHOST: Final = "ghost"


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """Who plays whom: each account's opponents (usernames), and its own games."""

    #: username → the names its games are played against.
    opponents: Mapping[str, tuple[str, ...]]
    #: username → how many games it plays itself (besides those others play with it).
    games: Mapping[str, int]
    #: username → the level it sits at (the root 0).
    levels: Mapping[str, int]

    @property
    def accounts(self) -> list[str]:
        return list(self.games)


def tree_network(root: str, *, fanout: int, levels: int, games: int, ghosts: int = 0) -> Network:
    """`root` plays `fanout` players; each of those plays whoever found them and
    `fanout` new players, down to `levels` levels; the last level plays only its finder.
    `ghosts` names without accounts are among the root's opponents.

    The names are `{root}`, then `p1_0`, `p1_1`, ... at level 1, `p2_0`, ... at level 2.
    """
    opponents: dict[str, list[str]] = {root: []}
    level_of = {root: 0}
    current = [root]
    for level in range(1, levels + 1):
        below: list[str] = []
        for finder in current:
            for _ in range(fanout):
                name = f"p{level}_{sum(1 for v in level_of.values() if v == level)}"
                level_of[name] = level
                opponents[finder].append(name)
                opponents[name] = [finder]
                below.append(name)
        current = below
    opponents[root].extend(f"{GHOST}{n}" for n in range(ghosts))
    return Network(
        opponents={name: tuple(pool) for name, pool in opponents.items()},
        games=dict.fromkeys(opponents, games),
        levels=level_of,
    )


def _populate(corpus: AccountCorpus[EmulatedAccount], network: Network) -> None:
    for name in network.accounts:
        corpus.add_account(name)
        corpus.opponent_pools[name.lower()] = network.opponents[name]
    for name in network.accounts:
        corpus.add_games(name, network.games[name])


def lichess_network(network: Network, *, seed: int = 0) -> LichessCorpus:
    """The network's accounts and games on the Lichess emulator."""
    corpus = LichessCorpus(seed)
    _populate(corpus, network)  # type: ignore[arg-type]
    return corpus


def chesscom_network(network: Network, *, seed: int = 0) -> ChessComCorpus:
    """The network's accounts and games on the Chess.com emulator."""
    corpus = ChessComCorpus(seed)
    _populate(corpus, network)  # type: ignore[arg-type]
    return corpus


def play_more(
    corpus: AccountCorpus[EmulatedAccount], counts: Mapping[str, int]
) -> dict[str, Sequence[str]]:
    """New games "a day later": `counts` more games for each named account (each also
    lands in its opponent's history); the new games' ids by account."""
    return {name: corpus.add_games(name, count) for name, count in counts.items()}
