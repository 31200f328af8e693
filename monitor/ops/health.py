"""`monitor status`: is the monitor healthy, and if not, what exactly is wrong.

Read from the database alone, so it works the same beside the systemd daemon and between cron passes.
Unhealthy (exit 1) means something a person must look at: a source failing `failure_alert_after` times in
a row or disabled, a source not polled long after it was due (the daemon or cron is not running), a stream
not connected for over STREAM_DOWN_GRACE_S (lost, never connected, or its daemon gone: `stream_down`), messages
stuck in the outbox for more than 15 minutes, Slack refusing the token, mentions parked because their
analysis or routing kept raising (`routing_health`; `monitor retry-mentions` sends them through again), or the
PostgreSQL search not folding accents (`checks.search_health`; unless `storage.unaccent: optional` makes that a
choice, said but healthy).

Here: what needs monitor.yaml (sources against their schedule, streams against their grace period, Slack mode,
the weekly report) and the report they make. Problems as data are in `problems`, the checks of the store alone in
`checks`, the report without monitor.yaml in `store_report`; their names are importable from here as before.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held, quiet_banner, quiet_until
from monitor.config.rules import Rules
from monitor.config.settings import Config
from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.ops import status_text
from monitor.ops.checks import (
    ROUTE_FAILURES_SQL,
    assemble,
    config_found,
    config_problems,
    open_alerts_by_owner,
    outbox_health,
    replica_health,
    response_health,
    route_failures,
    routing_health,
)
from monitor.ops.problems import PROBLEM_KINDS, SOURCE_KINDS, problem, source_record, with_damage
from monitor.ops.store_report import NEEDS_CONFIG, recorded_sources, store_report
from monitor.sources import is_stream
from monitor.sources.health import stream_report
from monitor.store.database import Store

OVERDUE_GRACE_S = 600.0    # cron every 5 minutes must never look "overdue" for a 1-minute source


STREAM_DOWN_GRACE_S = 600.0    # a stream not connected this long (lost, or never got, its connection) is a problem

# `monitor status` as text (status_text), here too for the CLI and callers of health.render
render, stream_line, RETRY_HINT = status_text.render, status_text.stream_line, status_text.RETRY_HINT


def source_health(config: Config, store: Store, now: float) -> list[dict[str, Any]]:
    rows = {r["id"]: r for r in store.query("SELECT * FROM sources")}
    out = []
    for src in config.sources:
        r = rows.get(src.id, {})
        failures = int(r.get("consecutive_failures") or 0)
        found: list[dict[str, str]] = []
        overdue_s = None
        stream = is_stream(src)
        if not src.enabled or stream:
            next_run = None          # a stream is not polled: its health is its connection, reported below
        elif r.get("last_attempt"):
            next_run = max(r["last_attempt"] + src.every, r.get("next_run") or 0)
            overdue = now - next_run
            if overdue > max(src.every, OVERDUE_GRACE_S) and not r.get("disabled_reason"):
                overdue_s = round(now - r["last_attempt"], 1)
                found.append(problem("source_overdue", f"not polled for {format_duration(now - r['last_attempt'])}"
                                     f" (every {format_duration(src.every)}): is `monitor run` (or its cron job) "
                                     "running?"))
        else:
            next_run = now
        st = stream_report(store, src, now) if stream and src.enabled else None
        down = stream_down(st, r, now) if st is not None else None
        failing = failures >= src.failure_alert_after and not r.get("disabled_reason")
        if r.get("disabled_reason"):
            found.append(problem("source_disabled", f"disabled: {r['disabled_reason']}"))
        elif down:
            found.append(problem("stream_down", down))
        elif failing:
            found.append(problem("source_failing", f"{failures} failed "
                                 f"{'connection attempts' if stream else 'polls'} in a row"))
        out.append(source_record(src.id, src.kind, r, found, failing=failing, enabled=src.enabled,
                                  every=src.every, next_run=iso(next_run), not_polled_for_s=overdue_s))
        if st is not None:
            out[-1]["stream"] = st | {"down_for_s": round(now - st["down_since"], 1) if down else None}
    return out


def stream_down(st: dict[str, Any], row: dict[str, Any], now: float) -> str | None:
    """A stream not connected for over STREAM_DOWN_GRACE_S (it lost its connection, never got one, or the
    daemon holding it stopped writing), in plain words; None while connected or within the grace period."""
    since = st.get("down_since")
    if st["connected"] or since is None or now - since <= STREAM_DOWN_GRACE_S:
        return None
    failures = int(row.get("consecutive_failures") or 0)
    lasted = format_duration(now - since)
    if failures:
        why = f"{failures} connection attempt(s) in a row failed; it keeps retrying"
    elif not st["daemon_seen"]:
        why = "is `monitor run` (or its cron job) running?"
    else:
        why = "reconnecting"
    if not row.get("last_success"):
        return f"stream has never connected (trying for {lasted}, since {iso(since)}): {why}; no mentions collected"
    return f"stream not connected for {lasted} (since {iso(since)}): {why}; no mentions collected meanwhile"


def report(config: Config, store: Store, now: float, open_alerts: list[dict[str, Any]] | None = None
           ) -> dict[str, Any]:
    """What `monitor status` reports: every check, with monitor.yaml. `open_alerts`: as `open_alerts_by_owner`."""
    configured = []
    if config.slack.mode == "terminal":
        configured.append(problem("slack_terminal", "slack.mode is terminal: alerts are printed by the daemon and "
                                  "reach nobody in Slack (set slack.mode: bot and $" + config.slack.token_env
                                  + " to send them)", "slack: "))
    weekly = weekly_report(config, store)
    if weekly and weekly["problem"]:
        configured.append(problem("report_not_posted", weekly["problem"], f"weekly report {weekly['period']}: "))
    rep = assemble(store, now, source_health(config, store, now),
                    outbox_health(store, now, config.slack.stuck_after),
                    routing_health(store, config.daemon.max_route_attempts, now), configured, open_alerts,
                    unaccent=config.storage.unaccent)
    return rep | {"weekly_report": weekly, "complete": True, "skipped": []}


def quiet_health(rules: Rules | None, store: Store, now: float, brand: str | None = None,
                 held: int | None = None, alerts: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Quiet hours and the alerts they hold right now (`quiet.held_until`, as the dashboard's board places
    them), of one brand when `brand` is given: not a problem, but never a surprise (`monitor status` and the
    dashboard's health strip both show this); None when rules.yaml sets no quiet hours. `held`: the count a
    caller already made with `held_until` (the dashboard's board), so the open alerts are not read twice;
    `alerts`: the open alerts (all brands) a caller already read, counted here (None: read here)."""
    if rules is None or rules.quiet_hours is None:
        return None
    if held is None:
        held = count_held(rules, list_alerts(store, only_open=True, limit=100_000) if alerts is None else alerts,
                          now, brand)
    return {"window": quiet_banner(rules, now), "until": iso(quiet_until(rules.quiet_hours, now)), "held": held}


# The latest week's report: with `report.brands` a week has one row per brand, all with the same `until`, so the
# tie is broken by what must be seen (a report not posted after an error) and then by name, never by the order
# the engine happens to read rows in (a posted brand's row hid a failed one's on one engine and not the other).
LATEST_REPORT_SQL = ("SELECT * FROM reports ORDER BY until DESC,"
                     " CASE WHEN posted_at IS NULL AND last_error IS NOT NULL THEN 0 ELSE 1 END, period LIMIT 1")


def weekly_report(config: Config, store: Store) -> dict[str, Any] | None:
    """The latest weekly report (`report:`): where it went, or why it has not been posted yet."""
    if config.report is None:
        return None
    r = store.one(LATEST_REPORT_SQL)
    if r is None:
        return {"period": None, "posted": None, "html": None, "problem": None}
    problem = None
    if config.report.slack_channel and not r["posted_at"] and r["last_error"]:
        problem = (f"not confirmed in Slack: {r['last_error']}" if r.get("in_flight_at") is not None
                   else f"not posted to Slack after {r['attempts']} attempt(s): {r['last_error']}")
    return {"period": r["period"], "posted": iso(r["posted_at"]), "html": r["html_path"], "problem": problem}


# the parts and the store-only report live in `problems`, `checks` and `store_report`; their names stay here too
__all__ = ["NEEDS_CONFIG", "OVERDUE_GRACE_S", "PROBLEM_KINDS", "RETRY_HINT", "ROUTE_FAILURES_SQL", "SOURCE_KINDS",
           "LATEST_REPORT_SQL", "STREAM_DOWN_GRACE_S", "config_found", "config_problems", "open_alerts_by_owner", "outbox_health",
           "problem", "quiet_health", "recorded_sources", "render", "replica_health", "report", "response_health",
           "route_failures", "routing_health", "source_health", "store_report", "stream_down", "stream_line",
           "weekly_report", "with_damage"]
