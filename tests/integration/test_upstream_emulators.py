"""The emulators themselves: faithful shapes, parameters, caching headers, corpora, knobs."""

from __future__ import annotations

import asyncio
import io
from contextlib import aclosing
from pathlib import Path

import chess
import chess.pgn
import chess.variant
import httpx
import orjson
import pytest

from gamekeeper.connectors.chesscom.source import ChessComSource
from gamekeeper.connectors.lichess.source import LichessSource
from gamekeeper.domain.games import Game
from gamekeeper.domain.variants import board_class
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import ENDED_WITHOUT_A_MOVE, LichessCorpus
from gamekeeper.emulators.server import build_emulator, serve_async
from tests.integration.conftest import UpstreamsFor

FIXTURES = Path(__file__).parents[1] / "fixtures"


def ndjson(response: httpx.Response) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in response.content.splitlines() if line.strip()]


# -- generated corpora ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_games_and_another_seed_others() -> None:
    first = LichessCorpus.generate({"alice": 50}, seed=11).account("alice")
    again = LichessCorpus.generate({"alice": 50}, seed=11).account("alice")
    other = LichessCorpus.generate({"alice": 50}, seed=12).account("alice")
    assert first is not None and again is not None and other is not None
    assert first.lines == again.lines
    assert first.lines != other.lines
    assert len({game.id for game in first.games}) == 50


def test_generated_lichess_games_are_legal_and_end_as_they_say() -> None:
    account = LichessCorpus.generate({"alice": 600}, seed=5).account("alice")
    assert account is not None
    records = [orjson.loads(line) for line in account.lines]
    assert len({r["variant"] for r in records}) >= 4
    assert {r["status"] for r in records} >= {"mate", "resign", "outoftime", "draw", "aborted"}
    assert any(
        "aiLevel" in r["players"]["black"] or "aiLevel" in r["players"]["white"] for r in records
    )
    assert any("winner" not in r for r in records)
    assert any("moves" not in r for r in records)
    for record in records:
        variant = str(record["variant"])
        fen = record.get("initialFen")
        if variant == "chess960":
            board = chess.Board(str(fen), chess960=True)
        elif variant == "fromPosition":
            board = chess.Board(str(fen))
        else:
            board = board_class(variant)()
        sans = str(record.get("moves", "")).split()
        for san in sans:
            board.push_san(san.removeprefix("P") if san.startswith("P@") else san)
        if record["status"] == "mate":
            assert board.is_checkmate()
        if record["status"] == "variantEnd":
            assert board.is_variant_end()
        if "clocks" in record:
            # A game that ends between moves has one clock more: the side to move's.
            extra = 1 if record["status"] in ENDED_WITHOUT_A_MOVE else 0
            assert len(record["clocks"]) == len(sans) + extra  # type: ignore[arg-type]
        if "analysis" in record:
            assert len(record["analysis"]) in (len(sans), len(sans) - 1)  # type: ignore[arg-type]


def test_generated_chesscom_pgns_read_back_with_python_chess() -> None:
    corpus = ChessComCorpus.generate({"alice": 300}, seed=5)
    account = corpus.account("alice")
    assert account is not None
    games = [orjson.loads(line) for month in account.months.values() for _, line in month]
    assert len(games) == 300
    assert {g["rules"] for g in games} >= {"chess", "chess960"}
    for record in games:
        if "pgn" not in record:
            continue
        game = chess.pgn.read_game(io.StringIO(record["pgn"]))  # knows the Variant tags
        assert game is not None
        assert not game.errors, (record["url"], game.errors)
        assert game.end().board().fen() == record["fen"]


def test_added_games_come_after_the_history() -> None:
    corpus = LichessCorpus.generate({"alice": 10}, seed=1)
    account = corpus.account("alice")
    assert account is not None
    last = account.created[-1]
    added = corpus.add_games("alice", 37)
    assert len(added) == 37
    assert [game.id for game in account.games[-37:]] == added
    assert all(created > last for created in account.created[-37:])


# -- the Lichess emulator over HTTP -------------------------------------------------------


async def test_lichess_index_lists_accounts(lichess_url: str) -> None:
    async with httpx.AsyncClient() as client:
        index = (await client.get(f"{lichess_url}/")).json()
    assert index["site"] == "lichess"
    assert {a["username"]: a["games"] for a in index["accounts"]} == {
        "alice": 120,
        "bob": 12,
        "carol": 0,
    }


async def test_lichess_export_defaults_follow_the_reference(
    lichess_emulator: LichessEmulator, lichess_url: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{lichess_url}/api/games/user/alice", headers={"Accept": "application/x-ndjson"}
        )
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = ndjson(response)
    # Newest first; no clocks, evals or opening unless asked; no ongoing games.
    created = [r["createdAt"] for r in records]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]
    assert not any({"clocks", "analysis", "opening"} & set(r) for r in records)
    assert all(r["status"] not in ("started", "created") for r in records)
    account = lichess_emulator.corpus.account("alice")
    assert account is not None
    assert len(records) == sum(1 for g in account.games if not g.ongoing)


async def test_lichess_since_until_max_and_filters(
    lichess_emulator: LichessEmulator, lichess_url: str
) -> None:
    account = lichess_emulator.corpus.account("alice")
    assert account is not None
    since, until = account.created[10], account.created[20]
    params = {"since": since, "until": until, "sort": "dateAsc", "ongoing": "true"}
    async with httpx.AsyncClient(headers={"Accept": "application/x-ndjson"}) as client:
        url = f"{lichess_url}/api/games/user/Alice"
        window = ndjson(await client.get(url, params=params))
        capped = ndjson(await client.get(url, params={**params, "max": 3}))
        rated = ndjson(await client.get(url, params={"rated": "false", "ongoing": "true"}))
        bad = await client.get(url, params={"since": "yesterday"})
    assert [r["id"] for r in window] == [g.id for g in account.games[10:21]]
    assert [r["id"] for r in capped] == [g.id for g in account.games[10:13]]
    assert rated and all(r["rated"] is False for r in rated)
    assert bad.status_code == 400


async def test_lichess_ids_endpoint(lichess_emulator: LichessEmulator, lichess_url: str) -> None:
    account = lichess_emulator.corpus.account("alice")
    assert account is not None
    ids = [g.id for g in account.games[:5]]
    async with httpx.AsyncClient(headers={"Accept": "application/x-ndjson"}) as client:
        found = ndjson(
            await client.post(
                f"{lichess_url}/api/games/export/_ids",
                content=",".join([*ids, "unknown1"]),
                params={"clocks": "true"},
            )
        )
        too_many = await client.post(
            f"{lichess_url}/api/games/export/_ids", content=",".join(["x"] * 301)
        )
    assert sorted(r["id"] for r in found) == sorted(ids)  # type: ignore[type-var]
    assert too_many.status_code == 400


async def test_lichess_unknown_user_and_pgn_for_other_accepts(lichess_url: str) -> None:
    async with httpx.AsyncClient() as client:
        missing = await client.get(f"{lichess_url}/api/games/user/nobody")
        pgn = await client.get(f"{lichess_url}/api/games/user/alice", params={"clocks": "true"})
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found."}
    assert pgn.headers["content-type"].startswith("application/x-chess-pgn")
    text = io.StringIO(pgn.text)
    variants = set()
    while (game := chess.pgn.read_game(text)) is not None:
        assert not game.errors, game.headers
        variants.add(game.headers.get("Variant"))
    assert len(variants) >= 3  # variant games read back with their own rules


async def test_rate_limits_and_retry_after(
    lichess_emulator: LichessEmulator, lichess_url: str
) -> None:
    lichess_emulator.faults.budget = 2
    lichess_emulator.faults.retry_after_s = 30
    async with httpx.AsyncClient() as client:
        statuses = [
            (await client.get(f"{lichess_url}/api/user/alice")).status_code for _ in range(3)
        ]
        limited = await client.get(f"{lichess_url}/api/user/alice")
    assert statuses == [200, 200, 429]
    assert limited.headers["retry-after"] == "30"
    lichess_emulator.reset()
    assert lichess_emulator.faults.budget is None
    assert lichess_emulator.log.entries == []


async def test_a_paced_stream_sends_games_over_time(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.games_per_s = 40
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        async with aclosing(source.iter_games("alice")) as games:
            first = await anext(games)
            sent = lichess_emulator.log.entries[0].items_sent
    assert isinstance(first, Game)
    assert sent < 120


# -- the Chess.com emulator over HTTP -------------------------------------------------------


async def test_chesscom_caching_headers(
    chesscom_emulator: ChessComEmulator, chesscom_url: str
) -> None:
    account = chesscom_emulator.corpus.account("alice")
    assert account is not None
    month = sorted(account.months)[0]
    url = f"{chesscom_url}/pub/player/alice/games/{month}"
    async with httpx.AsyncClient() as client:
        first = await client.get(url)
        by_etag = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
        by_date = await client.get(
            url, headers={"If-Modified-Since": first.headers["last-modified"]}
        )
        stale = await client.get(url, headers={"If-None-Match": '"something-else"'})
        empty = await client.get(f"{chesscom_url}/pub/player/alice/games/1999/01")
        archives = (await client.get(f"{chesscom_url}/pub/player/alice/games/archives")).json()
    assert first.status_code == 200
    assert len(first.json()["games"]) == len(account.months[month])
    assert (by_etag.status_code, by_date.status_code, stale.status_code) == (304, 304, 200)
    assert by_etag.headers["etag"] == first.headers["etag"]
    assert empty.json() == {"games": []}
    assert archives["archives"][0] == f"{chesscom_url}/pub/player/alice/games/{month}"


async def test_chesscom_index_404_410_301(
    chesscom_emulator: ChessComEmulator, chesscom_url: str
) -> None:
    chesscom_emulator.gone_months.add(("alice", "2020/01"))
    chesscom_emulator.rename("Old", "alice")
    async with httpx.AsyncClient() as client:
        index = (await client.get(f"{chesscom_url}/")).json()
        missing = await client.get(f"{chesscom_url}/pub/player/nobody/games/archives")
        gone = await client.get(f"{chesscom_url}/pub/player/alice/games/2020/01")
        moved = await client.get(f"{chesscom_url}/pub/player/old/games/archives")
    assert index["site"] == "chesscom"
    assert {a["username"] for a in index["accounts"]} == {"alice", "bob", "carol"}
    assert missing.status_code == 404
    assert gone.status_code == 410
    assert moved.status_code == 301
    assert moved.headers["location"] == f"{chesscom_url}/pub/player/alice/games/archives"


# -- corpora loaded from the sites' own files -----------------------------------------------


async def test_a_lichess_export_file_is_served_as_is(upstreams_for: UpstreamsFor) -> None:
    path = FIXTURES / "lichess" / "edge-cases.ndjson"
    emulator = build_emulator("lichess", corpus=path)
    assert isinstance(emulator, LichessEmulator)
    async with serve_async(emulator) as url, upstreams_for(lichess_url=url) as upstreams:
        source = LichessSource(upstreams.lichess, url)
        async with aclosing(source.iter_games("alice")) as items:
            games = [item async for item in items]
    lines = path.read_text().splitlines()
    # Every game of the file, each exactly as the file has it (keys are kept in order).
    assert sorted(g.raw for g in games if isinstance(g, Game)) == sorted(lines)


async def test_chesscom_archive_files_are_served(upstreams_for: UpstreamsFor) -> None:
    path = FIXTURES / "chesscom" / "erik_2009-10_monthly-archive_46.json"
    emulator = build_emulator("chesscom", corpus=[path])
    async with serve_async(emulator) as url, upstreams_for(chesscom_url=url) as upstreams:
        source = ChessComSource(upstreams.chesscom, url)
        fetched = [m async for m in source.iter_months("erik", from_month=None, etags={})]
    assert [m.month for m in fetched] == ["2009/10"]
    original = orjson.loads(path.read_bytes())["games"]
    assert [orjson.loads(g.raw) for g in fetched[0].games if isinstance(g, Game)] == original


def test_build_emulator_rejects_unknown_sites() -> None:
    with pytest.raises(ValueError, match="unknown site"):
        build_emulator("fics", games=1)  # type: ignore[arg-type]


async def test_serving_twice_from_one_emulator(lichess_emulator: LichessEmulator) -> None:
    for _ in range(2):
        async with serve_async(lichess_emulator) as url, httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/api/user/bob")).status_code == 200
    await asyncio.sleep(0)
