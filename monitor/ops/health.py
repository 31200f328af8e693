"""`monitor status`: is the monitor healthy, and if not, what exactly is wrong.

Read from the database alone, so it works the same beside the systemd daemon and between cron passes.
Unhealthy (exit 1) means something a person must look at: a source failing `failure_alert_after` times in
a row or disabled, a source not polled long after it was due (the daemon or cron is not running), a stream
not connected for over STREAM_DOWN_GRACE_S (lost, never connected, or its daemon gone: `stream_down`), messages
stuck in the outbox for more than 15 minutes, Slack refusing the token, or mentions parked because their
analysis or routing kept raising (`routing_health`; `monitor retry-mentions` sends them through again).
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held, quiet_banner, quiet_until
from monitor.config.rules import Rules
from monitor.config.settings import Config
from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.core.scrub import shown
from monitor.notify.outbox import STUCK_AFTER_S
from monitor.notify.outbox import health as delivery_health
from monitor.ops import status_text
from monitor.sources import is_stream
from monitor.sources.health import stream_report
from monitor.store.database import Store, loads
from monitor.store.leases import live_replicas

OVERDUE_GRACE_S = 600.0    # cron every 5 minutes must never look "overdue" for a 1-minute source
STREAM_DOWN_GRACE_S = 600.0    # a stream not connected this long (lost, or never got, its connection) is a problem


# Every problem `report()` can raise, by kind: a problem is data ({"kind", "text", "detail"}), so a reader (the
# dashboard's strip) dispatches on the kind, never on the wording; tests/test_health_problems.py covers each.
SOURCE_KINDS = ("source_overdue", "source_disabled", "stream_down", "source_failing")
PROBLEM_KINDS = SOURCE_KINDS + ("delivery_halted", "delivery_unrecorded", "delivery_stuck", "config",
                                "slack_terminal", "replicas_differ", "report_not_posted", "actions_stuck",
                                "actions_failed", "routing_parked", "database_damaged")
# what `store_report()` cannot check without monitor.yaml (the dashboard started on a store alone)
NEEDS_CONFIG = ("sources not polled on schedule", "streams disconnected", "sources failing below their own "
                "alert threshold", "Slack mode", "the weekly report")


def problem(kind: str, detail: str, prefix: str = "") -> dict[str, str]:
    """One problem: `text` is what `monitor status` prints (`prefix` + `detail`), `kind` what readers act on."""
    assert kind in PROBLEM_KINDS, kind
    return {"kind": kind, "text": prefix + detail, "detail": detail}


def with_damage(rep: dict[str, Any], damage: str | None) -> dict[str, Any]:
    """`rep` with the database's damage (`Store.quick_check()`'s line, None: sound) as its first problem, in
    `issues` (kind `database_damaged`) as in `problems`: one list of problems, whoever reads it."""
    if damage:
        found = problem("database_damaged", damage)
        rep["issues"].insert(0, found)
        rep["problems"].insert(0, found["text"])
        rep["healthy"] = False
    return rep


def _source_record(sid: str, kind: str, r: dict[str, Any], found: list[dict[str, str]], *,
                   failing: bool, **extra: Any) -> dict[str, Any]:
    """A source's row in the report. `failing`: its failures in a row reached its alert threshold (the fact
    `monitor status` and the strip both read; `consecutive_failures` alone counts any failure)."""
    return {"id": sid, "kind": kind, "last_success": iso(r.get("last_success")),
            "last_attempt": iso(r.get("last_attempt")), "last_error": r.get("last_error"),
            "last_error_at": iso(r.get("last_error_at")), "consecutive_failures": int(r.get("consecutive_failures")
                                                                                     or 0),
            "disabled": r.get("disabled_reason"), "failing": failing, "healthy": not found,
            "problems": [p["detail"] for p in found], "problem_kinds": [p["kind"] for p in found], **extra}


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
        out.append(_source_record(src.id, src.kind, r, found, failing=failing, enabled=src.enabled,
                                  every=src.every, next_run=iso(next_run), not_polled_for_s=overdue_s))
        if st is not None:
            out[-1]["stream"] = st | {"down_for_s": round(now - st["down_since"], 1) if down else None}
    return out


def recorded_sources(store: Store) -> list[dict[str, Any]]:
    """The sources as the store records them, without monitor.yaml: disabled (`disabled_reason`) or failing
    past the threshold they had when the poller counted (`health_alerted`: it told ops). Not knowing each
    source's schedule, nothing here can be overdue."""
    out = []
    for r in store.query("SELECT * FROM sources ORDER BY id"):
        failing = bool(r.get("health_alerted")) and int(r.get("consecutive_failures") or 0) > 0 \
            and not r.get("disabled_reason")
        found = [problem("source_disabled", f"disabled: {r['disabled_reason']}")] if r.get("disabled_reason") else \
            [problem("source_failing", f"{r['consecutive_failures']} failed attempts in a row")] if failing else []
        out.append(_source_record(r["id"], r["kind"], r, found, failing=failing, enabled=True, every=None,
                                  next_run=iso(r.get("next_run")), not_polled_for_s=None))
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


def _listed(found: list[dict[str, str]]) -> dict[str, list[str]]:
    """A part's problems as `monitor status --json` has always listed them, and their kinds beside them."""
    return {"problems": [p["detail"] for p in found], "problem_kinds": [p["kind"] for p in found]}


def outbox_health(store: Store, now: float, stuck_after: float = STUCK_AFTER_S) -> dict[str, Any]:
    q = delivery_health(store, now, stuck_after)
    oldest = q["oldest"]
    stuck = bool(q["stuck"])
    found = []
    if q["halted"]:
        found.append(problem("delivery_halted", f"delivery halted: {q['halted']}"))
    if q.get("unrecorded"):
        found.append(problem("delivery_unrecorded", f"{q['unrecorded']} message(s) posted or being checked in Slack "
                             "but not recorded for over a minute: the outbox is stopped until it can write (disk "
                             "full?), or Slack answers too slowly"))
    if stuck and oldest:
        example = q["stuck_example"] or {}
        found.append(problem("delivery_stuck", f"oldest message waiting for {format_duration(now - oldest)}"
                             + (f" (last error: {example['last_error']})" if example.get("last_error") else "")))
    return {"pending": q["pending"], "oldest_pending": iso(oldest),
            "oldest_pending_age_s": round(now - oldest, 1) if oldest else None, "stuck": stuck,
            "stuck_count": q["stuck"], "halted": q["halted"], "failed_last_24h": q["failed_24h"],
            "unrecorded": q.get("unrecorded", 0),
            "last_error": (q["stuck_example"] or {}).get("last_error"), "stuck_after_s": stuck_after, **_listed(found)}


def open_alerts_by_owner(store: Store, alerts: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """Open alerts per owner. `alerts`: the open alerts a caller already read (the dashboard's board: rows of
    `alerts`, `targets` as stored), so a request reads them once; None: read here."""
    by_owner: dict[str, int] = {}
    for a in list_alerts(store, only_open=True, limit=100_000) if alerts is None else alerts:
        for t in loads(a["targets"], []) if isinstance(a["targets"], str) else a["targets"]:
            by_owner[t["owner"]] = by_owner.get(t["owner"], 0) + 1
    return dict(sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0])))


def config_found(store: Store) -> list[dict[str, str]]:
    """The daemon runs an older config than the file on disk: a reload failed, or a change needs a restart."""
    out = []
    for r in store.query("SELECT * FROM config_state ORDER BY file"):
        name = r["path"].rsplit("/", 1)[-1]
        if not r["ok"]:
            first = (r["message"] or "").splitlines()[0] if r["message"] else ""
            out.append(problem("config", f"{name} reload failed at {iso(r['at'])}; running with the last good "
                               f"config: {first}", "config: "))
        elif r["message"]:
            out.append(problem("config", r["message"], "config: "))
    return out


def config_problems(store: Store) -> list[str]:
    return [p["text"] for p in config_found(store)]


# the one query of mentions failing to route; `monitor status` (routing_health) and /metrics both run it
ROUTE_FAILURES_SQL = ("SELECT COUNT(*), SUM(route_parked_at IS NOT NULL) FROM mentions"
                      " WHERE route_attempts > 0 AND processed_at IS NULL")


def route_failures(db: Any) -> tuple[int, int]:
    """(retrying, parked): mentions whose analysis or routing raised and that are not routed. `db`: anything
    with `execute(sql).fetchone()` (a Store's `db`, or the metrics' own read-only sqlite3 connection)."""
    failing, parked = db.execute(ROUTE_FAILURES_SQL).fetchone()
    return int(failing or 0) - int(parked or 0), int(parked or 0)


def routing_health(store: Store, max_attempts: int | None) -> dict[str, Any]:
    """Mentions whose analysis or routing raised: those still retried, and those parked after `max_attempts`
    failures (kept, no longer routed: a problem until `monitor retry-mentions` sends them through again).
    `max_attempts` None: not known (no monitor.yaml); the parked ones are counted all the same."""
    retrying, parked = route_failures(store.db)
    latest = store.one("SELECT id, source_id, route_attempts, route_error, route_failed_at, route_parked_at FROM"
                       " mentions WHERE route_attempts > 0 AND processed_at IS NULL ORDER BY route_failed_at DESC,"
                       " id DESC LIMIT 1")
    found = []
    if parked:
        found.append(problem("routing_parked", f"{parked} mention(s) parked after {max_attempts or 'repeated'} "
                             f"failed routing attempts, not routed (latest: mention {latest['id'] if latest else '?'}: "
                             f"{shown(latest['route_error'] or '') if latest else '?'}); {RETRY_HINT}", "routing: "))
    return {"parked": parked, "retrying": retrying, "max_attempts": max_attempts,
            "latest": None if latest is None else {
                "mention_id": latest["id"], "source_id": latest["source_id"], "attempts": latest["route_attempts"],
                "error": latest["route_error"], "failed_at": iso(latest["route_failed_at"]),
                "parked": latest["route_parked_at"] is not None},
            "retry": "monitor retry-mentions --all" if parked or retrying else None, **_listed(found)}


def response_health(store: Store, now: float, window: float = 7 * 86400) -> dict[str, Any]:
    """Time to first response over the last week, replies waiting or failed, tickets not created."""
    times = [r["t"] for r in store.query("SELECT first_response_at - created_at AS t FROM alerts WHERE"
                                         " first_response_at IS NOT NULL AND created_at >= ? ORDER BY t",
                                         (now - window,))]
    replies = {r["state"]: r["n"] for r in store.query("SELECT state, COUNT(*) AS n FROM replies WHERE"
                                                       " created_at >= ? GROUP BY state", (now - window,))}
    actions = {r["state"]: r["n"] for r in store.query("SELECT state, COUNT(*) AS n FROM actions WHERE"
                                                       " created_at >= ? GROUP BY state", (now - window,))}
    stuck = store.one("SELECT COUNT(*) AS n FROM actions WHERE state = 'pending' AND created_at < ?",
                      (now - STUCK_AFTER_S,)) or {}
    found = [problem("actions_stuck", f"{stuck['n']} ticket/webhook action(s) pending over "
                     f"{format_duration(STUCK_AFTER_S)}")] if stuck.get("n") else []
    if actions.get("failed"):
        found.append(problem("actions_failed", f"{actions['failed']} action(s) failed this week (see `monitor alerts "
                             "ID`)"))
    median = times[len(times) // 2] if times else None
    return {"time_to_first_response_median": median, "responded_alerts": len(times),
            "replies": {k: replies.get(k, 0) for k in ("approved", "awaiting_approval", "posted", "marked",
                                                          "failed", "rejected")},
            "actions": {k: actions.get(k, 0) for k in ("pending", "done", "failed")}, **_listed(found)}


def replica_health(store: Store) -> dict[str, Any]:
    """Live replicas, who holds which lease, and replicas running different config or rules."""
    live = live_replicas(store)
    names = {r["id"] for r in live}
    leases = [{"name": r["name"], "holder": r["holder"], "token": r["token"], "live": bool(r["live"]),
               "holder_alive": r["holder"] in names}
              for r in store.query("SELECT name, holder, token, expires_at > db_now() AS live FROM leases"
                                   " ORDER BY name")]
    hashes = sorted({r["config_hash"] or "?" for r in live})
    found = []
    if len(hashes) > 1:
        by = {h: [r["id"] for r in live if (r["config_hash"] or "?") == h] for h in hashes}
        found.append(problem("replicas_differ", "replicas run different config/rules: " + "; ".join(
            f"{h}: {', '.join(ids)}" for h, ids in by.items())))
    return {"live": [{k: r[k] for k in ("id", "hostname", "pid", "config_hash")} | {"seen_at": iso(r["seen_at"])}
                     for r in live], "leases": leases, **_listed(found)}


def _parts_found(prefix: str, part: dict[str, Any]) -> list[dict[str, str]]:
    return [problem(k, d, prefix) for k, d in zip(part["problem_kinds"], part["problems"], strict=True)]


def _assemble(store: Store, now: float, sources: list[dict[str, Any]], outbox: dict[str, Any],
              routing: dict[str, Any], configured: list[dict[str, str]],
              open_alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The report from its parts; `issues` are the problems as data (kind, text, detail, source), `problems`
    their texts, as `monitor status` prints them."""
    replicas = replica_health(store)
    responses = response_health(store, now)
    issues = [problem(k, d, f"source {s['id']}: ") | {"source": s["id"]}
              for s in sources for k, d in zip(s["problem_kinds"], s["problems"], strict=True)]
    issues += _parts_found("outbox: ", outbox) + config_found(store) + configured
    issues += _parts_found("replicas: ", replicas) + _parts_found("actions: ", responses) + _parts_found("routing: ", routing)
    open_row = store.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM alerts WHERE state = 'open'") or {}
    return {"healthy": not issues, "problems": [p["text"] for p in issues], "issues": issues, "sources": sources,
            "outbox": outbox, "routing": routing, "responses": responses, "replicas": replicas,
            "open_alerts": open_alerts_by_owner(store, open_alerts),
            "unacknowledged": {"count": open_row.get("n", 0), "oldest": iso(open_row.get("oldest"))}}


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
    rep = _assemble(store, now, source_health(config, store, now),
                    outbox_health(store, now, config.slack.stuck_after),
                    routing_health(store, config.daemon.max_route_attempts), configured, open_alerts)
    return rep | {"weekly_report": weekly, "complete": True, "skipped": []}


def store_report(store: Store, now: float, open_alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the store alone knows, for a dashboard started without monitor.yaml: sources disabled or failing
    as recorded, Slack delivery halted or stuck (default `stuck_after`), mentions parked, config reloads,
    replicas, actions. `complete` False and `skipped` (NEEDS_CONFIG) say what could not be checked, so a
    reader never takes "no problem found" for "healthy". `open_alerts`: as `open_alerts_by_owner`."""
    rep = _assemble(store, now, recorded_sources(store), outbox_health(store, now), routing_health(store, None), [],
                    open_alerts)
    return rep | {"healthy": False if rep["issues"] else None, "weekly_report": None, "complete": False,
                  "skipped": list(NEEDS_CONFIG)}


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


def weekly_report(config: Config, store: Store) -> dict[str, Any] | None:
    """The latest weekly report (`report:`): where it went, or why it has not been posted yet."""
    if config.report is None:
        return None
    r = store.one("SELECT * FROM reports ORDER BY until DESC LIMIT 1")
    if r is None:
        return {"period": None, "posted": None, "html": None, "problem": None}
    problem = None
    if config.report.slack_channel and not r["posted_at"] and r["last_error"]:
        problem = f"not posted to Slack after {r['attempts']} attempt(s): {r['last_error']}"
    return {"period": r["period"], "posted": iso(r["posted_at"]), "html": r["html_path"], "problem": problem}
