"""Replays responses recorded from the real services (tests/data/recorded/, origins in SOURCES.md).

A recording is `{"status", "headers", "body"}` (JSON body as an object, other bodies as a string), or a file
holding several of them under named keys. `Replay` serves them from a local server by method and path; the
collector under test talks to it through its `api_url`, exactly as it would to the real host.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .server import LocalServer, Reply, Request

RECORDED = Path(__file__).resolve().parent.parent / "data" / "recorded"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / name).read_text(encoding="utf-8")))


def text(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def reply(rec: dict[str, Any], swap: Callable[[str], str] | None = None) -> Reply:
    """A Reply for one recording; `swap` rewrites the body text (e.g. the real host into the local one)."""
    body = rec["body"]
    raw = body if isinstance(body, str) else json.dumps(body)
    if swap:
        raw = swap(raw)
    headers = {k: v for k, v in rec.get("headers", {}).items() if k.lower() not in ("content-length",
                                                                                      "content-encoding")}
    headers.setdefault("content-type", "application/json; charset=utf-8")
    return Reply(int(rec.get("status", 200)), raw.encode("utf-8"), headers)


class Replay(LocalServer):
    """Serve `routes[(METHOD, path)]`: a Reply, or a list of Replies served in turn (the last one repeats)."""

    def __init__(self, routes: dict[tuple[str, str], Reply | list[Reply]] | None = None):
        super().__init__(self._dispatch)
        self.routes: dict[tuple[str, str], Reply | list[Reply]] = dict(routes or {})

    def _dispatch(self, req: Request) -> Reply:
        found = self.routes.get((req.method, req.path))
        if found is None:
            return Reply(404, b'{"error": "not recorded"}', {"content-type": "application/json"})
        if isinstance(found, list):
            return found.pop(0) if len(found) > 1 else found[0]
        return found
