"""Hostile servers, one per attack, that answer any request on any path (HTTP, SSE, a WebSocket handshake):
each client the product has meets each of them in tests/test_hostile_transports.py.

Every server is a real socket on 127.0.0.1. `canary` is a second server on 127.0.0.2 (loopback, not global)
standing for an internal service: a redirect into it must never reach it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .bombs import gzip_bomb
from .server import LocalServer, Reply, Request

TRICKLE_S = 0.2            # one byte this often: no per-read timeout ever trips


def _trickle(first: bytes) -> Iterator[bytes]:
    yield first
    for _ in range(100_000):
        yield b" "


def _endless_line() -> Iterator[bytes]:
    yield b"data: "
    block = b"x" * 65536
    for _ in itertools.count():
        yield block


@dataclass
class Hostile:
    name: str
    reply: Callable[[], Reply] | None = None     # a fresh reply per request (streamed bodies are generators)
    location: str | None = None       # a redirect: "{canary}"/"{canary_ws}" become the canary's URL
    slow: bool = False                # the client can only give up at its deadline (seconds per cell)

    def answer(self, canary_url: str) -> Reply:
        if self.location is not None:
            loc = (self.location.replace("{canary_ws}", canary_url.replace("http://", "ws://"))
                   .replace("{canary}", canary_url))
            return Reply(302, b"", {"Location": loc})
        assert self.reply is not None
        return self.reply()


def hostiles() -> list[Hostile]:
    """The table's rows: what a hostile internet does to a client."""
    return [
        Hostile("trickle", lambda: Reply(200, headers={"Content-Type": "application/json"}, chunks=_trickle(b"{"),
                                 chunk_delay=TRICKLE_S), slow=True),
        Hostile("trickle-fixed-length", lambda: Reply(200, headers={"Content-Type": "application/json",
                                                                     "Content-Length": "100000"},
                                                      chunks=_trickle(b"{"), chunk_delay=TRICKLE_S), slow=True),
        Hostile("huge-body", lambda: Reply(200, headers={"Content-Type": "application/json"},
                                   chunks=(b"[" + b"0," * 32767 for _ in range(2000)))),
        Hostile("gzip-bomb", lambda: Reply(200, gzip_bomb(), {"Content-Encoding": "gzip, gzip",
                                                       "Content-Type": "application/json"})),
        Hostile("endless-sse-line", lambda: Reply(200, headers={"Content-Type": "text/event-stream"},
                                          chunks=_endless_line())),
        Hostile("redirect-private", location="{canary}/internal"),
        Hostile("redirect-cgnat", location="http://100.100.100.200/latest/meta-data/"),
        Hostile("redirect-ws", location="{canary_ws}/internal"),
        Hostile("slow-headers", lambda: Reply(200, b"{}", {"Content-Type": "application/json"}, delay=30), slow=True),
    ]


class HostileServer(LocalServer):
    def __init__(self, hostile: Hostile, canary: LocalServer):
        super().__init__(self._serve)
        self.hostile = hostile
        self.canary = canary

    def _serve(self, req: Request) -> Reply:
        return self.hostile.answer(self.canary.url)


class Canary(LocalServer):
    """An 'internal service' on 127.0.0.2: records every request; a hostile redirect must never reach it."""

    def __init__(self) -> None:
        super().__init__(lambda req: Reply(200, b'{"secret": "internal"}', {"Content-Type": "application/json"}),
                         host="127.0.0.2")
