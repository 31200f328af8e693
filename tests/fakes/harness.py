"""Run one collector the way the poller does (real client, real limits), for collector tests and the bench."""

from __future__ import annotations

from typing import Any

from monitor.core.clock import Clock, SystemClock
from monitor.sources import REGISTRY, CollectResult, SourceState
from monitor.sources.fetch import HttpConfig, make_client


def collect(kind: str, options: dict[str, Any], state: SourceState | None = None, clock: Clock | None = None,
            **http: Any) -> CollectResult:
    http.setdefault("allow_private", True)
    http.setdefault("per_host_interval", 0)
    cfg = HttpConfig(**http)
    cls = REGISTRY[kind]
    opts = cls.Options.model_validate({"id": f"test-{kind}", "kind": kind, **options})
    with make_client(cfg) as client:
        return cls(opts, client, clock or SystemClock(), cfg).collect(state or SourceState())
