"""`POST /api/jobs` with `import_pgn`: the same job as the CLI's, for admins only."""

from __future__ import annotations

import os
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
def api(make_api: ApiFactory, tmp_path: Path) -> Api:  # noqa: F811 (the fixture imported above)
    # The test's folder holds the SQLite database too: its files must stay off limits.
    return make_api(import_dir=str(tmp_path))


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


def _import(api: Api, path: str) -> httpx.Response:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        return client.post(
            "/api/jobs",
            json={"job_type": "import_pgn", "parameters": {"path": path}},
            headers=api.auth("admin"),
        )


def test_without_an_import_folder_api_imports_are_off(make_api: ApiFactory, tmp_path: Path) -> None:  # noqa: F811
    api = make_api()
    path = tmp_path / "games.pgn"
    path.write_bytes(dump(range(5)))
    refused = _import(api, str(path))
    assert refused.status_code == 403
    assert "GAMEKEEPER_IMPORT_DIR" in refused.json()["error"]["message"]


def test_only_files_inside_the_folder_and_never_the_database(
    make_api: ApiFactory,  # noqa: F811
    db_url: str,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pgn"
    folder.mkdir()
    api = make_api(import_dir=str(folder))
    (folder / "ok.pgn").write_bytes(dump(range(3)))
    outside = tmp_path / "outside.pgn"
    outside.write_bytes(dump(range(3)))
    (folder / "escape.pgn").symlink_to(outside)
    (folder / "up").symlink_to(tmp_path)
    refused = [
        str(outside),
        "../outside.pgn",
        str(folder / ".." / "outside.pgn"),
        "escape.pgn",
        "up/outside.pgn",
        "/etc/passwd",
        "nope.pgn",
    ]
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        (folder / "db-link").symlink_to(database)
        os.link(database, folder / "db-hard")
        refused += ["db-link", "db-hard", str(database), f"{database}-wal"]
    for path in refused:
        response = _import(api, path)
        assert 400 <= response.status_code < 500, (path, response.text)
    created = _import(api, "ok.pgn")  # relative to the folder
    assert created.status_code == 202, created.text
    assert created.json()["parameters"]["path"] == str((folder / "ok.pgn").resolve())


def test_the_database_folder_itself_is_off_limits(api: Api, db_url: str) -> None:
    """The `api` fixture's import folder holds the SQLite database and its -wal file."""
    if not db_url.startswith("sqlite"):
        pytest.skip("a SQLite database file")
    database = Path(db_url.removeprefix("sqlite:///"))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            response = _import(api, str(path))
            assert response.status_code == 422, response.text
            assert "database" in response.json()["error"]["message"]
