"""Chart statistics on real databases: the SQL aggregates and the service around them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gamekeeper.domain.games import Opening, Platform, Player, Result, Termination, Winner
from gamekeeper.domain.users import Role, User
from gamekeeper.errors import AccountNotFound
from gamekeeper.services.stats import StatsService, downsample, top_openings
from gamekeeper.storage.sql.store import SqlStore
from gamekeeper.storage.stats import MonthTally, OpeningTally, RatingPoint
from tests.support.games import make_game

ALICE = Player(name="Alice", id="alice", rating=1500)
OTHER = Player(name="Bob", id="bob", rating=1600)
PLAYERS = ((Platform.LICHESS, "alice"),)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def alice_white(n: int, result: Result, **overrides: object) -> object:
    winner = {Result.WHITE_WINS: Winner.WHITE, Result.BLACK_WINS: Winner.BLACK}.get(result)
    fields: dict[str, object] = {
        "white": ALICE,
        "black": OTHER,
        "result": result,
        "winner": winner,
        "termination": Termination.RESIGN if winner else Termination.DRAW,
    }
    fields.update(overrides)
    return make_game(n, **fields)


def alice_black(n: int, result: Result, **overrides: object) -> object:
    return alice_white(n, result, **{"white": OTHER, "black": ALICE, **overrides})


SICILIAN = Opening(eco="B20", name="Sicilian Defense")
ALAPIN = Opening(eco="B22", name="Sicilian Defense: Alapin Variation")
FRENCH = Opening(eco="C00", name="French Defense")


@pytest.fixture
async def seeded(store: SqlStore) -> SqlStore:
    games = [
        # January: a win and a draw as White, a win as Black (Sicilian family, twice).
        alice_white(1, Result.WHITE_WINS, start_time=at(1, 3), opening=SICILIAN),
        alice_white(2, Result.DRAW, start_time=at(1, 3, 18), opening=SICILIAN,
                    white=Player(name="Alice", id="alice", rating=1520)),
        alice_black(3, Result.BLACK_WINS, start_time=at(1, 9), opening=ALAPIN,
                    black=Player(name="Alice", id="alice", rating=1540)),
        # February: a loss as Black, an unfinished game, a rapid game, a chess960 game.
        alice_black(4, Result.WHITE_WINS, start_time=at(2, 1), opening=FRENCH),
        alice_white(5, Result.UNKNOWN, start_time=at(2, 2), termination=Termination.ONGOING),
        alice_white(6, Result.WHITE_WINS, start_time=at(2, 3), speed="rapid",
                    white=Player(name="Alice", id="alice", rating=1700)),
        alice_white(7, Result.WHITE_WINS, start_time=at(2, 4), variant="chess960"),
        # Not rated: in the monthly counts, not in the rating line.
        alice_white(8, Result.WHITE_WINS, start_time=at(2, 5), rated=False,
                    white=Player(name="Alice", id="alice", rating=999)),
        # Someone else's game, and the same name on another site: neither is Alice's here.
        make_game(9, white=OTHER, black=Player(name="Carol", id="carol"), start_time=at(1, 4)),
        alice_white(10, Result.WHITE_WINS, start_time=at(1, 5), platform=Platform.CHESSCOM),
    ]  # fmt: skip
    await store.upsert_games(games, job_id=None)  # type: ignore[arg-type]
    return store


async def test_rating_history_averages_rated_standard_games_per_day_and_speed(
    seeded: SqlStore,
) -> None:
    points = await seeded.rating_history(PLAYERS)
    assert points == [
        RatingPoint(day="2025-01-03", platform=Platform.LICHESS, speed="blitz", rating=1510,
                    games=2),
        RatingPoint(day="2025-01-09", platform=Platform.LICHESS, speed="blitz", rating=1540,
                    games=1),
        RatingPoint(day="2025-02-01", platform=Platform.LICHESS, speed="blitz", rating=1500,
                    games=1),
        RatingPoint(day="2025-02-02", platform=Platform.LICHESS, speed="blitz", rating=1500,
                    games=1),
        RatingPoint(day="2025-02-03", platform=Platform.LICHESS, speed="rapid", rating=1700,
                    games=1),
    ]  # fmt: skip


async def test_rating_history_follows_the_players_side(seeded: SqlStore) -> None:
    # Bob (1600) plays Alice (1500 to 1700) with either colour: his line is flat.
    points = await seeded.rating_history(((Platform.LICHESS, "bob"),))
    assert {p.rating for p in points} == {1600}
    assert sum(p.games for p in points) == 7  # every rated standard Lichess game he played


async def test_opening_results_count_outcomes_per_colour(seeded: SqlStore) -> None:
    tallies = {(t.color, t.name): t for t in await seeded.opening_results(PLAYERS)}
    assert tallies[("white", "Sicilian Defense")] == OpeningTally(
        color="white", eco="B20", name="Sicilian Defense", wins=1, draws=1, losses=0
    )
    assert tallies[("black", "Sicilian Defense: Alapin Variation")].wins == 1
    assert tallies[("black", "French Defense")].losses == 1
    # The unfinished game is not a result.
    assert sum(t.wins + t.draws + t.losses for t in tallies.values()) == 7


async def test_games_by_month_splits_outcomes(seeded: SqlStore) -> None:
    assert await seeded.games_by_month(PLAYERS) == [
        MonthTally(month="2025-01", wins=2, draws=1, losses=0, other=0),
        MonthTally(month="2025-02", wins=3, draws=0, losses=1, other=1),
    ]


async def test_no_players_no_stats(seeded: SqlStore) -> None:
    assert await seeded.rating_history(()) == []
    assert await seeded.opening_results(()) == []
    assert await seeded.games_by_month(()) == []


async def test_service_scopes_to_the_users_accounts(seeded: SqlStore) -> None:
    await seeded.add_user("ann", Role.USER)
    ann = User(id=1, name="ann", role=Role.USER)
    mallory = User(id=2, name="mallory", role=Role.USER)
    account = await seeded.add_account("ann", Platform.LICHESS, "Alice")
    stats = StatsService(seeded)

    series = await stats.ratings(ann)
    assert [(s.label, len(s.points)) for s in series] == [
        ("lichess blitz", 4),
        ("lichess rapid", 1),
    ]
    openings = await stats.openings(ann)
    assert [(o.name, o.games) for o in openings.white] == [
        ("Unknown opening", 3),
        ("Sicilian Defense", 2),
    ]
    assert {(o.name, o.eco, o.wins, o.losses) for o in openings.black} == {
        ("Sicilian Defense", "B22", 1, 0),
        ("French Defense", "C00", 0, 1),
    }
    assert len(await stats.monthly(ann, account.id)) == 2
    # Another user has no accounts, so no statistics, and can't ask for Ann's account.
    assert await stats.monthly(mallory) == []
    with pytest.raises(AccountNotFound):
        await stats.monthly(mallory, account.id)
    admin = User(id=3, name="root", role=Role.ADMIN)
    assert len(await stats.monthly(admin, account.id)) == 2


def test_downsample_merges_days_into_weeks_then_months() -> None:
    days = [
        RatingPoint(day=f"2024-{m:02d}-{d:02d}", platform=Platform.LICHESS, speed="blitz",
                    rating=1500 + d, games=1 + d % 2)
        for m in range(1, 13)
        for d in range(1, 29)
    ]  # fmt: skip
    assert downsample(days, max_points=len(days)) == days
    weeks = downsample(days, max_points=100)
    assert 40 < len(weeks) <= 100
    assert all(datetime.fromisoformat(p.day).weekday() == 0 for p in weeks)
    months = downsample(days, max_points=20)
    assert [p.day for p in months] == [f"2024-{m:02d}-01" for m in range(1, 13)]
    assert sum(p.games for p in months) == sum(p.games for p in days)
    january = [p for p in days if p.day.startswith("2024-01")]
    expected = sum(p.rating * p.games for p in january) / sum(p.games for p in january)
    assert months[0].rating == round(expected)


def test_top_openings_merges_variations_into_families() -> None:
    tallies = [
        OpeningTally(color="white", eco="B20", name="Sicilian Defense", wins=1, draws=0, losses=2),
        OpeningTally(color="white", eco="B22", name="Sicilian Defense: Alapin Variation",
                     wins=3, draws=1, losses=0),
        OpeningTally(color="white", eco="C00", name="French Defense", wins=1, draws=0, losses=0),
        OpeningTally(color="white", eco="A00", name=None, wins=0, draws=1, losses=0),
        OpeningTally(color="black", eco="C00", name="French Defense", wins=9, draws=0, losses=0),
    ]  # fmt: skip
    top = top_openings(tallies, "white", top=2)
    assert [(o.name, o.eco, o.wins, o.draws, o.losses) for o in top] == [
        ("Sicilian Defense", "B22", 4, 1, 2),
        ("A00", "A00", 0, 1, 0),
    ]
    assert top[0].score == pytest.approx(4.5 / 7)
