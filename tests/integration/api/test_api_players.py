"""Scouting over the API: the crawl's players, a card, the opening tree, and bounds."""

from __future__ import annotations

import httpx
import orjson

from tests.integration.api.conftest import Api
from tests.integration.api.test_api_games import sync
from tests.integration.api.test_api_jobs import read_events


def test_players_card_tree_and_bounds(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        sync(api, client, "hikaru")
        job = client.post(
            "/api/jobs",
            json={
                "job_type": "crawl_opponents",
                "parameters": {"platform": "lichess", "username": "hikaru", "max_players": 3},
            },
            headers=api.auth("alice"),
        ).json()
        events = read_events(client, f"/api/jobs/{job['id']}/events", api.auth("alice"))
        final = orjson.loads(events[-2]["data"])
        assert final["status"] == "completed"
        players = client.get("/api/players", headers=api.auth("alice")).json()
        assert len(players) == 3
        # The emulator's strangers have no accounts: each is an item error, not a failure.
        assert {p["status"] for p in players} == {"failed"}
        assert final["counters"]["failed"] == 3
        name = players[0]["username"]
        card = client.get(f"/api/players/lichess/{name}", headers=api.auth("alice")).json()
        assert card["head_to_head"]["games"] == card["games"] > 0
        tree = client.get(
            "/api/openings/tree",
            params={"player": f"lichess:{name}", "moves": ""},
            headers=api.auth("alice"),
        ).json()
        assert sum(m["games"] for m in tree["next"]) == tree["games"]
        for path, status in (
            ("/api/players/lichess/nobody_here", 404),
            ("/api/players/nowhere/bob", 422),
            (f"/api/openings/tree?player=lichess:{name}&moves=e5", 422),
            (f"/api/openings/tree?player=lichess:{name}&color=red", 422),
        ):
            answer = client.get(path, headers=api.auth("alice"))
            assert answer.status_code == status, (path, answer.text)
