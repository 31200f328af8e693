"""The two ways Slack's clicks reach `buttons.Actions`: Socket Mode (the daemon opens the WebSocket, no public
URL) and the Request URL endpoint (signed requests only, answered at once, handled on a worker).

Apart from the handler because they are all sockets, threads and deadlines: each connect runs under the
netguard watchdog and a bad request is refused before it is parsed. Both log as `monitor.alerting.interactive`,
the name they had before the split.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from monitor.alerting.buttons import Actions
from monitor.core import netguard
from monitor.core.clock import Clock

log = logging.getLogger("monitor.alerting.interactive")     # its name before the split: ops filter on it

MAX_BODY = 1_000_000

#: A Socket Mode connection (asking Slack for the WebSocket URL, then the handshake) gets this long in all, under
#: the process-wide deadline and address policy (monitor.core.netguard), like every other socket the product opens.
SOCKET_MODE_CONNECT_DEADLINE = 30.0


class SocketModeRunner:
    """Socket Mode with slack_sdk's built-in client: acknowledge each envelope first, then act on it.

    Every connect, the first and slack_sdk's own reconnects from its monitor thread, runs inside a netguard
    deadline: a server that accepts and then trickles the handshake cannot hold the connection thread for ever
    (slack_sdk bounds each read, not the whole). The WebSocket URL Slack hands out is trusted as the API that
    gave it; once connected, the guard is left and the long-lived socket stays open."""

    def __init__(self, app_token: str, api_url: str, actions: Actions, ping_interval: float = 10.0,
                 connect_deadline: float = SOCKET_MODE_CONNECT_DEADLINE):
        from slack_sdk.socket_mode import SocketModeClient
        from slack_sdk.socket_mode.request import SocketModeRequest
        from slack_sdk.socket_mode.response import SocketModeResponse

        self._Response = SocketModeResponse
        self._Request = SocketModeRequest
        self.actions = actions
        self.client = SocketModeClient(app_token=app_token, web_client=WebClient(base_url=api_url, token=None),
                                       ping_interval=ping_interval, logger=logging.getLogger("slack_sdk.socket_mode"))
        self.client.socket_mode_request_listeners.append(self._on_request)
        self._guard_connects(api_url, connect_deadline)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _guard_connects(self, api_url: str, deadline: float) -> None:
        """slack_sdk calls `self.connect()` and `self.issue_new_wss_url()` on its client, from our thread and from
        its own; instance attributes stand in for both, so each runs inside a guard."""
        client = self.client
        connect, issue = client.connect, client.issue_new_wss_url

        def issue_guarded() -> str:
            guard = netguard.current()
            if guard is None:                       # slack_sdk's reconnect asks for a URL outside connect()
                with netguard.WATCHDOG.guard(deadline, trusted=[api_url]) as fresh:
                    url = issue()
                    if fresh.fired:
                        raise ConnectionError(f"no answer from Slack within {deadline:g}s")
                    return url
            url = issue()
            guard.trust(url)
            return url

        def connect_guarded() -> None:
            with netguard.WATCHDOG.guard(deadline, trusted=[api_url]) as guard:
                guard.trust(client.wss_uri or "")
                connect()          # slack_sdk logs a failed handshake and returns; its monitor thread retries
            if guard.fired:
                log.warning("Slack Socket Mode handshake not complete within %gs: cut; slack_sdk retries",
                            deadline, extra={"error": f"no complete handshake within {deadline:g}s"})

        client.issue_new_wss_url = issue_guarded      # type: ignore[method-assign]
        client.connect = connect_guarded             # type: ignore[method-assign]

    def _on_request(self, client: Any, req: Any) -> None:
        if req.type == "interactive" and isinstance(req.payload, dict) and req.payload.get("type") == "view_submission":
            body = None
            try:
                body = self.actions.handle_view(req.payload)     # its answer (errors, close) rides on the ack
            except Exception:  # noqa: BLE001 - one bad submission must not take the connection down
                log.exception("slack modal submission crashed")
            client.send_socket_mode_response(self._Response(envelope_id=req.envelope_id, payload=body))
            return
        client.send_socket_mode_response(self._Response(envelope_id=req.envelope_id))   # within 3 s, always
        if req.type == "interactive" and isinstance(req.payload, dict):
            try:
                self.actions.handle_payload(req.payload)
            except Exception:  # noqa: BLE001 - one bad click must not take the connection down
                log.exception("slack action crashed")

    def start(self) -> SocketModeRunner:
        self._thread = threading.Thread(target=self._connect, name="socket-mode", daemon=True)
        self._thread.start()
        return self

    def _connect(self) -> None:
        """Connect, retrying while Slack is unreachable; a refused app token is said once, loudly."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                self.client.connect()
                if self.client.is_connected():
                    log.info("Slack Socket Mode connected: buttons are live")
                else:     # slack_sdk said why; its monitor thread reconnects from here on
                    log.warning("Slack Socket Mode not connected: buttons wait until it is (retried every %gs)",
                                self.client.ping_interval)
                return
            except SlackApiError as exc:
                error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                if error in ("invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked"):
                    log.critical("Slack refused the app-level token (%s): buttons will not work; set a valid "
                                 "xapp- token with connections:write", error)
                    return
                log.warning("Socket Mode connection failed, retrying", extra={"error": str(error), "retry_in": delay})
            except Exception as exc:  # noqa: BLE001 - network errors: retry
                log.warning("Socket Mode connection failed, retrying",
                            extra={"error": f"{type(exc).__name__}: {exc}"[:200], "retry_in": delay})
            self._stop.wait(delay)
            delay = min(delay * 2, 120.0)

    def stop(self) -> None:
        self._stop.set()
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing a half-open socket may fail; we are leaving anyway
            pass


class HttpEndpoint:
    """The Request URL mode: signed requests only, answered 200 at once, handled on a worker."""

    def __init__(self, listen: str, path: str, signing_secret: str, actions: Actions, clock: Clock):
        host, _, port = listen.rpartition(":")
        self.path = path
        self.actions = actions
        self.verifier = SignatureVerifier(signing_secret, clock=clock)   # type: ignore[arg-type]
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-action")
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._reply(405 if self.path.split("?")[0] == outer.path else 404, b"")

            def do_POST(self) -> None:
                status, body, work = outer.handle(self.path.split("?")[0], dict(self.headers.items()),
                                                  self.rfile, int(self.headers.get("Content-Length") or 0))
                self._reply(status, body)
                if work is not None:
                    outer.pool.submit(work)

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                json_body = body.startswith(b"{")
                self.send_header("Content-Type", "application/json" if json_body else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, int(port)), _H)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def handle(self, path: str, headers: dict[str, str], stream: Any,
               length: int) -> tuple[int, bytes, Callable[[], None] | None]:
        if path != self.path:
            return 404, b"not found", None
        if length <= 0 or length > MAX_BODY:
            return 413 if length > MAX_BODY else 400, b"bad request", None
        body = stream.read(length)
        try:
            valid = self.verifier.is_valid_request(body, headers)
        except (ValueError, TypeError):
            valid = False               # a non-numeric timestamp: forged
        if not valid:
            log.warning("refused a Slack request with a bad or stale signature",
                        extra={"remote_timestamp": headers.get("X-Slack-Request-Timestamp", "")[:20]})
            return 401, b"invalid signature", None
        form = parse_qs(body.decode("utf-8", "replace"))
        if "ssl_check" in form:
            return 200, b"", None
        try:
            payload = json.loads((form.get("payload") or ["{}"])[0])
        except ValueError:
            return 400, b"bad payload", None
        if not isinstance(payload, dict):
            return 400, b"bad payload", None
        if payload.get("type") == "view_submission":         # answered in the response itself
            try:
                answer = self.actions.handle_view(payload)
            except Exception:  # noqa: BLE001 - one bad submission must not take the endpoint down
                log.exception("slack modal submission crashed")
                answer = None
            return 200, json.dumps(answer).encode() if answer else b"", None
        return 200, b"", lambda: self._work(payload)

    def _work(self, payload: dict[str, Any]) -> None:
        try:
            self.actions.handle_payload(payload)
        except Exception:  # noqa: BLE001 - one bad click must not take the endpoint down
            log.exception("slack action crashed")

    def start(self) -> HttpEndpoint:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="slack-http", daemon=True)
        self._thread.start()
        log.info("Slack interactivity endpoint listening", extra={"url": self.url})
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.pool.shutdown(wait=True)
