"""`monitor status` as text: the report of `monitor.ops.health` in the lines ops read in a terminal.

Apart from health.py so the checks (what is wrong, as data) and their wording for a terminal stay small
modules; `health.render` is this module's `render`, re-exported for the CLI.
"""

from __future__ import annotations

from typing import Any

from monitor.core.durations import format_duration
from monitor.core.scrub import shown

RETRY_HINT = "fix the cause (a rule, the scorer, an upgrade), then `monitor retry-mentions --all` (or --id ID)"


def render(rep: dict[str, Any]) -> list[str]:
    lines = []
    for s in rep["sources"]:
        failing = s["consecutive_failures"] > 0      # any failure; `failing` in the record: past its alert threshold
        mark = "FAIL" if s.get("failing") or not s["healthy"] else "warn" if failing else "ok  "
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
    for pause in rt.get("paused") or []:        # said in its problem too; here beside the routing figures
        lines.append(f"routing: PAUSED since {pause['since']}" + (f" on {pause['replica']}" if pause["replica"] != "local"
                     else "") + f" ({pause['cause'].replace('_', ' ')}), {pause['waiting']} mention(s) waiting")
    if rt.get("stalled"):                       # said in its problem too; here beside the routing figures
        st = rt["stalled"]
        lines.append(f"routing: STALLED, {st['waiting']} mention(s) due, the oldest since {st['oldest']}; last routed"
                     f" {st['last_routed'] or 'never'}")
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
    for f in rs.get("latest_failures", []):
        lines.append(f"     {f['name']} ({shown(f['what'])}) failed: {shown(f['error'] or 'no reason recorded')}")
    for c in rs.get("interrupted", []):
        lines.append(f"     {c['name']}: the attempt by {c['holder']} ended without an outcome (its claim lapsed at"
                     f" {c['since']}); the next pass tries again")
    rp = rep.get("replicas") or {}
    held: dict[str, list[str]] = {}
    for le in rp.get("leases", []):
        if le["live"] and not le["holder"].startswith("released:"):      # not a politeness gap
            held.setdefault(le["holder"] + ("" if le["holder_alive"] else " (gone)"), []).append(le["name"])
    for c in rp.get("claims", []):                                        # replies and tickets being posted
        held.setdefault(c["holder"] + ("" if c["holder_alive"] else " (gone)"), []).append(f"{c['name']} until {c['until']}")
    if rp.get("live") or held:
        lines.append(f"replicas: {len(rp['live'])} live" + "".join(
            f"\n     {r['id']} (config {r['config_hash']}, seen {r['seen_at']})" for r in rp["live"]))
        for who, names in sorted(held.items()):
            lines.append(f"     leases of {who}: {', '.join(sorted(names))}")
    taken = rp.get("cron_taken") or {}
    if taken.get("sources"):
        within = format_duration(taken.get("last_within_s") or 0.0)
        why = (f"within half the cron interval, assumed to be each source's `every` as daemon.cron_interval is unset:"
               f" {within} for the last" if taken.get("interval_assumed")
               else f"within {within}, half of daemon.cron_interval")
        lines.append(f"cron: {taken['sources']} source(s) skipped in the last hour by a `run --once` pass as taken by"
                     f" another replica (polled there {why}); last at {taken['last_at']} by {taken['last_by']}")
    search = rep.get("search") or {}
    if search.get("note"):                      # a configured choice, not a problem: said, never silent
        lines.append(f"search: {search['note']}")
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
