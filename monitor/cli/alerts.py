"""The alert commands: `alerts` (list, or one alert's history), the lifecycle actions (`ack`, `resolve`,
`reopen`, `snooze`, `not-negative`, the same as the Slack buttons) and `feedback`.

They need the database, not the config: with `--db` they run where no config file is (a cron job, a laptop
with a copy of the database). What they show is what is true now: quiet-hours holds with their release time,
owners by name or channel, an acknowledgement only while the alert is acknowledged.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, NoReturn

from monitor.alerting.lifecycle import alert_events, get_alert, list_alerts, list_feedback, transition
from monitor.alerting.quiet import hold_note
from monitor.cli.output import EXIT_OK, print_json
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import load_config
from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.core.errors import ConfigError, StorageError, StorageUnavailable
from monitor.store.database import Store


def _store(args: argparse.Namespace) -> Store:
    """`--db` alone is enough: reading or acting on alerts needs the database, not the config file."""
    if args.db:
        return Store(os.path.expanduser(args.db))
    return Store(load_config(args.config).db_path(args.db))


def _damage_or_raise(store: Store, exc: StorageUnavailable) -> NoReturn:
    """A query that met a malformed page says it is corruption (what `quick_check` found), in one line, as
    `monitor status` does; any other unavailability goes on as it was raised."""
    damaged = store.quick_check() if exc.driver == "DatabaseError" else None
    if damaged:
        raise StorageError(damaged) from None
    raise exc


def owner_names(targets: list[dict[str, Any]]) -> list[str]:
    """An owner by its rules.yaml name, or its channel when the route named a channel inline."""
    return list(dict.fromkeys(t["owner"] if t.get("owner") not in (None, "", "inline") else t.get("slack") or "?"
                              for t in targets))


def _rules_if_any(args: argparse.Namespace) -> Rules | None:
    """Rules for display (quiet-hours holds); `alerts --db X` works without them."""
    try:
        return load_rules(args.rules)
    except (ConfigError, OSError):
        return None


def cmd_alerts(args: argparse.Namespace) -> int:
    store = _store(args)
    rules = _rules_if_any(args)
    now = time.time()
    if args.id is not None:
        row = get_alert(store, args.id)
        events = alert_events(store, args.id)
        held = hold_note(rules, row, now) if rules else None
        replies = store.query("SELECT id, state, platform, author, url, last_error, created_at, posted_at FROM replies"
                              " WHERE alert_id = ? ORDER BY id", (args.id,))
        tickets = store.query("SELECT id, name, kind, state, ticket_key, ticket_url, close_state, last_error FROM"
                              " actions WHERE alert_id = ? ORDER BY id", (args.id,))
        if args.json:
            print_json({**list_alerts_one(store, args.id), "held": held, "events": events, "replies": replies,
                        "actions": tickets})
            return EXIT_OK
        print(f"alert #{row['id']} ({row['kind']}) {row['state']}"
              + (f" ({row['resolution'].replace('_', ' ')})" if row["resolution"] and row["resolution"] != row["state"]
                 else "")
              + f" · route {row['route'] or 'default'} · policy {row['policy'] or '-'} · level {row['level'] + 1}"
              + f" · {row['mention_count']} mention(s)")
        if row["state"] == "acknowledged" and row.get("acked_by"):      # a reopened alert's old ack is history
            print(f"  acknowledged by {row['acked_by']} at {iso(row.get('last_ack_at') or row['acked_at'])}")
        print(f"  {row['title'] or ''}")
        for e in events:
            print(f"  {iso(e['at'])}  {e['kind']:<13} {e['actor'] or '':<16} {e['detail'] or ''}")
        if held:
            print(f"  {held}")
        if row["next_action_at"] and row["state"] != "resolved":
            print(f"  next: {row['next_action']} at {iso(row['next_action_at'])}")
        elif row.get("flush_at") and row["state"] != "resolved":
            print(f"  next: {'first message' if row['notified_at'] is None else 'group update'} at "
                  f"{iso(row['flush_at'])}")
        if row.get("first_response_at"):
            print(f"  first response after {format_duration(row['first_response_at'] - row['created_at'])}"
                  f" by {row['first_response_by']}")
        for r in replies:
            print(f"  reply #{r['id']} {r['state']:<17} {r['platform']:<10} by {r['author']:<16} "
                  + (r["url"] or r["last_error"] or ""))
        for t in tickets:
            print(f"  action {t['name']} ({t['kind']}) {t['state']}"
                  + (f" {t['ticket_key']} {t['ticket_url'] or ''}" if t["ticket_key"] else "")
                  + (f", close {t['close_state']}" if t["close_state"] else "")
                  + (f" — {t['last_error']}" if t["last_error"] else ""))
        return EXIT_OK
    rows = list_alerts(store, only_open=args.open, limit=args.limit)
    if args.json:
        for r in rows:
            print_json({**r, "held": hold_note(rules, r, now) if rules else None})
        return EXIT_OK
    if not rows:
        print("no alerts" if not args.open else "no open alerts")
    for r in rows:
        owners = ",".join(owner_names(r["targets"]))
        tta = f" ack {format_duration(r['time_to_ack'])}" if r["time_to_ack"] is not None and r["state"] != "open" \
            else ""
        ttr = f" resolve {format_duration(r['time_to_resolve'])}" if r["time_to_resolve"] is not None else ""
        ttr += (f" respond {format_duration(r['time_to_first_response'])}"
                if r.get("time_to_first_response") is not None else "")
        held = hold_note(rules, r, now) if rules else None
        print(f"#{r['id']:<5} {r['state']:<12} {iso(r['created_at'])}  {r['brand'] or '-':<12} "
              f"route={r['route'] or 'default'} level={r['level'] + 1} owners={owners} mentions={r['mention_count']}"
              f"{tta}{ttr}  {(r['title'] or '')[:60]}" + (f"  [{held}]" if held else ""))
    return EXIT_OK


def list_alerts_one(store: Store, alert_id: int) -> dict[str, Any]:
    return next(r for r in list_alerts(store, limit=1_000_000) if r["id"] == alert_id)


def login_name() -> str:
    """$USER, else the OS's name for this uid (cron and systemd often run without $USER)."""
    name = os.environ.get("USER")
    if name:
        return name
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return os.environ.get("LOGNAME") or "unknown"


def _actor(args: argparse.Namespace) -> str:
    return args.by or f"cli:{login_name()}"


def _transition(args: argparse.Namespace, action: str, until: float | None = None) -> int:
    store = _store(args)
    before = get_alert(store, args.id) if store.one("SELECT 1 AS x FROM alerts WHERE id = ?", (args.id,)) else None
    row = transition(store, args.id, action, _actor(args), until=until)
    unchanged = before is not None and before["updated_at"] == row["updated_at"] and before["state"] == row["state"]
    what = f"is already {row['state']}" if unchanged else f"is {row['state']}"
    extra = f" until {iso(row['snoozed_until'])}" if row.get("snoozed_until") else ""
    if row.get("resolution") and row["resolution"] != row["state"]:       # never "resolved (resolved)"
        extra += f" ({row['resolution'].replace('_', ' ')})"
    print(f"alert #{row['id']} {what}{extra}")
    return EXIT_OK


def cmd_ack(args: argparse.Namespace) -> int:
    return _transition(args, "ack")


def cmd_resolve(args: argparse.Namespace) -> int:
    return _transition(args, "resolve")


def cmd_reopen(args: argparse.Namespace) -> int:
    return _transition(args, "reopen")


def cmd_snooze(args: argparse.Namespace) -> int:
    return _transition(args, "snooze", time.time() + args.for_)


def cmd_not_negative(args: argparse.Namespace) -> int:
    """The "Not negative" button from a terminal: resolves the alert and keeps its mentions as feedback."""
    return _transition(args, "not_negative")


def cmd_feedback(args: argparse.Namespace) -> int:
    rows = list_feedback(_store(args), limit=args.limit)
    if args.json:
        for r in rows:
            print_json({**r, "at": iso(r["at"])})
        return EXIT_OK
    if not rows:
        print("no feedback yet")
    for r in rows:
        text = " ".join((r["text"] or "").split())[:80]
        print(f"{iso(r['at'])}  {r['verdict']:<13} {r['brand'] or '-':<12} by {r['actor'] or '?':<16} "
              f"alert #{r['alert_id']}  {text}")
    return EXIT_OK
