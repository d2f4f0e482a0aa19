"""`gamekeeper users token|tokens|revoke`: issue (optionally expiring), list, revoke."""

from __future__ import annotations

import re

from tests.acceptance.conftest import Gamekeeper


def test_tokens_are_listed_and_revoked(gamekeeper: Gamekeeper) -> None:
    added = gamekeeper("users", "add", "carol")
    assert added.returncode == 0, added.stderr
    issued = gamekeeper("users", "token", "carol", "--label", "phone", "--expires-in-days", "7")
    assert issued.returncode == 0, issued.stderr
    assert re.fullmatch(r"gk_\S+", issued.stdout.strip())

    listing = gamekeeper("users", "tokens", "carol")
    assert listing.returncode == 0, listing.stderr
    rows = [line for line in listing.stdout.splitlines() if "phone" in line or " cli " in line]
    assert len(rows) == 2, listing.stdout
    [phone] = [line for line in rows if "phone" in line]
    assert "never" in phone  # not used yet, and its expiry date is shown
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s*│?\s*$", phone.rstrip(" │┃|"))
    token_id = re.search(r"(\d+)", phone).group(1)  # type: ignore[union-attr]

    revoked = gamekeeper("users", "revoke", "carol", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "phone" not in gamekeeper("users", "tokens", "carol").stdout
    again = gamekeeper("users", "revoke", "carol", token_id)
    assert again.returncode == 4 and f"no token {token_id}" in again.stderr
    bad = gamekeeper("users", "token", "carol", "--expires-in-days", "0")
    assert bad.returncode == 2 and "expires_in_days" in bad.stderr
