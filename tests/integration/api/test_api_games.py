"""Games over HTTP: filtered pages, one game, and exports that stream."""

from __future__ import annotations

import io
import socket

import chess.pgn
import httpx
import orjson
import sqlalchemy as sa

from tests.conftest import count_statements
from tests.integration.api.conftest import Api, ApiFactory
from tests.integration.api.test_api_jobs import read_events


def sync(api: Api, client: httpx.Client, username: str) -> None:
    job = client.post(
        "/api/jobs",
        json={
            "job_type": "sync_games",
            "parameters": {"platform": "lichess", "username": username},
        },
        headers=api.auth("alice"),
    ).json()
    events = read_events(client, f"/api/jobs/{job['id']}/events", api.auth("alice"))
    assert orjson.loads(events[-2]["data"])["status"] == "completed"


def test_export_streams_pgn_that_python_chess_reads_back(make_api: ApiFactory) -> None:
    api = make_api()
    api.lichess.corpus.add_games("magnus", 2000)  # 5,000 games in all
    # A small receive window: the server can't buffer the whole export into the socket.
    small = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)])
    with httpx.Client(base_url=api.url, timeout=120, transport=small) as client:
        sync(api, client, "magnus")
        pages = count_statements(api.services.store.engine, "SELECT games.id")
        with client.stream(
            "GET", "/api/games/export", params={"format": "pgn"}, headers=api.auth("alice")
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/x-chess-pgn")
            chunks = response.iter_bytes()
            body = [next(chunks)]
            pages_at_first_bytes = len(pages)
            body.extend(chunks)
    # The first bytes came while most of the games were still unread.
    assert pages_at_first_bytes < len(pages)
    text = b"".join(body).decode()
    stream = io.StringIO(text)
    games = 0
    # Every game's tags, and every 10th game whole (python-chess reads ~1,000 games/s).
    while True:
        offset = stream.tell()
        headers = chess.pgn.read_headers(stream)
        if headers is None:
            break
        assert headers["Result"] in ("1-0", "0-1", "1/2-1/2", "*")
        if games % 10 == 0:
            stream.seek(offset)
            game = chess.pgn.read_game(stream)
            assert game is not None and not game.errors, (headers.get("Site"), game)
        games += 1
    assert games == 5000


def test_ndjson_and_csv_exports_and_one_game(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        sync(api, client, "hikaru")
        ndjson = client.get("/api/games/export?format=ndjson", headers=api.auth("alice"))
        assert ndjson.headers["content-type"].startswith("application/x-ndjson")
        lines = ndjson.text.splitlines()
        assert len(lines) == 40
        csv = client.get("/api/games/export?format=csv", headers=api.auth("alice")).text
        assert csv.splitlines()[0].startswith("id,platform,platform_game_id")
        assert len(csv.splitlines()) == 41
        first = client.get("/api/games?limit=1", headers=api.auth("alice")).json()["items"][0]
        detail = client.get(f"/api/games/{first['id']}", headers=api.auth("alice")).json()
        assert detail["raw"].startswith("{")
        pgn = client.get(f"/api/games/{first['id']}.pgn", headers=api.auth("alice"))
        assert pgn.status_code == 200
        game = chess.pgn.read_game(io.StringIO(pgn.text))
        assert game is not None
        assert len(list(game.mainline_moves())) == len(detail["moves"] or [])


def test_game_filters_and_pages(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        sync(api, client, "hikaru")
        a = api.auth("alice")
        seen: list[int] = []
        cursor = None
        while True:
            params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
            page = client.get("/api/games", params=params, headers=a).json()
            seen += [g["id"] for g in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 40
        account = client.get("/api/accounts", headers=a).json()[0]["id"]
        wins = client.get(
            "/api/games", params={"account_id": account, "outcome": "win", "limit": 500}, headers=a
        ).json()["items"]
        assert wins
        for g in wins:
            mine = "white" if g["white"]["id"] == "hikaru" else "black"
            assert g["winner"] == mine
        blitz = client.get("/api/games", params={"speed": "blitz", "limit": 500}, headers=a).json()
        assert all(g["speed"] == "blitz" for g in blitz["items"])
        bad = client.get("/api/games", params={"speed": "hyper"}, headers=a)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
        assert client.get("/api/games", params={"cursor": "junk"}, headers=a).status_code == 422


def test_health_and_metrics(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        sync(api, client, "hikaru")
        assert client.get("/healthz").json()["status"] == "ok"
        metrics = client.get("/metrics").text
        assert 'gamekeeper_jobs{status="completed"} 1.0' in metrics
        assert "gamekeeper_games_stored 40.0" in metrics
        assert "gamekeeper_upstream_requests_total{host=" in metrics
        assert "gamekeeper_http_request_duration_seconds_bucket" in metrics


def test_games_by_accuracy_and_blunders(api: Api) -> None:
    from tests.support.analyses import analysis_values, insert_analyses

    with httpx.Client(base_url=api.url, timeout=60) as client:
        sync(api, client, "hikaru")
        a = api.auth("alice")
        account = client.get("/api/accounts", headers=a).json()[0]["id"]
        listed = client.get("/api/games", params={"limit": 500}, headers=a).json()["items"]
        # 30 of the 40 games analysed (only): hikaru's accuracy 40.5 + i, i % 4 blunders.
        with api.services.store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM analyses"))
        mine: dict[int, tuple[float, int]] = {}
        for i, g in enumerate(listed[:30]):
            white = g["white"]["id"] == "hikaru"
            ours = 40.5 + i
            plies = range(1 if white else 2, 2 * (i % 4) + 1, 2)
            values = analysis_values(
                ["e4"] * 8,
                accuracy=(ours, 99.0) if white else (99.0, ours),
                judged=dict.fromkeys(plies, ("blunder", None)),
            )
            insert_analyses(api.services.store.engine, g["id"], values)
            mine[g["id"]] = (ours, i % 4)

        def pages(**params: object) -> list[int]:
            seen: list[int] = []
            cursor = None
            while True:
                query = params | {"account_id": account, "limit": 7}
                page = client.get(
                    "/api/games", params=query | ({"cursor": cursor} if cursor else {}), headers=a
                ).json()
                seen += [g["id"] for g in page["items"]]
                if (cursor := page["next_cursor"]) is None:
                    return seen

        by_accuracy = pages(sort="-accuracy")
        assert len(by_accuracy) == len(set(by_accuracy)) == 40
        assert by_accuracy[:30] == sorted(mine, key=lambda i: -mine[i][0])
        assert set(by_accuracy[30:]) == {g["id"] for g in listed[30:]}  # not analysed: last
        assert pages(min_accuracy=60, max_accuracy=62.5) == [
            i for i in (g["id"] for g in listed) if i in mine and 60 <= mine[i][0] <= 62.5
        ]
        by_blunders = pages(sort="blunders", max_blunders=1)
        assert [mine[i][1] for i in by_blunders] == sorted(b for _, b in mine.values() if b <= 1)
        # Bounds and names are checked: 422, never a 500.
        for bad in (
            {"min_accuracy": 101},
            {"max_accuracy": -1},
            {"min_accuracy": "nan"},
            {"min_blunders": -1},
            {"max_blunders": 10**6},
            {"sort": "rating"},
            {"min_accuracy": 80, "max_accuracy": 70},
            {
                "sort": "accuracy",
                "cursor": client.get("/api/games?limit=1", headers=a).json()["next_cursor"],
            },
        ):
            response = client.get("/api/games", params=bad, headers=a)
            assert response.status_code == 422, (bad, response.text)
        # An admin lists everyone's games: there is no "our side" without an account.
        admin = client.get("/api/games", params={"sort": "accuracy"}, headers=api.auth("admin"))
        assert admin.status_code == 422
        assert "account_id" in admin.json()["error"]["message"]
        # The export takes the same filters and order.
        csv = client.get(
            "/api/games/export",
            params={"format": "csv", "account_id": account, "sort": "-accuracy"},
            headers=a,
        ).text
        assert [int(line.split(",")[0]) for line in csv.splitlines()[1:]] == by_accuracy
