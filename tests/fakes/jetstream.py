"""A local Bluesky Jetstream: a real WebSocket server on 127.0.0.1 speaking Jetstream's wire format.

`GET /subscribe?wantedCollections=…&cursor=<time_us>&compress=true`: it replays its events from the cursor
(time_us >= cursor, as Jetstream does) or from the start without one, as fast as the client reads them,
then waits for more (`add_post` while connected is the live tail). Scripted faults: `drop_after[i]` closes
the i-th connection abruptly (no close frame) after that many frames; `add_raw` queues malformed frames;
`reject_status` answers the handshake with an HTTP error; `stall_from = i` holds the handshake of the i-th
connection and later ones until `stop` (a server that accepts the TCP connection and never answers the
upgrade: only the client's connect timeout, or its `interrupt`, ends the wait). Every connection's query is
recorded; `handshakes` counts the upgrades asked for.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.sync.server import Server, ServerConnection, serve

BASE_BACK_S = 600                        # events start this long ago, so they are recent (within max_age)


@dataclass
class Connection:
    query: dict[str, str]
    sent: int = 0


def post_event(did: str, rkey: str, text: str, time_us: int, *, langs: list[str] | None = None) -> dict[str, Any]:
    return {"did": did, "time_us": time_us, "kind": "commit",
            "commit": {"rev": f"rev{time_us}", "operation": "create", "collection": "app.bsky.feed.post",
                       "rkey": rkey, "cid": f"bafy{rkey}",
                       "record": {"$type": "app.bsky.feed.post",
                                  "createdAt": datetime.fromtimestamp(time_us / 1e6, UTC).isoformat().replace("+00:00", "Z"),
                                  "langs": langs or ["en"], "text": text}}}


class FakeJetstream:
    def __init__(self, zstd_dictionary: bytes | None = None):
        self._times: list[int] = []
        self._frames: list[str] = []
        self.connections: list[Connection] = []
        self.drop_after: list[int | None] = []      # per connection, in order; missing or None: never drop
        self.reject_status: int | None = None
        self.stall_from: int | None = None           # handshakes from this index on are held until stop()
        self.handshakes = 0
        self.pace = 0.0                              # seconds between frames (0: as fast as they are read)
        self.zstd_dictionary = zstd_dictionary
        self._cond = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._next_us = int((time.time() - BASE_BACK_S) * 1_000_000)

    # -- scripting ---------------------------------------------------------------------------------------
    def add_post(self, text: str, *, rkey: str | None = None, did: str = "did:plc:fakeuser",
                 time_us: int | None = None) -> int:
        t = self._tick(time_us)
        self._append(t, json.dumps(post_event(did, rkey or f"r{t}", text, t), separators=(",", ":")))
        return t

    def add_event(self, event: dict[str, Any]) -> int:
        t = self._tick(event.get("time_us"))
        self._append(t, json.dumps({**event, "time_us": t}, separators=(",", ":")))
        return t

    def add_raw(self, frame: str) -> None:
        """A frame sent verbatim (malformed JSON, a wrong shape...), positioned after the last event."""
        self._append(self._next_us - 1, frame)

    def add_frames(self, frames: list[tuple[int, str]]) -> None:
        """Bulk load pre-encoded (time_us, frame) pairs, in time order (benchmarks)."""
        with self._cond:
            for t, f in frames:
                self._times.append(t)
                self._frames.append(f)
            self._next_us = max(self._next_us, frames[-1][0] + 1) if frames else self._next_us
            self._cond.notify_all()

    def _tick(self, time_us: int | None) -> int:
        t = int(time_us) if time_us is not None else self._next_us
        self._next_us = t + 1_000            # a millisecond apart
        return t

    def _append(self, t: int, frame: str) -> None:
        with self._cond:
            i = bisect.bisect_right(self._times, t)
            self._times.insert(i, t)
            self._frames.insert(i, frame)
            self._cond.notify_all()

    @property
    def frames_sent(self) -> int:
        return sum(c.sent for c in self.connections)

    # -- serving -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/subscribe"

    def start(self) -> FakeJetstream:
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, process_request=self._check,
                             max_queue=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        if self._server:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> FakeJetstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _check(self, conn: ServerConnection, request: Any) -> Response | None:
        with self._cond:
            index, self.handshakes = self.handshakes, self.handshakes + 1
        if self.stall_from is not None and index >= self.stall_from:
            self._stopped.wait()
            return Response(503, "Stalled", Headers({"Content-Length": "0"}), b"")
        if self.reject_status:
            return Response(self.reject_status, "Rejected", Headers({"Content-Length": "0"}), b"")
        return None

    def _handle(self, conn: ServerConnection) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(conn.request.path if conn.request else "").query).items()}
        rec = Connection(query)
        with self._cond:
            index = len(self.connections)
            self.connections.append(rec)
            cursor = int(query["cursor"]) if query.get("cursor", "").isdigit() else None
            i = bisect.bisect_left(self._times, cursor) if cursor is not None else 0
        drop = self.drop_after[index] if index < len(self.drop_after) else None
        compress = None
        if self.zstd_dictionary and query.get("compress") == "true":
            import zstandard

            compress = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(self.zstd_dictionary)).compress
        try:
            while not self._stopped.is_set():
                with self._cond:
                    while i >= len(self._frames) and not self._stopped.is_set():
                        self._cond.wait(0.1)
                    chunk = self._frames[i:i + 512]
                i += len(chunk)
                for frame in chunk:
                    if drop is not None and rec.sent >= drop:
                        conn.close_socket()            # abrupt: no close frame, as a network cut
                        return
                    conn.send(compress(frame.encode()) if compress else frame)
                    rec.sent += 1
                    if self.pace:
                        time.sleep(self.pace)
        except ConnectionClosed:
            return
