"""`monitor status`: is the monitor healthy, and if not, what exactly is wrong.

Read from the database alone, so it works the same beside the systemd daemon and between cron passes.
Unhealthy (exit 1) means something a person must look at: a source failing `failure_alert_after` times in
a row or disabled, a source not polled long after it was due (the daemon or cron is not running), messages
stuck in the outbox for more than 15 minutes, or Slack refusing the token.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.config.settings import Config
from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.notify.outbox import STUCK_AFTER_S
from monitor.notify.outbox import health as delivery_health
from monitor.sources import is_stream
from monitor.sources.health import stream_report
from monitor.store.database import Store
from monitor.store.leases import live_replicas

OVERDUE_GRACE_S = 600.0    # cron every 5 minutes must never look "overdue" for a 1-minute source


def source_health(config: Config, store: Store, now: float) -> list[dict[str, Any]]:
    rows = {r["id"]: r for r in store.query("SELECT * FROM sources")}
    out = []
    for src in config.sources:
        r = rows.get(src.id, {})
        failures = int(r.get("consecutive_failures") or 0)
        problems: list[str] = []
        stream = is_stream(src)
        if not src.enabled or stream:
            next_run = None          # a stream is not polled: its health is its connection, reported below
        elif r.get("last_attempt"):
            next_run = max(r["last_attempt"] + src.every, r.get("next_run") or 0)
            overdue = now - next_run
            if overdue > max(src.every, OVERDUE_GRACE_S) and not r.get("disabled_reason"):
                problems.append(f"not polled for {format_duration(now - r['last_attempt'])} (every "
                                f"{format_duration(src.every)}): is `monitor run` (or its cron job) running?")
        else:
            next_run = now
        if r.get("disabled_reason"):
            problems.append(f"disabled: {r['disabled_reason']}")
        elif failures >= src.failure_alert_after:
            problems.append(f"{failures} failed polls in a row")
        out.append({"id": src.id, "kind": src.kind, "enabled": src.enabled, "every": src.every,
                    "last_success": iso(r.get("last_success")), "last_attempt": iso(r.get("last_attempt")),
                    "last_error": r.get("last_error"), "last_error_at": iso(r.get("last_error_at")),
                    "consecutive_failures": failures, "next_run": iso(next_run),
                    "disabled": r.get("disabled_reason"), "healthy": not problems, "problems": problems})
        if stream and src.enabled:
            out[-1]["stream"] = stream_report(store, src, now)
    return out


def outbox_health(store: Store, now: float, stuck_after: float = STUCK_AFTER_S) -> dict[str, Any]:
    q = delivery_health(store, now, stuck_after)
    oldest = q["oldest"]
    stuck = bool(q["stuck"])
    problems = []
    if q["halted"]:
        problems.append(f"delivery halted: {q['halted']}")
    if stuck and oldest:
        example = q["stuck_example"] or {}
        problems.append(f"oldest message waiting for {format_duration(now - oldest)}"
                        + (f" (last error: {example['last_error']})" if example.get("last_error") else ""))
    return {"pending": q["pending"], "oldest_pending": iso(oldest),
            "oldest_pending_age_s": round(now - oldest, 1) if oldest else None, "stuck": stuck,
            "stuck_count": q["stuck"], "halted": q["halted"], "failed_last_24h": q["failed_24h"],
            "last_error": (q["stuck_example"] or {}).get("last_error"), "stuck_after_s": stuck_after,
            "problems": problems}


def open_alerts_by_owner(store: Store) -> dict[str, int]:
    by_owner: dict[str, int] = {}
    for a in list_alerts(store, only_open=True, limit=100_000):
        for t in a["targets"]:
            by_owner[t["owner"]] = by_owner.get(t["owner"], 0) + 1
    return dict(sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0])))


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
    problems += [f"replicas: {p}" for p in replicas["problems"]]
    open_row = store.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM alerts WHERE state = 'open'") or {}
    return {"healthy": not problems, "problems": problems, "sources": sources, "outbox": outbox,
            "replicas": replicas,
            "open_alerts": open_alerts_by_owner(store),
            "unacknowledged": {"count": open_row.get("n", 0), "oldest": iso(open_row.get("oldest"))}}


def render(rep: dict[str, Any]) -> list[str]:
    lines = []
    for s in rep["sources"]:
        mark = "ok  " if s["healthy"] else "FAIL"
        if not s["enabled"]:
            mark = "off "
        line = (f"{mark} {s['id']:<22} {s['kind']:<10} last ok {s['last_success'] or 'never':<21} "
                f"failures {s['consecutive_failures']:<3} next {s['next_run'] or '-'}")
        if s["last_error"]:
            line += f"  last error: {s['last_error']}" + (f" ({s['last_error_at']})" if s["last_error_at"] else "")
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
    ago = f"{format_duration(st['last_event_ago'])} ago" if st["last_event_ago"] is not None else "never"
    lag = f"{st['lag']:.1f}s" if st["lag"] is not None else "-"
    return (f"stream {state}; last event {ago}, lag {lag}; {st['events']:,} events, {st['matched']:,} matched, "
            f"{st['malformed']:,} malformed, {st['reconnects']:,} reconnects")
