"""What a click on an alert's buttons does: Acknowledge, Resolve, Not negative, Snooze 1h, and the hooks
through which higher stages own their own buttons and modals (the Reply button: `monitor.respond`).

Kept apart from the transports (`transports`: Socket Mode, the signed HTTP endpoint) so the one handler is the
same whichever way a click arrives, and can be driven directly by tests and by replicas racing on one alert.
It logs as `monitor.alerting.interactive`, the name it had before the split.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.webhook import WebhookClient

from monitor.alerting import lifecycle as alerts
from monitor.alerting.view import alert_row, payload_for
from monitor.core import logs
from monitor.core.clock import Clock
from monitor.core.errors import AlertError, MonitorError
from monitor.notify.blockkit import escape
from monitor.notify.queue import queue_root_update
from monitor.store.database import Store

log = logging.getLogger("monitor.alerting.interactive")     # its name before the split: ops filter on it

SNOOZE_S = 3600.0
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
                    answer = f"Sorry, that did not work: {escape(logs.scrubbed(str(exc), 500))}"   # as the modal's
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
