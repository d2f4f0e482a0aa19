"""A game's analysis over HTTP, and the account's `auto_analyze` switch (real Stockfish)."""

from __future__ import annotations

import httpx
import orjson
import sqlalchemy as sa

from gamekeeper.storage.sql.schema import analyses
from tests.integration.api.conftest import ApiFactory
from tests.integration.api.test_api_jobs import read_events


def test_analysis_of_a_game_synced_with_auto_analyze(make_api: ApiFactory) -> None:
    api = make_api(analysis_nodes=1000, engine_workers=2, engine_hash_mb=16)
    alice = api.auth("alice")
    with httpx.Client(base_url=api.url, timeout=120) as client:
        account = client.post(
            "/api/accounts", json={"platform": "lichess", "username": "hikaru"}, headers=alice
        ).json()
        patched = client.patch(
            f"/api/accounts/{account['id']}", json={"auto_analyze": True}, headers=alice
        )
        assert patched.status_code == 200 and patched.json()["auto_analyze"] is True
        bad = client.patch(
            f"/api/accounts/{account['id']}", json={"auto_analyze": "often"}, headers=alice
        )
        assert bad.status_code == 422
        job = client.post(
            "/api/jobs",
            json={"job_type": "sync_games", "parameters": {"account_id": account["id"]}},
            headers=alice,
        ).json()
        events = read_events(client, f"/api/jobs/{job['id']}/events", alice)
        assert orjson.loads(events[-2]["data"])["status"] == "completed"

        games = client.get("/api/games", params={"limit": 50}, headers=alice).json()["items"]
        with api.services.store.engine.connect() as conn:
            judged = set(
                conn.execute(
                    sa.select(analyses.c.game_id).where(analyses.c.plugin == "judgments")
                ).scalars()
            )
        game = next(g for g in games if g["id"] in judged)
        view = client.get(f"/api/games/{game['id']}/analysis", headers=alice)
        assert view.status_code == 200, view.text
        body = view.json()
        assert set(body) == {"sides", "moves", "engine", "nodes"}
        assert set(body["sides"]) == {"white", "black"}
        white = body["sides"]["white"]
        assert set(white) == {"accuracy", "acpl", "inaccuracies", "mistakes", "blunders"}
        moves = body["moves"]
        assert [m["ply"] for m in moves] == list(range(1, len(moves) + 1))
        assert all(set(m) == {"ply", "san", "eval", "judgment", "best"} for m in moves)
        blunders = sum(1 for m in moves if m["ply"] % 2 == 1 and m["judgment"] == "blunder")
        assert white["blunders"] == blunders
        assert body["engine"] is not None

        # Someone else's game, an unknown one, and one not analysed yet: 404.
        assert (
            client.get(f"/api/games/{game['id']}/analysis", headers=api.auth("bob")).status_code
            == 404
        )
        assert client.get("/api/games/999999/analysis", headers=alice).status_code == 404
        with api.services.store.engine.begin() as conn:
            conn.execute(analyses.delete().where(analyses.c.game_id == game["id"]))
        missing = client.get(f"/api/games/{game['id']}/analysis", headers=alice)
        assert missing.status_code == 404
        assert "analysed" in missing.text
