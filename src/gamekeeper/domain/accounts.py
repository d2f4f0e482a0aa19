"""Accounts: a player's identity on one site, kept by one gamekeeper user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from gamekeeper.domain.games import Platform, SiteUser
from gamekeeper.errors import InvalidInput

#: Sites an account can live on (PGN files have no accounts).
ACCOUNT_PLATFORMS = (Platform.LICHESS, Platform.CHESSCOM)

#: The sites' own rule for usernames: ASCII letters, digits, `-` and `_`, 1 to 50 of
#: them. The API's schemas use this very pattern, so a name the API takes in one route
#: is never refused by another (`str.isalnum` would let Unicode letters through).
USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
_USERNAME = re.compile(r"[A-Za-z0-9_-]{1,50}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Account(SiteUser):
    """(owner, platform, username): whose games to keep, from where."""

    id: int
    owner: str
    platform: Platform
    username: str
    platform_user_id: str | None = None
    #: Minutes between scheduled syncs; None turns auto-sync off.
    auto_sync_minutes: int | None = None
    #: Whether its syncs run the engine on the games they store (off: only the plugins
    #: that need no engine, or use the evaluations the site sent).
    auto_analyze: bool = False
    created_at: datetime | None = None


def parse_account_ref(text: str) -> tuple[Platform, str]:
    """Split `lichess:USER` or `chesscom:USER` into a platform and a username."""
    platform_name, sep, username = text.partition(":")
    key = platform_name.strip().lower().replace(".", "")
    if not sep or not username.strip():
        raise InvalidInput(f"expected PLATFORM:USER (e.g. lichess:alice), got {text!r}")
    try:
        platform = Platform(key)
    except ValueError:
        raise InvalidInput(f"unknown platform {platform_name!r}; use lichess or chesscom") from None
    if platform not in ACCOUNT_PLATFORMS:
        raise InvalidInput(f"{platform.value} has no accounts; use lichess or chesscom")
    return platform, validate_username(username.strip())


def validate_username(username: str) -> str:
    """Reject names no site allows, before they reach a URL."""
    if _USERNAME.fullmatch(username) is None:
        raise InvalidInput(
            f"invalid username {username!r}: use 1 to 50 ASCII letters, digits, - and _"
        )
    return username
