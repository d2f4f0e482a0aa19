"""The job kinds a process can run: `async def kind(ctx, **params)`, registered by name."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gamekeeper.domain.limits import check_json_value
from gamekeeper.errors import InvalidInput

JobFunction = Callable[..., Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobKind:
    """A registered job function and the rules it runs under."""

    name: str
    fn: JobFunction
    #: Kinds of one family exclude each other per account (every sync kind is "sync").
    family: str
    #: Whether the kind needs an account (then `account_id` is one of its parameters).
    needs_account: bool
    #: Checks parameter values beyond their types; raises `InvalidInput`.
    validate: Callable[[Mapping[str, Any]], None] | None = None
    #: Whose signature the parameters are checked against (`fn`'s, unless it takes
    #: `**parameters` the way another kind does).
    signature_of: JobFunction | None = None

    def bind(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """Check `parameters` against the function's signature; `InvalidInput` if they don't fit.

        Whoever creates the job (API, CLI, scheduler), no value gets past with a NUL, an
        integer beyond 64 bits or a non-finite number: they would fail in storage, not
        here. Each kind's `validate` then bounds its own values to their meaning.
        """
        shape = self.signature_of or self.fn
        signature = inspect.signature(shape)
        for name, value in parameters.items():
            check_json_value(str(name), value)
        try:
            signature.bind(None, **parameters)
        except TypeError as exc:
            raise InvalidInput(f"invalid parameters for {self.name}: {exc}") from None
        hints = typing.get_type_hints(shape)
        for name, value in parameters.items():
            if not _fits(value, hints.get(name, Any)):
                raise InvalidInput(f"invalid parameter {name}={value!r} for {self.name}")
        if self.validate is not None:
            self.validate(parameters)
        return dict(parameters)


def _fits(value: Any, hint: Any) -> bool:
    """A shallow check of JSON parameters against simple annotations (int, str, X | None...)."""
    if hint is Any:
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type) and hint in (str, bool):
        return isinstance(value, hint)
    return True  # richer annotations are the job's own business


class JobRegistry:
    """Job kinds by lowercase name (job types are accepted case-insensitively).

    `loader`, if given, registers the kinds on first use (a lookup or a listing), so a
    process that never runs or creates a job (`gamekeeper jobs list`) never imports
    what the kinds need (the sites' clients, python-chess...).
    """

    def __init__(self, loader: Callable[[JobRegistry], None] | None = None) -> None:
        self._kinds: dict[str, JobKind] = {}
        self._loader = loader

    def _load(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            loader(self)

    def register(
        self,
        name: str | None = None,
        *,
        family: str | None = None,
        validate: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> Callable[[JobFunction], JobFunction]:
        """Decorator: `@registry.register("sync_games", family="sync")`."""

        def decorate(fn: JobFunction) -> JobFunction:
            self.add(fn, name=name, family=family, validate=validate)
            return fn

        return decorate

    def add(
        self,
        fn: JobFunction,
        *,
        name: str | None = None,
        family: str | None = None,
        validate: Callable[[Mapping[str, Any]], None] | None = None,
        signature_of: JobFunction | None = None,
    ) -> JobKind:
        kind_name = (name or fn.__name__).lower()
        kind = JobKind(
            name=kind_name,
            fn=fn,
            family=family or kind_name,
            needs_account="account_id" in inspect.signature(signature_of or fn).parameters,
            validate=validate,
            signature_of=signature_of,
        )
        self._kinds[kind_name] = kind
        return kind

    def get(self, name: str) -> JobKind:
        self._load()
        try:
            return self._kinds[name.strip().lower()]
        except KeyError:
            known = ", ".join(sorted(self._kinds)) or "none"
            raise InvalidInput(f"unknown job type {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._kinds)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name.strip().lower() in self._kinds
