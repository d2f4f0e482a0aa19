"""The CLI's plumbing: schema upgrade, accounts, jobs, and one-line errors with exit codes."""

from __future__ import annotations

from tests.acceptance.conftest import Gamekeeper


def test_db_upgrade_then_accounts(gamekeeper: Gamekeeper) -> None:
    upgrade = gamekeeper("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "database is up to date" in upgrade.stdout

    added = gamekeeper("accounts", "add", "lichess:Alice")
    assert added.returncode == 0, added.stderr
    assert "lichess:Alice" in added.stdout
    listing = gamekeeper("accounts", "list")
    assert "lichess:Alice" in listing.stdout
    removed = gamekeeper("accounts", "remove", "lichess:alice")
    assert removed.returncode == 0, removed.stderr
    assert "no accounts yet" in gamekeeper("accounts", "list").stdout


def test_errors_are_one_line_with_exit_codes(gamekeeper: Gamekeeper) -> None:
    bad = gamekeeper("accounts", "add", "fics:bob")
    assert (bad.returncode, bad.stderr.strip()) == (
        2,
        "error: unknown platform 'fics'; use lichess or chesscom",
    )
    missing = gamekeeper("jobs", "show", "job_000000000000")
    assert (missing.returncode, missing.stderr.strip()) == (4, "error: no job 'job_000000000000'")
    assert "Traceback" not in bad.stderr + missing.stderr


def test_unusable_database_url_is_a_clear_error(gamekeeper: Gamekeeper) -> None:
    result = gamekeeper("accounts", "list", GAMEKEEPER_DATABASE_URL="mysql://x/y")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unsupported database 'mysql': use sqlite or postgresql"


def test_players_and_crawl_before_any_crawl(gamekeeper: Gamekeeper) -> None:
    listing = gamekeeper("players", "list")
    assert (listing.returncode, listing.stdout.strip()) == (
        0,
        "no players yet: gamekeeper crawl lichess:USER",
    )
    unknown = gamekeeper("players", "show", "lichess:nobody")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        4,
        "error: no player lichess:nobody among those your crawls reached",
    )
    bare = gamekeeper("players", "show", "nobody")
    assert (bare.returncode, bare.stderr.strip()) == (
        2,
        "error: player 'nobody' must look like PLATFORM:USERNAME",
    )
    deep = gamekeeper("crawl", "lichess:nobody", "--depth", "9")
    assert (deep.returncode, deep.stderr.strip()) == (2, "error: depth must be between 1 and 3")
