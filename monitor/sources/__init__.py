"""Sources: where mentions come from. Owns the `sources` and `stream_status` tables (source health).

One registry for every kind, polled (`Collector`) and streamed (`StreamSource`); one module per kind under
`kinds/`, found by `kind:` and imported here so the registry is complete wherever it is used; the hardened
HTTP fetch and per-host politeness every kind shares; and the health bookkeeping (consecutive failures,
back-off, disable on 401/403, the ops notice) that polled and streamed sources record the same way.
Sources know nothing of brands' routes, alerts or Slack.
"""

from __future__ import annotations

import importlib
import pkgutil

from monitor.sources import kinds as _kinds
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, web_url
from monitor.sources.registry import REGISTRY, register, registered, summary
from monitor.sources.stream import StreamOptions, StreamSource, is_stream

for _mod in pkgutil.iter_modules(_kinds.__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{_kinds.__name__}.{_mod.name}")


def is_polled(kind: str) -> bool:
    """True for a polled collector kind, False for a stream kind (KeyError for an unknown one)."""
    return issubclass(REGISTRY[kind], Collector)


__all__ = ["REGISTRY", "CollectResult", "Collector", "SourceOptions", "SourceState", "StreamOptions",
           "StreamSource", "check_url", "is_polled", "is_stream", "register", "registered", "summary", "web_url"]
