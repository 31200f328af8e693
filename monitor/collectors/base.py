"""What every collector shares: its options model, its result, and the registry that finds it by `kind`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import field_validator

from ..clock import Clock
from ..durations import Duration
from ..fetch import HttpConfig
from ..model import Mention
from ..validation import Strict

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SourceOptions(Strict):
    """Keys every source accepts; each kind extends this with its own (url, query, ...)."""

    id: str
    kind: str
    every: Duration = 300.0
    enabled: bool = True
    brands: list[str] | None = None          # match only these brands (default: all)
    max_age: Duration = 3 * 86400.0          # older items are stored but never alerted (no flood on first poll)
    failure_alert_after: int = 5             # consecutive failures before a source-health alert

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f'bad source id "{v}" (letters, digits, "_", "-", "." only, at most 64)')
        return v

    @field_validator("every")
    @classmethod
    def _every(cls, v: float) -> float:
        if v < 10:
            raise ValueError(f"poll interval {v:g}s is too short (at least 10s; be polite to the source)")
        return v


@dataclass
class SourceState:
    """What the store remembers about a source between polls."""

    cursor: dict[str, Any] | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class CollectResult:
    mentions: list[Mention] = field(default_factory=list)
    cursor: dict[str, Any] | None = None      # saved only after the mentions are stored
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    warnings: list[str] = field(default_factory=list)   # partial results: what could not be parsed, and why


class Collector:
    """Base class; subclasses set `kind`, `Options`, a one-line docstring, and implement `collect`."""

    kind: ClassVar[str]
    Options: ClassVar[type[SourceOptions]] = SourceOptions

    def __init__(self, options: SourceOptions, client: httpx.Client, clock: Clock, http: HttpConfig):
        self.options = options
        self.client = client
        self.clock = clock
        self.http_config = http

    def collect(self, state: SourceState) -> CollectResult:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        """Options for `monitor preview KIND TARGET`: most kinds take a URL, query kinds override this."""
        return {"url": target}

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


REGISTRY: dict[str, type[Collector]] = {}
C = TypeVar("C", bound=type[Collector])


def register(cls: C) -> C:
    if cls.kind in REGISTRY and REGISTRY[cls.kind] is not cls:
        raise RuntimeError(f"two collectors registered for kind {cls.kind!r}")
    REGISTRY[cls.kind] = cls
    return cls


def registered() -> dict[str, type[Collector]]:
    return dict(sorted(REGISTRY.items()))


