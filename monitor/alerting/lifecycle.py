"""Alerts: the state machine, and the one place that changes an alert's state.

States: open → acknowledged → resolved; a snooze or an acknowledgement timeout returns one to open, and
`reopen` brings a resolved one back. Every transition is an `alert_events` row with who and when (time to
acknowledge and to resolve are facts in the database), shows in Slack as a thread reply under every root
message plus a re-render of the roots, and recomputes the alert's next timer, all in one transaction.
Alerts are opened and grouped by `monitor.alerting.grouping`; their timers fire from
`monitor.alerting.tick`.
"""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils

from monitor.alerting import record
from monitor.alerting.labels import label_alert
from monitor.alerting.view import alert_row, payload_for, pings, rows, targets_of, when
from monitor.core.durations import format_duration
from monitor.core.errors import AlertError
from monitor.core.model import Target
from monitor.notify.blockkit import escape
from monitor.notify.queue import queue_reply, queue_root_update
from monitor.store.database import Store, loads
from monitor.store.leases import lock_row

STATES = ("open", "acknowledged", "resolved")
ACTIONS = ("ack", "resolve", "snooze", "not_negative", "reopen")
DEFAULT_SNOOZE_S = 3600.0
MIN_REPEAT_GAP_S = 60.0


record_event = record.add_event


def get_alert(store: Store, alert_id: int) -> dict[str, Any]:
    row = store.one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
    if row is None:
        raise AlertError(f"There is no alert #{alert_id}.")
    return row


# -- timers ---------------------------------------------------------------------------------------------

def levels_of(alert: dict[str, Any]) -> list[dict[str, Any]]:
    """The escalation levels snapshotted when the alert opened: [{after, repeat, targets}]."""
    levels = loads(alert.get("policy_levels"), None)
    return levels or [{"after": 0.0, "repeat": 0, "targets": loads(alert["targets"], [])}]


def repeat_gap(levels: list[dict[str, Any]], level: int, repeat_after: float | None) -> float:
    """How far apart a level's `repeat`s are: the time since the level before it (or until the next one)."""
    if level > 0:
        gap = levels[level]["after"] - levels[level - 1]["after"]
    elif len(levels) > 1:
        gap = levels[1]["after"]
    else:
        gap = repeat_after or 0.0
    return max(MIN_REPEAT_GAP_S, gap)


def next_action(alert: dict[str, Any]) -> tuple[float | None, str | None]:
    """The alert's next timer, derived from stored state only (so a restart computes the same one)."""
    if alert["state"] == "resolved" or alert["notified_at"] is None:
        return None, None
    timing = loads(alert.get("timing"), {})
    if alert["snoozed_until"]:
        return float(alert["snoozed_until"]), "unsnooze"
    if alert["state"] == "acknowledged":
        if timing.get("ack_timeout") and alert["last_ack_at"]:
            return alert["last_ack_at"] + timing["ack_timeout"], "ack_timeout"
        return None, None
    levels = levels_of(alert)
    lvl = min(alert["level"], len(levels) - 1)
    candidates: list[tuple[float, str]] = []
    if alert["level_repeats"] < levels[lvl].get("repeat", 0):
        gap = repeat_gap(levels, lvl, timing.get("repeat_after"))
        candidates.append((alert["level_fired_at"] + gap, "repeat_level"))
    if lvl + 1 < len(levels):
        candidates.append((alert["esc_base"] + levels[lvl + 1]["after"], "escalate"))
    if timing.get("repeat_after"):
        candidates.append((alert["last_notified_at"] + timing["repeat_after"], "remind"))
    if not candidates:
        return None, None
    at, action = min(candidates)
    return at, action


def reschedule(db: sqlite_utils.Database, alert_id: int) -> None:
    alert = alert_row(db, alert_id)
    if alert is None:
        return
    at, action = next_action(alert)
    record.update(db, alert_id, next_action_at=at, next_action=action)


def announce(db: sqlite_utils.Database, now: float, alert_id: int, key: str, text: str,
             ping: list[Target] | None = None) -> None:
    """A thread reply under every root, then a re-render of every root: how every change shows in Slack."""
    alert = alert_row(db, alert_id)
    if alert is None or alert["notified_at"] is None:
        return                               # nothing posted yet: the first message will show the state
    body = f"{pings(ping)} {text}" if ping else text
    queue_reply(db, now, alert_id, key, body)
    queue_root_update(db, now, alert_id, key, payload_for(db, alert))


# -- transitions ----------------------------------------------------------------------------------------

def transition(store: Store, alert_id: int, action: str, actor: str, *, until: float | None = None) -> dict[str, Any]:
    """Apply a button or CLI action. The same action twice is a no-op; one the state forbids is an AlertError
    whose message is shown to the person who clicked."""
    if action not in ACTIONS:
        raise AlertError(f"Unknown action {action!r} (expected one of: {', '.join(ACTIONS)}).")
    now = store.now()
    with store.tx() as db:
        lock_row(db, "alerts", alert_id)             # two clicks on two replicas: one transition, then a no-op
        alert = alert_row(db, alert_id)
        if alert is None:
            raise AlertError(f"There is no alert #{alert_id}.")
        changed = _APPLY[action](db, now, alert, actor, until)
        if changed:
            reschedule(db, alert_id)
            label_alert(db, now, alert_id, action, actor)   # what the team did is a label for `monitor train`
    return get_alert(store, alert_id)


def _resolved_message(alert: dict[str, Any], what: str) -> str:
    if alert["resolution"] == "folded":
        return f"Alert #{alert['id']} was folded into alert #{alert['folded_into']}; please act on that one."
    by = f" by {alert['resolved_by']}" if alert["resolved_by"] else ""
    return (f"Alert #{alert['id']} was already resolved{by} at {when(alert['resolved_at'])}, so it cannot be "
            f"{what}. Reopen it first (`monitor reopen {alert['id']}`) if it needs attention again.")


def _ack(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, _until: float | None) -> bool:
    if a["state"] == "resolved":
        raise AlertError(_resolved_message(a, "acknowledged"))
    if a["state"] == "acknowledged" and not a["snoozed_until"]:
        return False
    record.update(db, a["id"], state="acknowledged", acked_at=_keep(a["acked_at"], now), acked_by=actor,
                  last_ack_at=now, snoozed_until=None, updated_at=now)
    ev = record_event(db, a["id"], now, "acknowledged", actor)
    timeout = loads(a["timing"], {}).get("ack_timeout")
    extra = f"; it reopens if not resolved within {_dur(timeout)}" if timeout else ""
    announce(db, now, a["id"], f"ev{ev}", f":eyes: Acknowledged by {_who(actor)}: escalation stopped{extra}.")
    return True


def _resolve(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, _until: float | None) -> bool:
    if a["state"] == "resolved":
        return False
    _close(db, now, a, actor, "resolved")
    ev = record_event(db, a["id"], now, "resolved", actor)
    announce(db, now, a["id"], f"ev{ev}", f":white_check_mark: Resolved by {_who(actor)}.")
    return True


def _close(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, resolution: str) -> None:
    record.update(db, a["id"], state="resolved", resolved_at=_keep(a["resolved_at"], now),
                  resolved_by=_keep(a["resolved_by"], actor), resolution=resolution, snoozed_until=None,
                  flush_at=None, acked_at=_keep(a["acked_at"], now), acked_by=_keep(a["acked_by"], actor),
                  updated_at=now)


def _keep(value: Any, default: Any) -> Any:
    """A first time (acknowledged at, resolved by...) is kept once set."""
    return default if value is None else value


def _snooze(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, until: float | None) -> bool:
    if a["state"] == "resolved":
        raise AlertError(_resolved_message(a, "snoozed"))
    until = now + DEFAULT_SNOOZE_S if until is None else float(until)
    if until <= now:
        raise AlertError("A snooze must end in the future.")
    if a["snoozed_until"] and a["snoozed_until"] > now:
        return False                         # a second click on "Snooze 1h" does not extend it
    record.update(db, a["id"], state="acknowledged", snoozed_until=until, acked_at=_keep(a["acked_at"], now),
                  acked_by=_keep(a["acked_by"], actor), updated_at=now)
    ev = record_event(db, a["id"], now, "snoozed", actor, f"until {when(until)}")
    announce(db, now, a["id"], f"ev{ev}", f":zzz: Snoozed by {_who(actor)} until {when(until)}; "
                                          "it reopens then unless resolved.")
    return True


def _not_negative(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str,
                  _until: float | None) -> bool:
    if a["resolution"] == "not_negative":
        return False
    _close(db, now, a, actor, "not_negative")
    mentions = rows(db, "SELECT m.id, m.text, m.title FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id"
                        " WHERE am.alert_id = ?", (a["id"],))
    for m in mentions:
        text = m["text"] if not m["title"] or m["title"] in m["text"] else f"{m['title']}\n{m['text']}"
        record.add_feedback(db, record.Feedback(m["id"], a["id"], a["brand"], "not_negative", actor, now, text))
    ev = record_event(db, a["id"], now, "not_negative", actor, f"{len(mentions)} mention(s) kept as feedback")
    announce(db, now, a["id"], f"ev{ev}", f":recycle: Marked *not negative* by {_who(actor)}: resolved as a false "
                                          f"positive; {len(mentions)} mention(s) kept as feedback for the scorer.")
    return True


def _reopen(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, _until: float | None) -> bool:
    if a["state"] == "open" and not a["snoozed_until"]:
        return False
    if a["resolution"] == "folded":
        raise AlertError(f"Alert #{a['id']} was folded into alert #{a['folded_into']}; act on that one.")
    reopen(db, now, a, actor, "reopened", f":arrows_counterclockwise: Reopened by {_who(actor)}.")
    return True


def reopen(db: sqlite_utils.Database, now: float, a: dict[str, Any], actor: str, event: str, text: str,
           detail: str | None = None) -> None:
    """Back to open at the level it had reached; the next level is as far away as it was from this one."""
    levels = levels_of(a)
    lvl = min(a["level"], len(levels) - 1)
    record.update(db, a["id"], state="open", resolved_at=None, resolved_by=None, resolution=None,
                  snoozed_until=None, esc_base=now - levels[lvl]["after"], level_fired_at=now, level_repeats=0,
                  last_notified_at=now, flush_at=now if a["notified_at"] is None else a["flush_at"],
                  updated_at=now)
    ev = record_event(db, a["id"], now, event, actor, detail)
    announce(db, now, a["id"], f"ev{ev}", text, [Target(**t) for t in levels[lvl]["targets"]])


_APPLY = {"ack": _ack, "resolve": _resolve, "snooze": _snooze, "not_negative": _not_negative, "reopen": _reopen}


def _who(actor: str) -> str:
    """A Slack user id (as the button handlers pass it) becomes a mention; anything else is escaped text."""
    m = re.fullmatch(r"(?:slack:)?<?@?([UW][A-Z0-9]{2,})>?", actor)
    return f"<@{m.group(1)}>" if m else escape(actor)


def _dur(seconds: float) -> str:
    return format_duration(seconds)


# -- responses ------------------------------------------------------------------------------------------

def record_response(db: sqlite_utils.Database, now: float, alert_id: int, actor: str, what: str,
                    key: str) -> bool:
    """A reply posted (or marked replied) on the platform: the first one is the alert's time to first response.

    Called by the respond stage inside its own transaction, so the reply's `posted` mark, the alert's
    first-response columns, the event and the thread note commit together. Returns whether it was the first.
    `what` is our own text (it may hold a link made with `safe_link`).
    """
    first = record.update(db, alert_id, expect={"first_response_at": None}, first_response_at=now,
                          first_response_by=actor, updated_at=now)
    record_event(db, alert_id, now, "responded", actor, what[:500])
    announce(db, now, alert_id, f"response:{key}", what)
    return first


def note(db: sqlite_utils.Database, now: float, alert_id: int, key: str, text: str) -> None:
    """A thread note and a root re-render (a ticket opened, a reply refused): our own text, already escaped."""
    announce(db, now, alert_id, key, text)


# -- listing --------------------------------------------------------------------------------------------

def list_alerts(store: Store, only_open: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    where = "WHERE state != 'resolved'" if only_open else ""
    found = store.query(f"SELECT * FROM alerts {where} ORDER BY id DESC LIMIT ?", (limit,))
    for r in found:
        r["targets"] = loads(r["targets"], [])
        r["owners"] = list(dict.fromkeys(t["owner"] for t in r["targets"]))
        r["time_to_ack"] = r["acked_at"] - r["created_at"] if r["acked_at"] else None
        r["time_to_resolve"] = r["resolved_at"] - r["created_at"] if r["resolved_at"] else None
        r["time_to_first_response"] = (r["first_response_at"] - r["created_at"] if r.get("first_response_at")
                                       else None)
        for k in ("policy_levels", "timing", "spike_stats"):
            r[k] = loads(r.get(k), None)
    return found


def alert_events(store: Store, alert_id: int) -> list[dict[str, Any]]:
    return store.query("SELECT at, kind, actor, detail FROM alert_events WHERE alert_id = ? ORDER BY id",
                       (alert_id,))


def list_feedback(store: Store, limit: int = 1000) -> list[dict[str, Any]]:
    return store.query("SELECT id, at, verdict, brand, actor, alert_id, mention_id, text FROM feedback"
                       " ORDER BY id DESC LIMIT ?", (limit,))


__all__ = ["ACTIONS", "STATES", "get_alert", "list_alerts", "list_feedback", "next_action", "note", "record_event",
           "record_response",
           "targets_of", "transition"]
