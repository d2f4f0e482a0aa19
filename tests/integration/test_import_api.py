"""`POST /api/jobs` with `import_pgn`: the same job as the CLI's, for admins only."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.pgn.dumps import dump
from tests.integration.api.conftest import (  # noqa: F401 (fixtures used here)
    Api,
    ApiFactory,
    lichess,
    make_api,
)


@pytest.fixture
def api(make_api: ApiFactory) -> Api:  # noqa: F811 (the fixture imported above)
    return make_api()


def test_an_admin_imports_a_server_side_file(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(50)))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        created = client.post(
            "/api/jobs",
            json={"job_type": "IMPORT_PGN", "parameters": {"path": str(path)}},
            headers=api.auth("admin"),
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while (job := client.get(f"/api/jobs/{job_id}", headers=api.auth("admin")).json())[
            "status"
        ] not in ("completed", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert job["status"] == "completed", job
    assert job["counters"]["inserted"] == 50
    assert job["progress"]["total"] == path.stat().st_size


def test_a_user_may_not_read_the_servers_disk(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(5)))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        refused = client.post(
            "/api/jobs",
            json={"job_type": "import_pgn", "parameters": {"path": str(path)}},
            headers=api.auth("alice"),
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_a_bad_path_is_a_clear_400(api: Api, tmp_path: Path) -> None:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        missing = client.post(
            "/api/jobs",
            json={"job_type": "import_pgn", "parameters": {"path": str(tmp_path / "no.pgn")}},
            headers=api.auth("admin"),
        )
    assert missing.status_code in (400, 422)
    assert "no such file" in missing.json()["error"]["message"]
