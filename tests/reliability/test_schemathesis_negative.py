"""Schemathesis with negative data (values the schema forbids: wrong types, out of
range, missing or extra fields), on a fixed budget of over a thousand requests:
not one server error."""

from __future__ import annotations

from typing import Any

import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.integration.api.conftest import (  # noqa: F401 (fixtures used here)
    Api,
    ApiFactory,
    lichess,
    make_api,
)

#: Generated requests per operation; over thirty operations make the budget.
EXAMPLES = 40
BUDGET = 1000


def test_negative_data_never_gives_a_server_error(make_api: ApiFactory) -> None:  # noqa: F811
    api = make_api(job_create_limit=100_000)
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    schema = schema.exclude(path_regex=r".*/events$")  # streams: tested on their own
    calls = 0
    failures: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                headers=api.auth("admin"), checks=[not_a_server_error], timeout=30
            )

        try:
            check()
        except hypothesis.errors.Unsatisfiable:
            continue  # nothing to get wrong (an operation without parameters)
        except (Exception, BaseExceptionGroup) as exc:  # each operation's, all reported
            failures.append((operation.label, str(exc)[:2000]))
    assert not failures, failures
    assert calls >= BUDGET, calls
