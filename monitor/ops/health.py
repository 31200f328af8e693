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
from monitor.sources import is_stream
from monitor.sources.health import stream_report
from monitor.store.database import Store
from monitor.store.leases import live_replicas

OVERDUE_GRACE_S = 600.0    # cron every 5 minutes must never look "overdue" for a 1-minute source
STREAM_DOWN_GRACE_S = 600.0    # a stream not connected this long (lost, or never got, its connection) is a problem


def source_health(config: Config, store: Store, now: float) -> list[dict[str, Any]]:
    rows = {r["id"]: r for r in store.query("SELECT * FROM sources")}
    out = []
    for src in config.sources:
        r = rows.get(src.id, {})
        failures = int(r.get("consecutive_failures") or 0)
        problems: list[str] = []
        overdue_s = None
        stream = is_stream(src)
        if not src.enabled or stream:
            next_run = None          # a stream is not polled: its health is its connection, reported below
        elif r.get("last_attempt"):
            next_run = max(r["last_attempt"] + src.every, r.get("next_run") or 0)
            overdue = now - next_run
            if overdue > max(src.every, OVERDUE_GRACE_S) and not r.get("disabled_reason"):
                overdue_s = round(now - r["last_attempt"], 1)
                problems.append(f"not polled for {format_duration(now - r['last_attempt'])} (every "
                                f"{format_duration(src.every)}): is `monitor run` (or its cron job) running?")
        else:
            next_run = now
        st = stream_report(store, src, now) if stream and src.enabled else None
        down = stream_down(st, r, now) if st is not None else None
        if r.get("disabled_reason"):
            problems.append(f"disabled: {r['disabled_reason']}")
        elif down:
            problems.append(down)
        elif failures >= src.failure_alert_after:
            problems.append(f"{failures} failed {'connection attempts' if stream else 'polls'} in a row")
        out.append({"id": src.id, "kind": src.kind, "enabled": src.enabled, "every": src.every,
                    "last_success": iso(r.get("last_success")), "last_attempt": iso(r.get("last_attempt")),
                    "last_error": r.get("last_error"), "last_error_at": iso(r.get("last_error_at")),
                    "consecutive_failures": failures, "next_run": iso(next_run),
                    "disabled": r.get("disabled_reason"), "not_polled_for_s": overdue_s, "healthy": not problems,
                    "problems": problems})
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


def outbox_health(store: Store, now: float, stuck_after: float = STUCK_AFTER_S) -> dict[str, Any]:
    q = delivery_health(store, now, stuck_after)
    oldest = q["oldest"]
    stuck = bool(q["stuck"])
    problems = []
    if q["halted"]:
        problems.append(f"delivery halted: {q['halted']}")
    if q.get("unrecorded"):
        problems.append(f"{q['unrecorded']} message(s) posted or being checked in Slack but not recorded for over a "
                        "minute: the outbox is stopped until it can write (disk full?), or Slack answers too slowly")
    if stuck and oldest:
        example = q["stuck_example"] or {}
        problems.append(f"oldest message waiting for {format_duration(now - oldest)}"
                        + (f" (last error: {example['last_error']})" if example.get("last_error") else ""))
    return {"pending": q["pending"], "oldest_pending": iso(oldest),
            "oldest_pending_age_s": round(now - oldest, 1) if oldest else None, "stuck": stuck,
            "stuck_count": q["stuck"], "halted": q["halted"], "failed_last_24h": q["failed_24h"],
            "unrecorded": q.get("unrecorded", 0),
            "last_error": (q["stuck_example"] or {}).get("last_error"), "stuck_after_s": stuck_after,
            "problems": problems}


def open_alerts_by_owner(store: Store) -> dict[str, int]:
    by_owner: dict[str, int] = {}
    for a in list_alerts(store, only_open=True, limit=100_000):
        for t in a["targets"]:
            by_owner[t["owner"]] = by_owner.get(t["owner"], 0) + 1
    return dict(sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0])))


def config_problems(store: Store) -> list[str]:
    """The daemon runs an older config than the file on disk: a reload failed, or a change needs a restart."""
    out = []
    for r in store.query("SELECT * FROM config_state ORDER BY file"):
        name = r["path"].rsplit("/", 1)[-1]
        if not r["ok"]:
            first = (r["message"] or "").splitlines()[0] if r["message"] else ""
            out.append(f"config: {name} reload failed at {iso(r['at'])}; running with the last good config: {first}")
        elif r["message"]:
            out.append(f"config: {r['message']}")
    return out


RETRY_HINT = "fix the cause (a rule, the scorer, an upgrade), then `monitor retry-mentions --all` (or --id ID)"


def routing_health(store: Store, max_attempts: int) -> dict[str, Any]:
    """Mentions whose analysis or routing raised: those still retried, and those parked after `max_attempts`
    failures (kept, no longer routed: a problem until `monitor retry-mentions` sends them through again)."""
    row = store.one("SELECT COUNT(*) AS failing, SUM(route_parked_at IS NOT NULL)"
                    " AS parked FROM mentions WHERE route_attempts > 0 AND processed_at IS NULL") or {}
    latest = store.one("SELECT id, source_id, route_attempts, route_error, route_failed_at, route_parked_at FROM"
                       " mentions WHERE route_attempts > 0 AND processed_at IS NULL ORDER BY route_failed_at DESC,"
                       " id DESC LIMIT 1")
    parked = int(row.get("parked") or 0)
    retrying = int(row.get("failing") or 0) - parked
    problems = []
    if parked:
        problems.append(f"{parked} mention(s) parked after {max_attempts} failed routing attempts, not routed "
                        f"(latest: mention {latest['id'] if latest else '?'}: "
                        f"{shown(latest['route_error'] or '') if latest else '?'}); {RETRY_HINT}")
    return {"parked": parked, "retrying": retrying, "max_attempts": max_attempts,
            "latest": None if latest is None else {
                "mention_id": latest["id"], "source_id": latest["source_id"], "attempts": latest["route_attempts"],
                "error": latest["route_error"], "failed_at": iso(latest["route_failed_at"]),
                "parked": latest["route_parked_at"] is not None},
            "retry": "monitor retry-mentions --all" if parked or retrying else None, "problems": problems}


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
    problems = [f"{stuck['n']} ticket/webhook action(s) pending over {format_duration(STUCK_AFTER_S)}"] \
        if stuck.get("n") else []
    if actions.get("failed"):
        problems.append(f"{actions['failed']} action(s) failed this week (see `monitor alerts ID`)")
    median = times[len(times) // 2] if times else None
    return {"time_to_first_response_median": median, "responded_alerts": len(times),
            "replies": {k: replies.get(k, 0) for k in ("approved", "awaiting_approval", "posted", "marked",
                                                          "failed", "rejected")},
            "actions": {k: actions.get(k, 0) for k in ("pending", "done", "failed")}, "problems": problems}


def replica_health(store: Store) -> dict[str, Any]:
    """Live replicas, who holds which lease, and replicas running different config or rules."""
    live = live_replicas(store)
    names = {r["id"] for r in live}
    leases = [{"name": r["name"], "holder": r["holder"], "token": r["token"], "live": bool(r["live"]),
               "holder_alive": r["holder"] in names}
              for r in store.query("SELECT name, holder, token, expires_at > db_now() AS live FROM leases"
                                   " ORDER BY name")]
    hashes = sorted({r["config_hash"] or "?" for r in live})
    problems = []
    if len(hashes) > 1:
        by = {h: [r["id"] for r in live if (r["config_hash"] or "?") == h] for h in hashes}
        problems.append("replicas run different config/rules: " + "; ".join(f"{h}: {', '.join(ids)}"
                                                                            for h, ids in by.items()))
    return {"live": [{k: r[k] for k in ("id", "hostname", "pid", "config_hash")} | {"seen_at": iso(r["seen_at"])}
                     for r in live], "leases": leases, "problems": problems}


def report(config: Config, store: Store, now: float) -> dict[str, Any]:
    sources = source_health(config, store, now)
    outbox = outbox_health(store, now, config.slack.stuck_after)
    replicas = replica_health(store)
    problems = [f"source {s['id']}: {p}" for s in sources for p in s["problems"]]
    problems += [f"outbox: {p}" for p in outbox["problems"]]
    problems += config_problems(store)
    if config.slack.mode == "terminal":
        problems.append("slack: slack.mode is terminal: alerts are printed by the daemon and reach nobody in Slack "
                        "(set slack.mode: bot and $" + config.slack.token_env + " to send them)")
    problems += [f"replicas: {p}" for p in replicas["problems"]]
    open_row = store.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM alerts WHERE state = 'open'") or {}
    weekly = weekly_report(config, store)
    if weekly and weekly["problem"]:
        problems.append(f"weekly report {weekly['period']}: {weekly['problem']}")
    responses = response_health(store, now)
    problems += [f"actions: {p}" for p in responses["problems"]]
    routing = routing_health(store, config.daemon.max_route_attempts)
    problems += [f"routing: {p}" for p in routing["problems"]]
    return {"healthy": not problems, "problems": problems, "sources": sources, "outbox": outbox,
            "routing": routing, "responses": responses, "replicas": replicas, "open_alerts": open_alerts_by_owner(store),
            "unacknowledged": {"count": open_row.get("n", 0), "oldest": iso(open_row.get("oldest"))},
            "weekly_report": weekly}


def quiet_health(rules: Rules | None, store: Store, now: float, brand: str | None = None) -> dict[str, Any] | None:
    """Quiet hours and the alerts they hold right now (`quiet.held_until`, as the dashboard's board places
    them), of one brand when `brand` is given: not a problem, but never a surprise (`monitor status` and the
    dashboard's health strip both show this); None when rules.yaml sets no quiet hours."""
    if rules is None or rules.quiet_hours is None:
        return None
    return {"window": quiet_banner(rules, now), "until": iso(quiet_until(rules.quiet_hours, now)),
            "held": count_held(rules, list_alerts(store, only_open=True, limit=100_000), now, brand)}


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


def render(rep: dict[str, Any]) -> list[str]:
    lines = []
    for s in rep["sources"]:
        failing = s["consecutive_failures"] > 0
        mark = "FAIL" if not s["healthy"] else "warn" if failing else "ok  "
        if not s["enabled"]:
            mark = "off "
        if failing:          # never "ok … last ok never" for a source that has not worked once
            state = (f"failing since {s['last_success']} (last ok)" if s["last_success"]
                     else "failing since its first poll (never succeeded)")
        else:
            state = f"last ok {s['last_success'] or 'not polled yet':<21}"
        line = (f"{mark} {s['id']:<22} {s['kind']:<10} {state} "
                f"failures {s['consecutive_failures']:<3} next {s['next_run'] or '-'}")
        if s["last_error"]:
            line += f"  last error: {shown(s['last_error'])}" + (f" ({s['last_error_at']})" if s["last_error_at"] else "")
        lines.append(line)
        if "stream" in s:
            lines.append("     " + stream_line(s["stream"]))
    ob = rep["outbox"]
    lines.append(f"outbox: {ob['pending']} pending" + (f", oldest {ob['oldest_pending']}" if ob["pending"] else "")
                 + (f" — STUCK: {ob['stuck_count']} pending over {format_duration(ob['stuck_after_s'])}"
                    + (f", last error: {ob['last_error']}" if ob["last_error"] else "") if ob["stuck"] else "")
                 + (f" — HALTED: {ob['halted']}" if ob["halted"] else "")
                 + (f"; {ob['failed_last_24h']} failed in 24h" if ob["failed_last_24h"] else ""))
    lines.append("open alerts: " + (", ".join(f"{k} {v}" for k, v in rep["open_alerts"].items()) or "none")
                 + (f" ({rep['unacknowledged']['count']} unacknowledged, oldest {rep['unacknowledged']['oldest']})"
                    if rep["unacknowledged"]["count"] else ""))
    rt = rep.get("routing") or {}
    if rt.get("parked") or rt.get("retrying"):
        last = rt["latest"] or {}
        lines.append(f"routing: {rt['parked']} mention(s) parked, {rt['retrying']} failing and retried (parked after "
                     f"{rt['max_attempts']} attempts); latest mention {last.get('mention_id')} at {last.get('failed_at')}"
                     f": {shown(last.get('error') or '')}")
        lines.append(f"     to route them again: {RETRY_HINT}")
    wr = rep.get("weekly_report")
    if wr:
        lines.append("weekly report: " + ("none yet" if not wr["period"] else f"{wr['period']}"
                     + (f", posted {wr['posted']}" if wr["posted"] else "") + (f", written {wr['html']}" if wr["html"] else "")
                     + (f" — {wr['problem']}" if wr["problem"] else "")))
    rs = rep["responses"]
    med = rs["time_to_first_response_median"]
    rp = rs["replies"]
    lines.append("responses (7d): " + (f"median time to first response {format_duration(med)} over "
                                       f"{rs['responded_alerts']} alert(s)" if med is not None else "no alert answered")
                 + f"; replies {rp['posted']} posted, {rp['marked']} marked, {rp['approved']} waiting to post,"
                 f" {rp['awaiting_approval']} awaiting approval, {rp['failed']} failed"
                 + f"; tickets {rs['actions']['done']} done, {rs['actions']['pending']} pending,"
                 f" {rs['actions']['failed']} failed")
    rp = rep.get("replicas") or {}
    held: dict[str, list[str]] = {}
    for le in rp.get("leases", []):
        if le["live"] and not le["holder"].startswith("released:"):      # not a politeness gap
            held.setdefault(le["holder"] + ("" if le["holder_alive"] else " (gone)"), []).append(le["name"])
    if rp.get("live") or held:
        lines.append(f"replicas: {len(rp['live'])} live" + "".join(
            f"\n     {r['id']} (config {r['config_hash']}, seen {r['seen_at']})" for r in rp["live"]))
        for who, names in sorted(held.items()):
            lines.append(f"     leases of {who}: {', '.join(sorted(names))}")
    lines.append("healthy" if rep["healthy"] else "UNHEALTHY:\n" + "\n".join(f"  - {p}" for p in rep["problems"]))
    return lines


def stream_line(st: dict[str, Any]) -> str:
    state = "connected" if st["connected"] else ("disconnected" if st["daemon_seen"] else "not running (no daemon)")
    if st.get("down_for_s"):
        state += f" for {format_duration(st['down_for_s'])}"
    ago = f"{format_duration(st['last_event_ago'])} ago" if st["last_event_ago"] is not None else "never"
    lag = f"{st['lag']:.1f}s" if st["lag"] is not None else "-"
    return (f"stream {state}; last event {ago}, lag {lag}; {st['events']:,} events, {st['matched']:,} matched, "
            f"{st['malformed']:,} malformed, {st['reconnects']:,} reconnects")
