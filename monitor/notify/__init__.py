"""Notify: getting messages to people. Owns the `deliveries` table (the outbox).

Messages are queued as rows first (`queue`), then sent in order per channel by the `Outbox` through a
`Sender`: the real `slack_sdk` Web API client, an incoming webhook, or the terminal. Block Kit rendering and
mrkdwn escaping of untrusted text live in `blockkit`. Notify knows nothing of alert states: it renders what
it is given and records what Slack answered.
"""

from __future__ import annotations

from monitor.notify.blockkit import escape, plain_message
from monitor.notify.outbox import Outbox
from monitor.notify.queue import enqueue, notify_plain, queue_reply, queue_root_update
from monitor.notify.senders import ConsoleSender, Sender, SlackSender

__all__ = ["ConsoleSender", "Outbox", "Sender", "SlackSender", "enqueue", "escape", "notify_plain",
           "plain_message", "queue_reply", "queue_root_update"]
