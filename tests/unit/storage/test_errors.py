"""Database errors reach users as "database error" with a reference, the driver's
text going to the log only."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from gamekeeper.errors import InvalidInput, StorageError
from gamekeeper.storage.sql.runner import translated

DRIVER_TEXT = "psycopg.errors.NumericValueOutOfRange: integer out of range"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (sa.exc.DataError("SELECT 1", {}, Exception(DRIVER_TEXT)), InvalidInput),
        (sa.exc.OperationalError("SELECT 1", {}, Exception(DRIVER_TEXT)), StorageError),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), InvalidInput),
    ],
)
def test_driver_text_goes_to_the_log_not_to_the_message(
    raised: Exception, expected: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    @translated
    def statement() -> None:
        raise raised

    with caplog.at_level(logging.WARNING), pytest.raises(expected) as info:
        statement()
    message = str(info.value)
    assert "psycopg" not in message and "SQLite" not in message and "range" not in message
    reference = re.search(r"reference ([0-9a-f]{8})", message)
    assert reference is not None, message
    logged = [r.getMessage() for r in caplog.records]
    assert any(reference.group(1) in line and str(raised)[:20] in line for line in logged)
