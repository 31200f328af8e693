"""Alerting: an alert's whole life. Owns the `alerts`, `alert_mentions`, `alert_events`, `feedback` and `labels`
tables (`labels`: what the team said a mention is, from clicks, acks, `monitor label` and CSV; see `labels`).

Grouping opens an alert or joins a story to one; spikes open storm alerts; the lifecycle state machine
(open → acknowledged → resolved, snooze, reopen, not negative) is the one place that changes a state; timers
escalate, repeat, remind and time out; quiet hours hold; the digest summarises; replay shows what rules
would have done. `view` is the one renderer of an alert's Slack message, and `interactive` turns Slack
button clicks into transitions; `labels` keeps the team's verdicts and runs `monitor train`. Messages leave
through `monitor.notify.queue`.
"""

from __future__ import annotations

from monitor.alerting.lifecycle import get_alert, list_alerts, transition
from monitor.alerting.tick import tick

__all__ = ["get_alert", "list_alerts", "tick", "transition"]
