"""What both sites' emulated corpora share: accounts by lowercase name, each with the
generator of its games."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Final, Generic, Protocol, Self, TypeVar

from gamekeeper.emulators.corpus import GameFactory, SiteRules

#: Game numbers each account's generator may use (so two accounts never share an id).
NUMBERS_PER_ACCOUNT: Final = 100_000_000


class EmulatedAccount(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def username(self) -> str: ...

    #: The generator of its games, made when it first gets some.
    factory: GameFactory | None


A = TypeVar("A", bound=EmulatedAccount)


class AccountCorpus(Generic[A]):
    """Accounts of one emulated site, by lowercase username; `_account` makes one."""

    #: "lichess" or "chesscom": seeds each account's generator.
    site: str
    rules: SiteRules

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        #: Opponents each account's new games are played against (lowercase username →
        #: names), for a network of players; others meet generated strangers.
        self.opponent_pools: dict[str, tuple[str, ...]] = {}
        self._accounts: dict[str, A] = {}
        self._lock = threading.Lock()

    @classmethod
    def generate(cls, accounts: Mapping[str, int], *, seed: int = 0) -> Self:
        """Accounts (username → number of games) with reproducible games."""
        corpus = cls(seed)
        for username, count in accounts.items():
            corpus.add_account(username, games=count)
        return corpus

    def _account(self, username: str) -> A:
        raise NotImplementedError

    def add_games(self, username: str, count: int) -> list[str]:
        raise NotImplementedError

    def add_account(self, username: str, *, games: int = 0) -> A:
        """A new account with `games` generated games (0 for an account without games)."""
        account = self._account(username)
        if games:
            self.add_games(username, games)
        return account

    def account(self, username: str) -> A | None:
        return self._accounts.get(username.lower())

    @property
    def accounts(self) -> list[A]:
        return list(self._accounts.values())

    def _factory(self, account: A, planned: int) -> GameFactory:
        """A generator for `account`'s games, its numbers apart from every other's."""
        return GameFactory(
            seed=self.seed,
            site=self.site,
            username=account.username,
            rules=self.rules,
            planned=planned,
            first_number=list(self._accounts).index(account.id) * NUMBERS_PER_ACCOUNT,
            opponents=self.opponent_pools.get(account.id),
        )

    def _factory_of(self, username: str, count: int) -> tuple[A, GameFactory, bool]:
        """The account, its game generator, and whether the generator is new (made
        now for `count` games). Called under the corpus lock."""
        account = self._accounts[username.lower()]
        if account.factory is not None:
            return account, account.factory, False
        account.factory = self._factory(account, count)
        return account, account.factory, True

    def others_in(self, account: A, names: Iterable[str | None]) -> list[A]:
        """The accounts among a game's players other than `account`: in a network, a
        game is in both players' histories."""
        found = []
        for name in names:
            other = self._accounts.get((name or "").lower())
            if other is not None and other.id != account.id:
                found.append(other)
        return found
