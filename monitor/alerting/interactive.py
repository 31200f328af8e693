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

The handler is in `buttons`, the two transports in `transports`; this module starts what the config asks
for and stays the import path of all three.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from monitor.alerting import lifecycle as alerts  # noqa: F401 - kept: tests patch `interactive.alerts.get_alert`
from monitor.alerting.buttons import (
    ACTIONS,
    PAST,
    SNOOZE_S,
    ActionHook,
    Actions,
    Hooks,
    ViewHook,
    refresh_roots,
)
from monitor.alerting.transports import MAX_BODY, SOCKET_MODE_CONNECT_DEADLINE, HttpEndpoint, SocketModeRunner
from monitor.core.clock import Clock
from monitor.store.database import Store

__all__ = ["ACTIONS", "MAX_BODY", "PAST", "SNOOZE_S", "SOCKET_MODE_CONNECT_DEADLINE", "ActionHook", "Actions", "Hooks",
           "HttpEndpoint", "SocketModeRunner", "ViewHook", "refresh_roots", "start_interactive"]

log = logging.getLogger(__name__)


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
