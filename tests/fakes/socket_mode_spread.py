"""Socket Mode with several connections of one app, as Slack runs it for replicas: each envelope goes to ONE.

Slack lets an app hold up to 10 Socket Mode connections at once (one per replica here) and hands each event to
one of them, not to all. This server does the same over the real WebSocket of `SocketModeServer`: envelopes go
round-robin, or to a connection named by its index (in connection order), and it records which connection
each envelope went to and which one acknowledged it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.sync.server import ServerConnection

from .socket_mode import SocketModeServer


class SpreadSocketMode(SocketModeServer):
    def __init__(self) -> None:
        super().__init__()
        self._turn = 0
        self.sent_to: dict[str, int] = {}             # envelope_id -> index of the connection it went to

    def wait_connections(self, n: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connections() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.connections()} Socket Mode connections, wanted {n}")
            time.sleep(0.05)

    def connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def send_interactive(self, payload: dict[str, Any], retry_attempt: int = 0, to: int | None = None) -> str:
        """One envelope to connection `to`, or to the next one in turn."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": "interactive", "accepts_response_payload": False,
                    "payload": payload, "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else ""}
        with self._lock:
            conns: list[ServerConnection] = list(self._conns)
            if not conns:
                raise TimeoutError("no Socket Mode client connected")
            if to is None:
                to, self._turn = self._turn % len(conns), self._turn + 1
            self.sent_to[envelope_id] = to
        conns[to].send(json.dumps(envelope))
        return envelope_id

    def send_at_once(self, payload: dict[str, Any]) -> list[str]:
        """The same click delivered to every connection at the same instant (a double click landing on two
        replicas, or Slack retrying on another connection): one envelope each, released by a barrier."""
        n = self.connections()
        start = threading.Barrier(n)
        ids: list[str] = [""] * n

        def one(i: int) -> None:
            start.wait()
            ids[i] = self.send_interactive(payload, to=i)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        return ids
