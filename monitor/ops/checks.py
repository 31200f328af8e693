"""The checks that need the store alone: Slack delivery (the outbox), config reloads, mentions failing to route,
actions and replies, replicas, open alerts; and `assemble`, the report from its parts.

Both reports are built here: `health.report()` (`monitor status`, with monitor.yaml: sources on schedule, Slack
mode, the weekly report) and `store_report.store_report()` (a dashboard started on a store alone); the checks
that need no config live apart from both, so neither report imports the other.
"""

from __future__ import annotations

from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.core.scrub import shown
from monitor.notify.health import STUCK_AFTER_S
from monitor.notify.health import health as delivery_health
from monitor.ops.problems import listed, parts_found, problem
from monitor.ops.stall import routing_stalled
from monitor.ops.status_text import RETRY_HINT
from monitor.store.database import Store, loads
from monitor.store.leases import REPLICA_LIVE_S, live_replicas
from monitor.store.poll_turns import taken_recently


def outbox_health(store: Store, now: float, stuck_after: float = STUCK_AFTER_S) -> dict[str, Any]:
    q = delivery_health(store, now, stuck_after)
    oldest = q["oldest"]
    stuck = bool(q["stuck"])
    found = []
    if q["halted"]:
        found.append(problem("delivery_halted", f"delivery halted: {q['halted']}"))
    if q.get("unrecorded"):
        why = f" (last: {shown(q['unrecorded_error'])})" if q.get("unrecorded_error") else ""
        found.append(problem("delivery_unrecorded", f"{q['unrecorded']} message(s) posted or being checked in Slack "
                             "but not recorded for over a minute: the outbox is stopped until it can write (disk "
                             f"full?), or Slack answers too slowly, or its history cannot be read to check{why}"))
    if stuck and oldest:
        example = q["stuck_example"] or {}
        found.append(problem("delivery_stuck", f"oldest message waiting for {format_duration(now - oldest)}"
                             + (f" (last error: {example['last_error']})" if example.get("last_error") else "")))
    return {"pending": q["pending"], "oldest_pending": iso(oldest),
            "oldest_pending_age_s": round(now - oldest, 1) if oldest else None, "stuck": stuck,
            "stuck_count": q["stuck"], "halted": q["halted"], "failed_last_24h": q["failed_24h"],
            "unrecorded": q.get("unrecorded", 0), "unrecorded_error": q.get("unrecorded_error"),
            "last_error": (q["stuck_example"] or {}).get("last_error"), "stuck_after_s": stuck_after, **listed(found)}


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


def search_health(store: Store, unaccent: str = "required") -> dict[str, Any] | None:
    """The dashboard's search on PostgreSQL (None on SQLite, whose FTS5 always folds): `accents_folded` False
    when this role could not create the `unaccent` extension (`store.pg_online`), until the first start or
    `monitor migrate` after a database owner ran CREATE EXTENSION. Before, a start's WARNING and the feed's note
    were the only places, and nobody reading `monitor status` or the strip knew: now it is the problem
    `search_accents`, unless `storage.unaccent: optional` says the deployment runs without it on purpose (a
    managed database that cannot have it): then `note` says so, and `monitor status` can still exit 0."""
    if store.dialect != "postgres":
        return None
    from monitor.store.pg_online import accents_folded

    folded = accents_folded(store)
    found: list[dict[str, str]] = []
    note: str | None = None
    if folded is False and unaccent == "optional":
        note = ("accent-sensitive (\"cafe\" does not find \"café\"): this database has no unaccent extension, and "
                "storage.unaccent is optional")
    elif folded is False:
        found.append(problem("search_accents", "the dashboard's search does not fold accents (\"cafe\" does not "
                             "find \"café\"): this database role may not create PostgreSQL's unaccent extension; a "
                             "database owner can run CREATE EXTENSION unaccent in this database, then the next start "
                             "or `monitor migrate` folds them (or set storage.unaccent: optional to run without it)"))
    return {"accents_folded": folded, "unaccent": unaccent, "note": note, **listed(found)}


def config_problems(store: Store) -> list[str]:
    return [p["text"] for p in config_found(store)]


# the one query of mentions failing to route; `monitor status` (routing_health) and /metrics both run it
ROUTE_FAILURES_SQL = ("SELECT COUNT(*) AS failing, SUM(route_parked_at IS NOT NULL) AS parked FROM mentions"
                      " WHERE route_attempts > 0 AND processed_at IS NULL")


def route_failures(db: Any) -> tuple[int, int]:
    """(retrying, parked): mentions whose analysis or routing raised and that are not routed. `db`: a Store
    (read through its lock: the daemon's threads share its connection) or anything with `execute(sql).fetchone()`
    (the metrics' own read-only sqlite3 connection)."""
    if isinstance(db, Store):
        row = db.one(ROUTE_FAILURES_SQL) or {}
        failing, parked = row.get("failing"), row.get("parked")
    else:
        failing, parked = db.execute(ROUTE_FAILURES_SQL).fetchone()
    return int(failing or 0) - int(parked or 0), int(parked or 0)


def routing_paused(store: Store) -> list[dict[str, Any]]:
    """The replicas whose routing is paused uncounted (the store unavailable to the pass, or the slow-server
    breaker tripped), each as a problem (kind `routing_paused`) with its record; the pending count is read now.
    A pause of a replica its `replicas` row says is gone (stopped, or not seen for REPLICA_LIVE_S) is not shown:
    that replica routes nothing any more, paused or not (`monitor status` lists the live ones)."""
    rows = store.query("SELECT replica, since, seen_at, cause, reason, waiting FROM routing_pauses WHERE replica NOT IN"
                       " (SELECT id FROM replicas WHERE stopped_at IS NOT NULL OR seen_at <= db_now() - ?)"
                       " ORDER BY since, replica", (REPLICA_LIVE_S,))
    if not rows:
        return []
    pending = (store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL AND route_parked_at IS NULL")
               or {}).get("n") or 0
    out = []
    for r in rows:
        who = "" if r["replica"] == "local" else f" on replica {r['replica']}"
        why = shown(r["reason"]) if r["cause"] == "slow_server" else f"the store is unavailable ({shown(r['reason'])})"
        out.append({"replica": r["replica"], "since": iso(r["since"]), "seen_at": iso(r["seen_at"]),
                    "cause": r["cause"], "reason": r["reason"], "waiting": int(pending),
                    "problem": problem("routing_paused", f"paused since {iso(r['since'])}{who}: {why}; "
                                       f"{pending} mention(s) waiting; it resumes by itself when a pass routes again")})
    return out


def routing_health(store: Store, max_attempts: int | None, now: float | None = None) -> dict[str, Any]:
    """Mentions whose analysis or routing raised: those still retried, and those parked after `max_attempts`
    failures (kept, no longer routed: a problem until `monitor retry-mentions` sends them through again); routing
    paused uncounted (`routing_paused`); and routing stalled with nothing recorded (`routing_stalled`, `stall`).
    `max_attempts` None: not known (no monitor.yaml); the parked ones are counted all the same."""
    retrying, parked = route_failures(store)
    paused = routing_paused(store)
    stalled = routing_stalled(store, store.now() if now is None else now, bool(paused))
    latest = store.one("SELECT id, source_id, route_attempts, route_error, route_failed_at, route_parked_at FROM"
                       " mentions WHERE route_attempts > 0 AND processed_at IS NULL ORDER BY route_failed_at DESC,"
                       " id DESC LIMIT 1")
    found = [p.pop("problem") for p in paused] + ([stalled.pop("problem")] if stalled else [])
    if parked:
        found.append(problem("routing_parked", f"{parked} mention(s) parked after {max_attempts or 'repeated'} "
                             f"failed routing attempts, not routed (latest: mention {latest['id'] if latest else '?'}: "
                             f"{shown(latest['route_error'] or '') if latest else '?'}); {RETRY_HINT}", "routing: "))
    return {"parked": parked, "retrying": retrying, "max_attempts": max_attempts, "paused": paused, "stalled": stalled,
            "latest": None if latest is None else {
                "mention_id": latest["id"], "source_id": latest["source_id"], "attempts": latest["route_attempts"],
                "error": latest["route_error"], "failed_at": iso(latest["route_failed_at"]),
                "parked": latest["route_parked_at"] is not None},
            "retry": "monitor retry-mentions --all" if parked or retrying else None, **listed(found)}


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
            "latest_failures": latest_failures(store, now - window), "interrupted": interrupted(store),
            "replies": {k: replies.get(k, 0) for k in ("approved", "awaiting_approval", "posted", "marked",
                                                          "failed", "rejected")},
            "actions": {k: actions.get(k, 0) for k in ("pending", "done", "failed")}, **listed(found)}


def latest_failures(store: Store, since: float, n: int = 3) -> list[dict[str, Any]]:
    """The newest replies and tickets failed for good, with why: until round 23 `monitor status` counted them and
    only the alert's thread said why, so a cause that fails every one (an address policy refusal, a token not
    set, a redirect to configure) was a number to investigate alert by alert. Scrubbed when they were stored."""
    return [{"name": f"{r['what']}:{r['id']}", "what": r["name"], "error": r["last_error"]}
            for r in store.query("SELECT * FROM (SELECT 'reply' AS what, id, platform AS name, last_error, created_at"
                                 " FROM replies WHERE state = 'failed' AND created_at >= ? UNION ALL SELECT 'ticket',"
                                 " id, name, last_error, created_at FROM actions WHERE (state = 'failed' OR"
                                 " close_state = 'failed') AND created_at >= ?) f ORDER BY created_at DESC, id DESC"
                                 " LIMIT ?", (since, since, n))]


def interrupted(store: Store) -> list[dict[str, Any]]:
    """Replies and tickets whose attempt ended without an outcome (its process died: every outcome clears the
    claim) and whose claim has lapsed: waiting for the next pass, which is not at once under `run --once`.
    Said, as the attempt may have reached the platform (a ticket's retry looks for it first; a Mastodon
    reply's Idempotency-Key holds; other platforms may show the reply twice)."""
    return [{"name": f"{r['what']}:{r['id']}", "holder": r["claimed_by"], "since": iso(r["claimed_until"])}
            for r in store.query("SELECT 'reply' AS what, id, claimed_by, claimed_until FROM replies WHERE"
                                 " state = 'approved' AND claimed_by IS NOT NULL AND claimed_until <= db_now()"
                                 " UNION ALL SELECT 'ticket', id, claimed_by, claimed_until FROM actions WHERE"
                                 " (state = 'pending' OR close_state = 'pending') AND claimed_by IS NOT NULL AND"
                                 " claimed_until <= db_now() ORDER BY 1, 2")]


def replica_health(store: Store) -> dict[str, Any]:
    """Live replicas, who holds which lease, replicas running different config or rules, and the sources cron
    passes left alone in the last hour as polled by another replica (`cron_taken`: never silent)."""
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
                     for r in live], "leases": leases, "claims": respond_claims(store, names),
            "cron_taken": taken_recently(store), **listed(found)}


def respond_claims(store: Store, alive: set[str]) -> list[dict[str, Any]]:
    """Replies and tickets a replica is posting or opening right now (its claim running on the database clock):
    one claimed by a replica that is gone waits for the claim to lapse, and `monitor status` says so."""
    return [{"name": f"{r['what']}:{r['id']}", "holder": r["claimed_by"], "holder_alive": r["claimed_by"] in alive,
             "until": iso(r["claimed_until"])}
            for r in store.query("SELECT 'reply' AS what, id, claimed_by, claimed_until FROM replies WHERE"
                                 " state = 'approved' AND claimed_until > db_now() UNION ALL SELECT 'ticket', id,"
                                 " claimed_by, claimed_until FROM actions WHERE claimed_until > db_now()"
                                 " AND (state = 'pending' OR close_state = 'pending') ORDER BY 1, 2")]


def assemble(store: Store, now: float, sources: list[dict[str, Any]], outbox: dict[str, Any],
              routing: dict[str, Any], configured: list[dict[str, str]],
              open_alerts: list[dict[str, Any]] | None = None, unaccent: str = "required") -> dict[str, Any]:
    """The report from its parts; `issues` are the problems as data (kind, text, detail, source), `problems`
    their texts, as `monitor status` prints them. `unaccent`: `storage.unaccent` (see `search_health`)."""
    replicas = replica_health(store)
    search = search_health(store, unaccent)
    responses = response_health(store, now)
    issues = [problem(k, d, f"source {s['id']}: ") | {"source": s["id"]}
              for s in sources for k, d in zip(s["problem_kinds"], s["problems"], strict=True)]
    issues += parts_found("outbox: ", outbox) + config_found(store) + configured
    issues += parts_found("search: ", search) if search else []
    issues += parts_found("replicas: ", replicas) + parts_found("actions: ", responses) + parts_found("routing: ", routing)
    open_row = store.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM alerts WHERE state = 'open'") or {}
    return {"healthy": not issues, "problems": [p["text"] for p in issues], "issues": issues, "sources": sources,
            "outbox": outbox, "routing": routing, "responses": responses, "replicas": replicas, "search": search,
            "open_alerts": open_alerts_by_owner(store, open_alerts),
            "unacknowledged": {"count": open_row.get("n", 0), "oldest": iso(open_row.get("oldest"))}}


__all__ = ["ROUTE_FAILURES_SQL", "assemble", "config_found", "config_problems", "interrupted", "latest_failures",
           "open_alerts_by_owner", "outbox_health", "replica_health", "response_health", "route_failures", "routing_health", "routing_paused", "search_health"]
