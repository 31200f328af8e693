"""What each `monitor` subcommand does; the CLI module maps exceptions to exit codes around these.

The parser finds every `cmd_<name>` here (`parser._commands`), so this module is the one list of handlers;
each lives with its family: `service` (run, check, status, retry-mentions, migrate), `scoring` (explain,
score, preview), `data` (label, train, replay, ui, report, demo), `alerts` (alerts, ack, resolve, reopen,
snooze, not-negative, feedback) and `replies` (reply, approve).
"""

from __future__ import annotations

# The scorer (its lexicons and learned model) and the daemon's stack (Slack, streams, responders) are imported by
# the commands that use them: `monitor status`, `alerts`, `ack`... are new processes too, and paid ≈0.3 s for them.
from monitor.cli.alerts import (
    cmd_ack,
    cmd_alerts,
    cmd_feedback,
    cmd_not_negative,
    cmd_reopen,
    cmd_resolve,
    cmd_snooze,
)
from monitor.cli.data import cmd_demo, cmd_label, cmd_replay, cmd_report, cmd_train, cmd_ui
from monitor.cli.replies import cmd_approve, cmd_reply
from monitor.cli.scoring import cmd_explain, cmd_preview, cmd_score
from monitor.cli.service import cmd_check, cmd_migrate, cmd_retry_mentions, cmd_run, cmd_status

__all__ = [
    "cmd_ack", "cmd_alerts", "cmd_approve", "cmd_check", "cmd_demo", "cmd_explain", "cmd_feedback", "cmd_label",
    "cmd_migrate", "cmd_not_negative", "cmd_preview", "cmd_reopen", "cmd_reply", "cmd_replay", "cmd_report",
    "cmd_resolve", "cmd_retry_mentions", "cmd_run", "cmd_score", "cmd_snooze", "cmd_status", "cmd_train", "cmd_ui",
]
