"""Alerting: an alert's whole life. Owns the `alerts`, `alert_mentions`, `alert_events` and `feedback` tables.

Grouping opens an alert or joins a story to one; spikes open storm alerts; the lifecycle state machine
(open → acknowledged → resolved, snooze, reopen, not negative) is the one place that changes a state; timers
escalate, repeat, remind and time out; quiet hours hold; the digest summarises; replay shows what rules
would have done. `view` is the one renderer of an alert's Slack message, and `interactive` turns Slack
button clicks into transitions. Messages leave through `monitor.notify.queue`.
"""

from __future__ import annotations

from monitor.alerting.lifecycle import get_alert, list_alerts, transition
from monitor.alerting.tick import tick

__all__ = ["get_alert", "list_alerts", "tick", "transition"]
