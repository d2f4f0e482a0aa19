"""Scale-out as an operator runs it: `gamekeeper worker` and `gamekeeper serve` processes
on one PostgreSQL database, syncing from one emulated Lichess.

No sleeps stand in for synchronisation: the tests wait for lines a process prints,
for the emulator's log, or for job rows to reach a state (bounded polls).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.storage.sql.store import libpq_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COOLDOWN_S = 2.0
#: Every bounded wait gives up after this long.
PATIENCE_S = 90.0


@dataclass
class Process:
    """A `gamekeeper` subprocess whose output lines are collected as they come."""

    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, text: str, timeout: float = PATIENCE_S) -> str:
        """The first line containing `text` (raises if the process ends first)."""
        for line in self.lines:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"{self.name} ended before printing {text!r}:\n{self.output}")
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"{self.name} did not print {text!r}:\n{self.output}")

    @property
    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "\n".join(self.lines)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait()
        self._pumping.join(timeout=10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return code


Launch = Callable[..., Process]


@pytest.fixture
def lichess() -> Iterator[tuple[LichessEmulator, str]]:
    accounts = {f"player{n}": 150 for n in range(8)} | {"marathon": 3000}
    emulator = LichessEmulator(LichessCorpus.generate(accounts, seed=21))
    emulator.faults.latency_s = 0.01
    with serve_in_thread(emulator) as url:
        yield emulator, url


@pytest.fixture
def env(procrastinate_postgres_url: str, lichess: tuple[LichessEmulator, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
    return base | {
        "GAMEKEEPER_EXECUTOR": "procrastinate",
        "GAMEKEEPER_DATABASE_URL": procrastinate_postgres_url,
        "GAMEKEEPER_LICHESS_URL": lichess[1],
        "GAMEKEEPER_CHESSCOM_URL": "http://127.0.0.1:9",  # unused here
        "GAMEKEEPER_LICHESS_COOLDOWN_S": str(COOLDOWN_S),
        "GAMEKEEPER_UPSTREAM_BACKOFF_BASE_S": "0.01",
        "GAMEKEEPER_UPSTREAM_BUSY_GRACE_S": "0.2",
        "GAMEKEEPER_HEARTBEAT_INTERVAL_S": "0.5",
        "GAMEKEEPER_STALE_AFTER_S": "3",
        "GAMEKEEPER_SWEEP_INTERVAL_S": "0.5",
        "GAMEKEEPER_PROGRESS_WRITE_INTERVAL_S": "0.2",
        "GAMEKEEPER_JOB_CREATE_LIMIT": "1000",
        "GAMEKEEPER_AUTO_SYNC_TICK_S": "1",
        "GAMEKEEPER_AUTO_UPGRADE": "false",  # the template is migrated, as `db upgrade` would
        "COLUMNS": "200",
    }


@pytest.fixture
def launch(env: dict[str, str], tmp_path: Path) -> Iterator[Launch]:
    started: list[Process] = []

    def run(*args: str, name: str | None = None, **extra: str) -> Process:
        popen = subprocess.Popen(
            [sys.executable, "-m", "gamekeeper", *args],
            env=env | extra,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        process = Process(name or " ".join(args), popen)
        started.append(process)
        return process

    yield run
    for process in started:
        process.stop()


def workers(launch: Launch, count: int, concurrency: int = 2) -> list[Process]:
    made = [
        launch("worker", "--concurrency", str(concurrency), name=f"worker {n}")
        for n in range(count)
    ]
    for worker in made:
        worker.wait_for_line("running up to")
    return made


class Database:
    """The test's own look at the rows (psycopg, no gamekeeper code in the way)."""

    def __init__(self, url: str) -> None:
        self.conninfo = libpq_url(url)

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(sql, params)  # type: ignore[arg-type]

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.all(sql, params)
        return rows[0][0] if rows else None

    def until(self, sql: str, params: tuple[Any, ...], ok: Callable[[Any], bool], what: str) -> Any:
        """Poll `sql`'s first value until `ok` holds (bounded)."""
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            value = self.one(sql, params)
            if ok(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"never: {what} (last: {value!r})")

    def games_of(self, username: str) -> tuple[int, int]:
        row = self.all(
            "SELECT count(*), count(DISTINCT platform_game_id) FROM games "
            "WHERE white_id = %s OR black_id = %s",
            (username, username),
        )[0]
        return int(row[0]), int(row[1])


@pytest.fixture
def db(procrastinate_postgres_url: str) -> Database:
    return Database(procrastinate_postgres_url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def corpus_size(emulator: LichessEmulator, username: str) -> int:
    account = emulator.corpus.account(username)
    assert account is not None
    return len(account.games)


def test_three_workers_and_a_server_sync_eight_accounts_one_request_at_a_time(
    launch: Launch, db: Database, lichess: tuple[LichessEmulator, str]
) -> None:
    emulator = lichess[0]
    server = launch("serve", "--port", str(free_port()), name="serve")
    token = server.wait_for_line("login?token=").split("token=", 1)[1].strip()
    base = server.wait_for_line("serving on").split("serving on ", 1)[1].split()[0]
    pool = workers(launch, 3)

    names = [f"player{n}" for n in range(8)]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
        created = [
            api.post(
                "/api/jobs",
                json={
                    "job_type": "sync_games",
                    "parameters": {"platform": "lichess", "username": name},
                },
            )
            for name in names
        ]
        assert [r.status_code for r in created] == [202] * 8, created[-1].text
        ids = [r.json()["id"] for r in created]
        finals = [_until_finished(api, job_id) for job_id in ids]

    assert [f["status"] for f in finals] == ["completed"] * 8
    for name in names:
        assert db.games_of(name) == (corpus_size(emulator, name),) * 2
    ran_on = {row[0] for row in db.all("SELECT worker FROM jobs WHERE job_type = 'sync_games'")}
    assert {int(w.rsplit(":", 1)[1]) for w in ran_on} <= {p.pid for p in pool}  # not serve
    assert len(ran_on) >= 2  # the work spread over the workers...
    entries = emulator.log.entries
    assert len(entries) >= 16  # a profile and a stream per account, at least
    assert emulator.log.max_concurrent == 1  # ...and the site never saw two at once
    assert all(e.status != 429 for e in entries)
    for process in pool:
        assert process.stop() == 0, process.output


def _until_finished(api: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def create_sync(env: dict[str, str], tmp_path: Path, *usernames: str) -> list[str]:
    """Create sync jobs the way `gamekeeper serve` does, from another process (this
    helper runs a tiny script so the test process holds no pool of its own)."""
    script = (
        "import asyncio, sys\n"
        "from gamekeeper.cli.services import open_services, cli_user\n"
        "async def main():\n"
        "    async with open_services() as s:\n"
        "        user = await cli_user(s)\n"
        "        for name in sys.argv[1:]:\n"
        "            account = await s.accounts.add_ref(user.name, 'lichess:' + name)\n"
        "            job = await s.jobs.create('sync_games', owner=user.name,\n"
        "                                      parameters={'account_id': account.id})\n"
        "            print(job.id, flush=True)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *usernames],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_worker_killed_mid_job_is_resumed_by_another_from_its_checkpoint_exactly_once(
    launch: Launch,
    db: Database,
    env: dict[str, str],
    tmp_path: Path,
    lichess: tuple[LichessEmulator, str],
) -> None:
    emulator = lichess[0]
    emulator.faults.games_per_s = 1500  # two seconds of stream: time to be caught in it
    pool = {p.pid: p for p in workers(launch, 2, concurrency=1)}
    (job_id,) = create_sync(env, tmp_path, "marathon")

    # Kill whichever worker runs it, once a batch and its cursor are committed.
    db.until(
        "SELECT coalesce((counters->>'inserted')::int, 0) FROM jobs WHERE id = %s",
        (job_id,),
        lambda inserted: inserted >= 1000,
        "the job committed a batch and its cursor",
    )
    first = str(db.one("SELECT worker FROM jobs WHERE id = %s", (job_id,)))
    victim = pool[int(first.rsplit(":", 1)[1])]
    victim.popen.send_signal(signal.SIGKILL)
    victim.popen.wait()
    killed_at_stream = sum(e.items_sent for e in emulator.log.entries if "/games/" in e.path)
    assert killed_at_stream < 3000

    status = db.until(
        "SELECT status FROM jobs WHERE id = %s",
        (job_id,),
        lambda s: s in ("completed", "failed", "cancelled"),
        "the job ended",
    )
    assert status == "completed"
    worker, attempt, inserted = db.all(
        "SELECT worker, attempt, (counters->>'inserted')::int FROM jobs WHERE id = %s", (job_id,)
    )[0]
    assert worker != first and attempt == 2  # the other worker, a second attempt
    assert inserted == 3000
    assert db.games_of("marathon") == (3000, 3000)  # every game, none twice

    streams = [e for e in emulator.log.entries if e.path == "/api/games/user/marathon"]
    assert len(streams) == 2
    assert "since" in streams[1].query  # resumed from the cursor, not from the start
    assert sum(e.items_sent for e in streams) <= 3000 + 1000 + 1  # at most a batch again


def test_a_429_seen_by_one_worker_pauses_every_workers_requests_until_the_cooldown_ends(
    launch: Launch,
    db: Database,
    env: dict[str, str],
    tmp_path: Path,
    lichess: tuple[LichessEmulator, str],
) -> None:
    emulator = lichess[0]
    emulator.faults.rate_limit_burst = 1  # the first request anyone sends gets a 429
    workers(launch, 2, concurrency=2)
    ids = create_sync(env, tmp_path, "player0", "player1", "player2", "player3")
    for job_id in ids:
        db.until(
            "SELECT status FROM jobs WHERE id = %s",
            (job_id,),
            lambda s: s in ("completed", "failed", "cancelled"),
            f"job {job_id} ended",
        )
    rows = db.all("SELECT status, worker FROM jobs WHERE id = ANY(%s)", (ids,))
    assert {status for status, _ in rows} == {"completed"}
    assert len({worker for _, worker in rows}) == 2  # jobs on both workers

    entries = emulator.log.entries
    limited = [e for e in entries if e.status == 429]
    assert len(limited) == 1 and limited[0].number == entries[0].number
    resumed = limited[0].at + timedelta(seconds=COOLDOWN_S)
    assert all(e.at >= resumed for e in entries[1:])  # no worker sent during the cool-down
    assert emulator.log.max_concurrent == 1


def test_a_periodic_sync_fires_once_per_period_with_two_workers(
    launch: Launch, db: Database, env: dict[str, str], tmp_path: Path
) -> None:
    (first_job,) = create_sync(env, tmp_path, "player5")  # adds the account; a manual sync
    db.until(
        "SELECT status FROM jobs WHERE id = %s",
        (first_job,),
        lambda s: s == "queued",
        "the manual sync is queued",
    )
    db.execute("UPDATE accounts SET auto_sync_minutes = 60 WHERE username = 'player5'")
    db.execute("DELETE FROM jobs")  # only scheduled runs from here on
    db.execute("DELETE FROM procrastinate_jobs")
    workers(launch, 2, concurrency=1)  # each would run the schedule if nothing stopped it

    ticks = "SELECT max(defer_timestamp) FROM procrastinate_periodic_defers"
    scheduled = "SELECT count(*) FROM jobs WHERE scheduled"
    start = db.until(ticks, (), lambda t: t is not None, "the schedule ticked")
    db.until(ticks, (), lambda t: t >= start + 4, "four more ticks")
    assert db.one(scheduled) == 1  # one run in this period, not one per worker or tick

    # A period later (moved back, not waited for), the next tick starts one more.
    db.execute("UPDATE auto_syncs SET last_at = last_at - interval '60 minutes'")
    now = db.one(ticks)
    db.until(ticks, (), lambda t: t >= now + 4, "four more ticks")
    assert db.one(scheduled) == 2
    assert db.one("SELECT count(*) FROM jobs WHERE scheduled AND status = 'completed'") >= 1
