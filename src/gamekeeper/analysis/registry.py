"""The plugins there are: the built-ins and those of the `gamekeeper.analysis` entry points.

A third-party package declares, in its `pyproject.toml`:

```toml
[project.entry-points."gamekeeper.analysis"]
my_plugin = "my_package.module:MyPlugin"
```

The object may be a plugin instance, or a class or factory called without arguments.
A plugin that fails to load or does not look like one is logged and left out.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points
from typing import Final

from gamekeeper.analysis.base import AnalysisPlugin
from gamekeeper.analysis.plugins import builtin_plugins

__all__ = ["ENTRY_POINT_GROUP", "available_plugins", "load_entry_point"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP: Final = "gamekeeper.analysis"


def available_plugins() -> dict[str, AnalysisPlugin]:
    """Plugin name -> plugin; a built-in keeps its name against a third-party one."""
    plugins = {plugin.name: plugin for plugin in builtin_plugins()}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        plugin = load_entry_point(entry_point)
        if plugin is None:
            continue
        if plugin.name in plugins:
            log.warning(
                "analysis plugin %r from %s left out: the name is taken",
                plugin.name,
                entry_point.value,
            )
            continue
        plugins[plugin.name] = plugin
    return plugins


def load_entry_point(entry_point: EntryPoint) -> AnalysisPlugin | None:
    """The plugin an entry point names, or None (logged) if it is broken."""
    try:
        loaded = entry_point.load()
        # A class has the attributes too: instantiate it; call another factory as well.
        is_factory = isinstance(loaded, type) or not _looks_like_plugin(loaded)
        plugin = loaded() if is_factory and callable(loaded) else loaded
    except Exception:
        log.exception("analysis plugin %r (%s) failed to load", entry_point.name, entry_point.value)
        return None
    if not _looks_like_plugin(plugin):
        log.error(
            "analysis plugin %r (%s) is not a plugin: it needs name, version, "
            "needs_evals and analyse()",
            entry_point.name,
            entry_point.value,
        )
        return None
    return plugin  # type: ignore[no-any-return]


def _looks_like_plugin(value: object) -> bool:
    name, version = getattr(value, "name", None), getattr(value, "version", None)
    return (
        isinstance(name, str)
        and bool(name)
        and len(name) <= 64
        and isinstance(version, str)
        and bool(version)
        and len(version) <= 32
        and isinstance(getattr(value, "needs_evals", None), bool)
        and callable(getattr(value, "analyse", None))
    )
