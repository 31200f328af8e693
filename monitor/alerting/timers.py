"""Escalation and every other alert timer, fired from stored state by `run_due`
(called from `monitor.alerting.tick`).

Each alert row holds its next timer (`next_action_at`, `next_action`) and the policy it opened with, so a
restart, a reload or a second process computes the same thing. A timer fires in one transaction that
re-reads the row, checks it is still due, moves the state on and queues its messages (with dedupe keys
naming the level and repeat): whatever crashes or restarts in between, each step fires once.

Timers: `escalate` (level N at `after` since the first message, while nobody acknowledged), `repeat_level`
(a level's `repeat`, spaced by the gap from the previous level), `remind` (`repeat_after` for an open
alert past its last level), `ack_timeout` (acknowledged, not resolved: back to open) and `unsnooze`.
Quiet hours hold every timer of a non-excepted alert until the window ends.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from monitor.alerting import record
from monitor.alerting.lifecycle import announce, levels_of, record_event, reopen, reschedule
from monitor.alerting.quiet import hold_until, release_text
from monitor.alerting.view import alert_row, pings, root_payload, targets_of
from monitor.config.rules import Rules
from monitor.core.durations import format_duration
from monitor.core.model import Target
from monitor.notify.queue import enqueue
from monitor.store.database import Store, dumps, loads
from monitor.store.leases import lock_row

log = logging.getLogger(__name__)


def run_due(store: Store, rules: Rules) -> int:
    now = store.now()
    due = store.query("SELECT id FROM alerts WHERE next_action_at IS NOT NULL AND next_action_at <= ?"
                      " AND state != 'resolved' ORDER BY next_action_at, id", (now,))
    fired = 0
    for row in due:
        with store.tx() as db:
            fired += _fire(db, now, row["id"], rules)
    return fired


def _fire(db: sqlite_utils.Database, now: float, alert_id: int, rules: Rules) -> int:
    lock_row(db, "alerts", alert_id)                 # replicas: the second waits, then sees it fired
    a = alert_row(db, alert_id)
    if a is None or a["next_action_at"] is None or a["next_action_at"] > now or a["state"] == "resolved":
        return 0                                     # someone acted, or another tick fired it
    held = hold_until(rules, a["route"], a["policy"], now)      # the current quiet hours, reloaded or not
    if held is not None:
        record.update(db, alert_id, next_action_at=held)
        record_event(db, alert_id, now, "held", None, f"{a['next_action']}: quiet hours until "
                                                      f"{release_text(rules, held)}")
        log.info("alert timer held by quiet hours", extra={"alert_id": alert_id, "action": a["next_action"],
                                                           "until": release_text(rules, held)})
        return 0
    action = a["next_action"]
    handler = _ACTIONS.get(action or "")
    if handler is None:
        reschedule(db, alert_id)
        return 0
    handler(db, now, a)
    reschedule(db, alert_id)
    return 1


def _escalate(db: sqlite_utils.Database, now: float, a: dict[str, Any]) -> None:
    levels = levels_of(a)
    new = a["level"] + 1
    if new >= len(levels):
        return
    targets = [Target(**t) for t in levels[new]["targets"]]
    record.update(db, a["id"], level=new, level_fired_at=now, level_repeats=0, last_notified_at=now, updated_at=now)
    ev = record_event(db, a["id"], now, "escalated", None,
                      f"level {new + 1}: {', '.join(t.owner for t in targets)}")
    waited = format_duration(levels[new]["after"])
    announce(db, now, a["id"], f"esc{new}", f":rotating_light: Escalated to level {new + 1} — not acknowledged "
                                            f"after {waited}.", targets)
    _post_to_new_owners(db, now, a["id"], targets, f"esc{new}")
    log.warning("alert escalated", extra={"alert_id": a["id"], "level": new + 1, "event_id": ev})


def _post_to_new_owners(db: sqlite_utils.Database, now: float, alert_id: int, targets: list[Target],
                        key: str) -> None:
    """An owner whose channel has no root message of this alert gets one of their own."""
    a = alert_row(db, alert_id)
    if a is None:
        return
    known = targets_of(a)
    posted = {r[0] for r in db.execute("SELECT channel FROM deliveries WHERE alert_id = ? AND kind = 'post'"
                                       " AND parent_id IS NULL", (alert_id,)).fetchall()}
    added = [t for t in targets if t.channel not in posted]
    if not added:
        return
    all_targets = known + [t for t in added if t not in known]
    record.update(db, alert_id, targets=dumps([t.__dict__ for t in all_targets]))
    a = alert_row(db, alert_id) or a
    for t in added:
        enqueue(db, now, f"alert:{alert_id}:post:{t.channel}", "post", t, root_payload(db, a, t), alert_id)


def _repeat_level(db: sqlite_utils.Database, now: float, a: dict[str, Any]) -> None:
    levels = levels_of(a)
    lvl = min(a["level"], len(levels) - 1)
    n = a["level_repeats"] + 1
    targets = [Target(**t) for t in levels[lvl]["targets"]]
    record.update(db, a["id"], level_repeats=n, level_fired_at=now, last_notified_at=now)
    record_event(db, a["id"], now, "repeated", None, f"level {lvl + 1}, repeat {n}/{levels[lvl]['repeat']}")
    announce(db, now, a["id"], f"rep{lvl}.{n}", f":bell: Still not acknowledged (reminder {n} of "
                                               f"{levels[lvl]['repeat']}).", targets)


def _remind(db: sqlite_utils.Database, now: float, a: dict[str, Any]) -> None:
    levels = levels_of(a)
    lvl = min(a["level"], len(levels) - 1)
    targets = [Target(**t) for t in levels[lvl]["targets"]]
    since = format_duration(now - a["created_at"])
    record.update(db, a["id"], last_notified_at=now)
    ev = record_event(db, a["id"], now, "reminded", None, pings(targets))
    announce(db, now, a["id"], f"ev{ev}", f":bell: Still open after {since}; nobody has acknowledged it.", targets)


def _ack_timeout(db: sqlite_utils.Database, now: float, a: dict[str, Any]) -> None:
    timeout = format_duration(loads(a["timing"], {}).get("ack_timeout") or 0)
    reopen(db, now, a, "system", "reopened", f":arrows_counterclockwise: Acknowledged but not resolved within "
                                             f"{timeout}: reopened.", detail="ack_timeout")


def _unsnooze(db: sqlite_utils.Database, now: float, a: dict[str, Any]) -> None:
    reopen(db, now, a, "system", "reopened", ":alarm_clock: Snooze over and not resolved: open again.",
           detail="snooze ended")


_ACTIONS = {"escalate": _escalate, "repeat_level": _repeat_level, "remind": _remind, "ack_timeout": _ack_timeout,
            "unsnooze": _unsnooze}
