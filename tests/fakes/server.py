"""A tiny threaded HTTP server on 127.0.0.1 that the fakes build on (stdlib only, real sockets)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    peer_port: int = 0              # the client's port: two requests with the same one came on one connection


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0              # before the status line: a server that does not answer
    chunks: Iterable[bytes] | None = None   # streamed with `chunk_delay` between chunks (a generator may block: a live stream)
    chunk_delay: float = 0.0
    head_trickle: float = 0.0       # the status line, then a header byte this often for `delay` s, then hang up


Handler = Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-reply (a capped or timed-out fetch) is normal here, not an error to print.

    Regression: socketserver printed "Exception occurred during processing of request" to the test process's
    stderr, which a test capturing the CLI's one-line error then saw as extra lines (flaky).
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | OSError):
            return
        super().handle_error(request, client_address)


class LocalServer:
    """Start with `with LocalServer(handler) as srv:`; `srv.url` is http://127.0.0.1:PORT."""

    def __init__(self, handler: Handler, port: int = 0, host: str = "127.0.0.1"):
        self.handler = handler
        self.host = host
        self.requests: list[Request] = []
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port or self.port}"

    def start(self) -> LocalServer:
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    # the client died mid-body (kill -9 during a send): a real server never serves half a request
                    self.close_connection = True
                    return
                path, _, query = self.path.partition("?")
                req = Request(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body,
                              self.client_address[1])
                outer.requests.append(req)
                reply = outer.handler(req)
                if reply.head_trickle:          # never done with its headers: each read gets a byte in time
                    self.close_connection = True
                    until = time.monotonic() + reply.delay
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Pad: ")
                        while time.monotonic() < until and not outer._stop.wait(reply.head_trickle):
                            self.wfile.write(b"x")
                    except OSError:
                        pass
                    return
                if reply.delay and outer._stop.wait(reply.delay):
                    return
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if reply.chunks is not None and "Content-Length" in reply.headers:
                    self.end_headers()          # a declared length, the bytes dribbled out without chunk framing
                    try:
                        for chunk in reply.chunks:
                            if outer._stop.is_set():
                                return
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            if reply.chunk_delay:
                                outer._stop.wait(reply.chunk_delay)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if reply.chunks is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for chunk in reply.chunks:
                            if outer._stop.is_set():
                                return
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                            self.wfile.flush()
                            if reply.chunk_delay:
                                outer._stop.wait(reply.chunk_delay)
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._stop.clear()
        self._server = _QuietServer((self.host, self._port), _H)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: clients now get 'connection refused' on this port."""
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
