"""Every integer parameter of every route at 2^31, 2^63 and 2^64, and a NUL in every
string parameter, generated from the app's own OpenAPI description (and, for
`POST /api/jobs`, from each job kind's signature): a 4xx, never a 5xx, on SQLite and
PostgreSQL alike. The dashboard's pages get the same treatment."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from tests.integration.api.conftest import (  # noqa: F401 (fixtures used here)
    Api,
    ApiFactory,
    lichess,
    make_api,
)

HUGE = (2**31, 2**63, 2**64)
NUL = "a\x00b"
#: A valid value for each path parameter, so only the value under test is wrong.
PATH_DEFAULTS: dict[str, Any] = {
    "job_id": "job_000000000000",
    "account_id": 1,
    "game_id": 1,
    "name": "alice",
    "token_id": 1,
}
#: Integers that are legitimate at 2^31 (milliseconds since 1970: January 1970).
TIMES = frozenset({"since_ms", "start_date_ms"})


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    what: str
    value: Any
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    @property
    def must_refuse(self) -> bool:
        """NUL is always refused; an integer beyond 64 bits too, and 2^31 unless a time."""
        if not isinstance(self.value, int):
            return True  # a NUL, alone or in a list
        return self.value > 2**31 or self.what.rsplit(".", 1)[-1] not in TIMES


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s, and take the non-null branch of an `anyOf`."""
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def sample(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A valid value of `schema` (enough to pass for the other fields of a body)."""
    schema = resolve(schema, spec)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    samples = {"integer": 1, "string": "alice", "boolean": True, "array": [], "object": {}}
    return samples.get(str(schema.get("type")))


def bad_values(schema: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    schema = resolve(schema, spec)
    kind = schema.get("type")
    if kind == "integer":
        return list(HUGE)
    if kind == "string":
        return [NUL]
    if kind == "array" and resolve(schema.get("items", {}), spec).get("type") == "string":
        return [[NUL]]
    return []


def operation_cases(spec: dict[str, Any]) -> Iterator[Case]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
            base = {p["name"]: PATH_DEFAULTS.get(p["name"], 1) for p in params if p["in"] == "path"}
            body_schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ).get("schema")
            body = None
            if body_schema is not None:
                props = resolve(body_schema, spec).get("properties", {})
                body = {name: sample(s, spec) for name, s in props.items()}
            for param in params:
                for value in bad_values(param["schema"], spec):
                    where = {**base, param["name"]: value}
                    url = path.format(**{k: quote(str(v), safe="") for k, v in where.items()})
                    query = {param["name"]: value} if param["in"] == "query" else {}
                    yield Case(method.upper(), url, param["name"], value, query, body)
            if body is not None:
                url = path.format(**base)
                for name, schema in resolve(body_schema, spec).get("properties", {}).items():
                    for value in bad_values(schema, spec):
                        yield Case(
                            method.upper(), url, f"body.{name}", value, {}, body | {name: value}
                        )


def job_parameter_cases(api: Api, account_id: int) -> Iterator[Case]:
    """`POST /api/jobs` with each job kind's every parameter out of range or with NUL."""
    for name in api.services.registry.names():
        kind = api.services.registry.get(name)
        signature = inspect.signature(kind.signature_of or kind.fn)
        base: dict[str, Any] = {"account_id": account_id} if kind.needs_account else {}
        if name == "import_pgn":
            base = {"path": "games.pgn"}
        for param in list(signature.parameters.values())[1:]:  # the first is the context
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            hint = str(param.annotation)
            values: list[Any] = [*HUGE] if "int" in hint else []
            values += [NUL] if "str" in hint else []
            for value in values:
                body = {"job_type": name, "parameters": base | {param.name: value}}
                yield Case("POST", "/api/jobs", f"{name}.{param.name}", value, {}, body)


PAGES = [
    ("/games", {"account": "{v}"}),
    ("/games", {"opening": "{v}"}),
    ("/games/{v}", {}),
    ("/games/1", {"ply": "{v}"}),
    ("/games/{v}/board.svg", {}),
    ("/charts", {"account": "{v}"}),
    ("/login", {"token": "{v}", "next": "/tasks"}),
    ("/login", {"next": "{v}"}),
]


def _send(client: httpx.Client, case: Case) -> int:
    with client.stream(case.method, case.path, params=case.params, json=case.body) as response:
        return response.status_code  # streams (events, exports) are left unread


def test_extreme_numbers_and_nul_are_refused_everywhere(
    make_api: ApiFactory,  # noqa: F811 (the fixture imported above)
    tmp_path: Any,
) -> None:
    api = make_api(job_create_limit=100_000, import_dir=str(tmp_path))
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as client:
        spec = client.get("/openapi.json").json()
        account = client.post("/api/accounts", json={"platform": "lichess", "username": "hikaru"})
        cases = [*operation_cases(spec), *job_parameter_cases(api, account.json()["id"])]
        failures = []
        for case in cases:
            status = _send(client, case)
            if status >= 500 or (case.must_refuse and not 400 <= status < 500):
                failures.append((status, case))
    assert not failures, failures
    assert len(cases) >= 150
    covered = {case.path.split("?")[0] for case in cases}
    assert len(covered) >= 15

    cookies = {"gamekeeper_token": api.tokens["admin"]}
    with httpx.Client(base_url=api.url, timeout=30, cookies=cookies) as page:
        for path, params in PAGES:
            for value in [*(str(v) for v in HUGE), NUL]:
                url = path.replace("{v}", quote(value, safe=""))
                query = {k: v.replace("{v}", value) for k, v in params.items()}
                status = page.get(url, params=query).status_code
                assert status < 500, (url, query, status)
                if value == NUL:
                    assert status == 422, (url, query, status)
