"""Every PostgreSQL advisory lock gamekeeper takes, by key, in one place.

PostgreSQL keeps one-key (`bigint`) and two-key (`int, int`) advisory locks in separate
key spaces, so a one-key lock never meets a two-key lock with the same first number.
Within each space the keys below are distinct (tests/unit/domain/test_locks.py).
"""

from __future__ import annotations

import hashlib
from typing import Final

# -- one key: pg_advisory_xact_lock(key) ------------------------------------------------

#: Job creation, so the "one active job" and rate-limit checks can't race.
JOB_CREATION: Final = 7468031
#: `gamekeeper db upgrade` of procrastinate's tables: two runs on one database queue.
QUEUE_SCHEMA: Final = 7468032

# -- two keys: pg_advisory_[xact_]lock(class, key) --------------------------------------

#: One owner's account additions; the second key is `hashtext(owner)`.
OWNER_ACCOUNTS: Final = 7468032
#: An upstream host's one-request-in-flight slot ("gk"); the second key is `host_key`.
UPSTREAM_SLOT: Final = 0x676B

SINGLE_KEYS: Final = (JOB_CREATION, QUEUE_SCHEMA)
KEY_CLASSES: Final = (OWNER_ACCOUNTS, UPSTREAM_SLOT)


def host_key(host: str) -> int:
    """A stable 32-bit second key for a host (the same in every process, unlike `hash`)."""
    digest = hashlib.sha256(host.encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)
