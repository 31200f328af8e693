"""What every collector shares: its options model, its result, and the registry that finds it by `kind`."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from pydantic import field_validator

from monitor.core.clock import Clock
from monitor.core.durations import Duration
from monitor.core.errors import RateLimited
from monitor.core.model import Mention
from monitor.core.validation import Strict
from monitor.sources.fetch import HttpConfig, Response, fetch
from monitor.sources.registry import REGISTRY, register, registered  # noqa: F401 - re-exported

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
    # A poll cut by a 429 after part of its answer was read (an X poll's page 3): `mentions` and `cursor` are
    # that part (the cursor keeps the rest for the next poll), stored as any result; the poller then backs the
    # source off until `rate_limited.retry_at`, as for a 429 that read nothing. None: not rate limited.
    rate_limited: RateLimited | None = None


class Collector:
    """Base class; subclasses set `kind`, `Options`, a one-line docstring, and implement `collect`."""

    kind: ClassVar[str]
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    # the kind-specific keys of a minimal working source: the docs test validates it against `monitor check`
    # and the shipped JSON Schema, so every registered kind is proven to be accepted by both
    example: ClassVar[dict[str, Any]]

    def __init__(self, options: SourceOptions, client: httpx.Client, clock: Clock, http: HttpConfig):
        self.options = options
        self.client = client
        self.clock = clock
        self.http_config = http

    def collect(self, state: SourceState) -> CollectResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def get(self, url: str, state: SourceState | None = None, **kwargs: Any) -> Response:
        """`fetch` with this collector's client, limits and clock (and its validators when `state` is given)."""
        if state is not None:
            kwargs.setdefault("etag", state.etag)
            kwargs.setdefault("last_modified", state.last_modified)
        return fetch(self.client, url, self.http_config, now=self.clock.now(), **kwargs)

    def secret_envs(self) -> list[str]:
        """Environment variables holding this source's credentials (their values are never logged)."""
        return self.credential_envs(self.options)

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        """Every variable this source may read a credential from (for the fingerprint and `monitor check`)."""
        return []

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        """What `monitor check` warns about when the credentials this source needs are not set (naming the
        variables), or None when nothing is missing."""
        return None

    def fingerprint(self) -> str:
        """Hash of the options and credential values: a source disabled by 401/403 is retried once it changes."""
        basis = json.dumps(self.options.model_dump(mode="json"), sort_keys=True) + "".join(
            f"\n{name}={os.environ.get(name, '')}" for name in self.secret_envs())
        return hashlib.sha256(basis.encode()).hexdigest()[:24]

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        """Options for `monitor preview KIND TARGET`: most kinds take a URL, query kinds override this."""
        return {"url": target}

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""





def check_url(value: str, key: str = "url") -> str:
    """Config URLs must be http(s): anything else (file:, ftp:, a bare path) is a config error."""
    if not value.startswith(("http://", "https://")):
        raise ValueError(f'{key} "{value}" must start with http:// or https://')
    return value


def endpoint_synonym(data: Any, older: str, *, as_list: bool = False) -> Any:
    """`api_url` is the one key for a kind's remote endpoint; kinds that first named it otherwise (`url`,
    `instance`, `instances`) keep that key working. Given alone, `api_url` moves to the older key, which the
    kind's code reads (as a one-item list when `as_list`). Given with it, both stay, so the kind's validator
    on `api_url` (see `refuse_both`) reports the clash at the api_url line. A `mode="before"` validator."""
    if isinstance(data, dict) and data.get("api_url") is not None and older not in data:
        value = data["api_url"]
        data = {k: v for k, v in data.items() if k != "api_url"}
        data[older] = [value] if as_list else value
    return data


def refuse_both(value: Any, older: str) -> Any:
    """The `api_url` field validator of a kind with an older endpoint key: after `endpoint_synonym`, a value
    here means both keys were written."""
    if value is not None:
        raise ValueError(f"give api_url or {older}, not both: they name the same endpoint "
                         f"(api_url is the preferred name)")
    return value


def web_url(value: Any) -> str | None:
    """A link from collected data, kept only when it is http(s) (never javascript:, data:, file:)."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None
