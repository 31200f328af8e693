"""A local Socket Mode endpoint speaking Slack's envelopes over a real WebSocket (the `websockets` library).

`apps.connections.open` on the fake Web API hands out `ws://127.0.0.1:PORT/link/?ticket=…`; on connect the
server says `hello`, then the test pushes envelopes (`send_interactive(payload)`) and reads the client's
acknowledgements (`wait_ack(envelope_id)`), exactly as the real `wss-primary.slack.com` does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class SocketModeServer:
    def __init__(self) -> None:
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: list[ServerConnection] = []
        self._lock = threading.Lock()
        self.acks: dict[str, dict[str, Any]] = {}      # envelope_id -> the client's ack message
        self.received: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._acked = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id=A000"

    def start(self) -> SocketModeServer:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def _handle(self, conn: ServerConnection) -> None:
        with self._lock:
            self._conns.append(conn)
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                              "connection_info": {"app_id": "A000"}}))
        self.connected.set()
        try:
            for raw in conn:
                msg = json.loads(raw)
                with self._lock:
                    self.received.append(msg)
                    if "envelope_id" in msg:
                        self.acks[msg["envelope_id"]] = msg
                        self._acked.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
                if not self._conns:
                    self.connected.clear()

    def send_interactive(self, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Push an `interactive` envelope (block_actions…) to the connected client; return its envelope_id."""
        return self._send({"type": "interactive", "accepts_response_payload": False, "payload": payload,
                           "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""})

    def send_disconnect(self) -> None:
        self._broadcast({"type": "disconnect", "reason": "refresh_requested",
                         "debug_info": {"host": "applink-fake"}})

    def _send(self, envelope: dict[str, Any]) -> str:
        envelope_id = str(uuid.uuid4())
        self._broadcast({"envelope_id": envelope_id, **envelope})
        return envelope_id

    def _broadcast(self, msg: dict[str, Any]) -> None:
        if not self.connected.wait(10):
            raise TimeoutError("no Socket Mode client connected")
        with self._lock:
            conns = list(self._conns)
        conns[-1].send(json.dumps(msg))

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"envelope {envelope_id} was not acknowledged")
                self._acked.wait(left)
            return self.acks[envelope_id]
