"""Schemathesis over the OpenAPI schema: no input gives a 500 or a response off-schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: Generated requests per operation (about thirty operations: a few hundred in all).
EXAMPLES = 25


def test_no_input_gives_a_server_error_or_breaks_the_schema(api: Api) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    # Event streams never end by themselves: they are tested on their own.
    schema = schema.exclude(path_regex=r".*/events$")
    tried = calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
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
            case.call_and_validate(headers=api.auth("admin"), checks=CHECKS, timeout=30)

        check()
        tried += 1
    assert tried >= 20
    assert calls >= 300  # a few hundred generated requests
