"""The one registry of source kinds, polled and streamed alike, found by their `kind:` name.

urlwatch's jobs, in spirit: a new kind is one module under `monitor/sources/kinds/` that subclasses
`Collector` (polled) or `StreamSource` (pushed) and decorates itself with `@register`. Config validation,
the JSON Schema, `monitor --help`, `monitor check` and the README test all loop over this one dict, so a
kind cannot be known to one of them and missing from another.
"""

from __future__ import annotations

from typing import Any, TypeVar

REGISTRY: dict[str, Any] = {}       # kind -> Collector or StreamSource subclass
K = TypeVar("K", bound=type)


def register(cls: K) -> K:
    kind = cls.kind  # type: ignore[attr-defined]
    if kind in REGISTRY and REGISTRY[kind] is not cls:
        raise RuntimeError(f"two source kinds registered as {kind!r}")
    REGISTRY[kind] = cls
    return cls


def registered() -> dict[str, Any]:
    """Every kind, sorted by name."""
    return dict(sorted(REGISTRY.items()))


def summary(kind: str) -> str:
    """The first line of the kind's docstring: what `monitor --help` and the schema show."""
    return str(REGISTRY[kind].summary())
