"""The buttons on an alert: Acknowledge, Resolve, Not negative, Snooze 1h, from Slack back to the store.

Two transports, one handler. **Socket Mode** (`slack.interactive: socket`, the default, with an app-level
token in `$SLACK_APP_TOKEN`): the daemon opens the WebSocket itself, so no public URL is needed.
**HTTP** (`slack.interactive: http`): a Request URL endpoint on `slack.http_listen` + `slack.http_path` for
teams that prefer it; every request must carry a valid `X-Slack-Signature` made with `$SLACK_SIGNING_SECRET`
and a timestamp within 5 minutes, anything else gets 401 and is never parsed.

A click calls `alerts.transition`, queues a `chat.update` of every root message of the alert through the
outbox (so the state is shown to everyone, in order with everything else), and answers the clicking user
privately (an ephemeral message through the click's `response_url`) only when there is something to say:
the alert changed meanwhile, the action is not possible, or something failed.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from monitor.alerting import lifecycle as alerts
from monitor.alerting.view import alert_row, payload_for
from monitor.core import netguard
from monitor.core.clock import Clock
from monitor.core.errors import AlertError, MonitorError
from monitor.notify.blockkit import escape
from monitor.notify.queue import queue_root_update
from monitor.store.database import Store

log = logging.getLogger(__name__)

SNOOZE_S = 3600.0
MAX_BODY = 1_000_000
# action_id on the button -> (transition action, snooze seconds)
ACTIONS: dict[str, tuple[str, float | None]] = {
    "ack": ("ack", None), "resolve": ("resolve", None), "not_negative": ("not_negative", None),
    "snooze_1h": ("snooze", SNOOZE_S), "snooze": ("snooze", SNOOZE_S)}
_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
PAST = {"ack": "acknowledged", "resolve": "resolved", "snooze": "snoozed", "not_negative": "marked not negative"}


ActionHook = Callable[[dict[str, Any], dict[str, Any]], "str | None"]
ViewHook = Callable[[dict[str, Any]], "dict[str, Any] | None"]


@dataclass
class Hooks:
    """Buttons and modals owned by higher stages (the Reply button and its modal: `monitor.respond`).

    Alerting sits below them in the layer order, so it cannot import them: the daemon passes them in.
    `actions`: action_id -> handler(payload, action) returning a private answer or None. `view_submission`:
    handler(payload) returning the HTTP/Socket Mode response body (`response_action: errors`) or None.
    """

    actions: dict[str, ActionHook] = field(default_factory=dict)
    view_submission: ViewHook | None = None


class Actions:
    """Turns one `block_actions` payload into transitions, message updates and a private answer."""

    def __init__(self, store: Store, clock: Clock, api_url: str, on_change: Callable[[], None] | None = None,
                 timeout: float = 10.0, hooks: Hooks | None = None):
        self.store = store
        self.clock = clock
        self.api_origin = _origin(api_url)
        self.on_change = on_change or (lambda: None)
        self.timeout = timeout
        self.hooks = hooks or Hooks()

    def handle_view(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A modal submitted (`view_submission`): handed to the hook that owns the modal."""
        user = str((payload.get("user") or {}).get("id") or "")
        if payload.get("type") != "view_submission" or not _USER.fullmatch(user) or not self.hooks.view_submission:
            return None
        result = self.hooks.view_submission(payload)
        self.on_change()
        return result

    def handle_payload(self, payload: dict[str, Any]) -> list[str | None]:
        """Apply every action of the payload; returns each private answer (None: nothing to say)."""
        if payload.get("type") != "block_actions":
            return []
        user = str((payload.get("user") or {}).get("id") or "")
        if not _USER.fullmatch(user):
            log.warning("ignored a Slack action without a valid user id")
            return []
        answers = []
        for action in payload.get("actions") or []:
            hook = self.hooks.actions.get(str(action.get("action_id") or ""))
            if hook is not None:
                try:
                    answer = hook(payload, action)
                except MonitorError as exc:
                    answer = f"Sorry, that did not work: {escape(str(exc))}"
                self.on_change()
                answers.append(answer)
                if answer:
                    self.respond(payload.get("response_url"), answer)
                continue
            answer = self.apply(str(action.get("action_id") or ""), str(action.get("value") or ""), user)
            answers.append(answer)
            if answer:
                self.respond(payload.get("response_url"), answer)
        return answers

    def apply(self, action_id: str, value: str, user: str) -> str | None:
        if action_id not in ACTIONS:
            return None            # someone else's button (a link button, a future action): not ours
        action, snooze_s = ACTIONS[action_id]
        if not value.isdigit():
            return "Sorry, this button does not point at an alert I know."
        alert_id, actor = int(value), f"slack:{user}"
        # The newest delivery first, then the alert: a click on another replica committing in between then
        # shows in `before` (nothing changed, say so) or its update lies after `last` (not queued twice).
        last = self.store.one("SELECT COALESCE(MAX(id), 0) AS id FROM deliveries") or {"id": 0}
        try:
            before = alerts.get_alert(self.store, alert_id)
        except AlertError:
            return f"Sorry, alert #{alert_id} no longer exists."
        if snooze_s and "until" not in inspect.signature(alerts.transition).parameters:
            return "Sorry, snoozing is not available in this version of mention-monitor."
        try:
            kwargs = {"until": self.clock.now() + snooze_s} if snooze_s else {}
            after = alerts.transition(self.store, alert_id, action, actor, **kwargs)
        except AlertError as exc:
            log.info("slack action refused", extra={"alert_id": alert_id, "action": action, "reason": str(exc)})
            return f"Nothing changed: {escape(str(exc))}. The message shows the alert's current state."
        except MonitorError as exc:
            log.error("slack action failed", extra={"alert_id": alert_id, "action": action, "error": str(exc)})
            return "Sorry, that did not work (the monitor could not record it); please try again."
        log.info("slack action", extra={"alert_id": alert_id, "action": action, "actor": actor,
                                        "state": after.get("state")})
        if _same(before, after):
            if action in ("ack", "resolve"):
                who = before.get("resolved_by") if before["state"] == "resolved" else before.get("acked_by")
                by = f" by {_who(who)}" if who else ""
                return f"Alert #{alert_id} was already {before['state']}{by}; nothing changed."
            if action == "snooze":
                return None     # snoozed again, to the same minute: the message already says so
        if refresh_roots(self.store, alert_id, since_delivery=last["id"]):
            self.on_change()
        return None

    def respond(self, response_url: Any, text: str) -> None:
        """A private answer to the clicking user, only through a genuine response_url."""
        if not isinstance(response_url, str) or not self._trusted(response_url):
            log.warning("no usable response_url; the private answer is only logged", extra={"answer": text})
            return
        try:
            resp = WebhookClient(response_url, timeout=int(self.timeout)).send(
                text=text, response_type="ephemeral", replace_original=False)
            if resp.status_code != 200:
                log.warning("response_url refused the answer", extra={"status": resp.status_code})
        except Exception as exc:  # noqa: BLE001 - a lost courtesy message must not break the click
            log.warning("could not answer the user", extra={"error": f"{type(exc).__name__}: {exc}"[:200]})

    def _trusted(self, url: str) -> bool:
        """Slack's own hooks host, or the configured API's origin (a proxy, the test fake): never elsewhere."""
        parts = urlsplit(url)
        return (parts.scheme == "https" and parts.hostname == "hooks.slack.com") or _origin(url) == self.api_origin


def _origin(url: str) -> tuple[str, str | None, int | None]:
    p = urlsplit(url)
    return p.scheme, p.hostname, p.port


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in ("state", "acked_by", "resolved_by", "snoozed_until", "updated_at"))


def _who(actor: str | None) -> str:
    m = re.fullmatch(r"slack:([UW][A-Z0-9]+)", actor or "")
    return f"<@{m.group(1)}>" if m else escape(actor or "someone")


def refresh_roots(store: Store, alert_id: int, since_delivery: int = 0) -> int:
    """Queue a re-render of every root message of the alert, unless the transition already queued one."""
    already = store.one("SELECT 1 FROM deliveries WHERE alert_id = ? AND kind = 'update' AND id > ? LIMIT 1",
                        (alert_id, since_delivery))
    if already:
        return 1
    now = store.now()
    with store.tx() as db:
        event = db.execute("SELECT COALESCE(MAX(id), 0) FROM alert_events WHERE alert_id = ?", (alert_id,)).fetchone()
        alert = alert_row(db, alert_id)
        if alert is None:
            return 0
        return queue_root_update(db, now, alert_id, f"event:{event[0]}", payload_for(db, alert))


# -- transports ---------------------------------------------------------------------------------------------

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


def start_interactive(slack: Any, store: Store, clock: Clock, env: dict[str, str],
                      on_change: Callable[[], None], hooks: Hooks | None = None
                      ) -> SocketModeRunner | HttpEndpoint | None:
    """What the daemon starts, from `slack:` config and the environment; None (and why, in the log) if nothing."""
    if slack.mode == "webhook" or slack.interactive == "off":
        return None
    if not env.get(slack.token_env):
        return None      # no bot token: alerts print to the terminal, there are no buttons to click
    actions = Actions(store, clock, slack.api_url, on_change, slack.timeout, hooks)
    if slack.interactive == "socket":
        token = env.get(slack.app_token_env)
        if not token:
            log.warning("no $%s: Slack buttons will not work (set an app-level token for Socket Mode, or "
                        "slack.interactive: http / off)", slack.app_token_env)
            return None
        return SocketModeRunner(token, slack.api_url, actions).start()
    secret = env.get(slack.signing_secret_env)
    if not secret:
        log.error("slack.interactive is http but $%s is not set: Slack buttons will not work",
                  slack.signing_secret_env)
        return None
    try:
        return HttpEndpoint(slack.http_listen, slack.http_path, secret, actions, clock).start()
    except OSError as exc:
        log.error("cannot listen on slack.http_listen %s: %s; Slack buttons will not work", slack.http_listen, exc)
        return None
