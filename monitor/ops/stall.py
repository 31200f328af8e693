"""Routing stalled: mentions due for routing wait and nothing is routed, read from the store alone.

`routing_paused` is written by the daemon when a pass stops uncounted (`monitor.runtime.pauses`), so it cannot be
written when the store cannot be written at all: SQLite locked by another process for the whole pass, a
PostgreSQL replica cut off from the server. Then the pending mentions piled up and `monitor status` said nothing.
This check needs no write of the daemon's: it reads what the tables already hold (`mentions`: pending, parked,
backoff, routed; `replicas`: who runs, since when, on which host and pid) and says `routing_stalled` when

- routable mentions (not routed, not parked, their retry due) exist and the oldest has waited more than
  ROUTING_STALL_S (since it was collected, or since its retry came due),
- no mention at all was routed in that time (a backlog being worked through is not a stall),
- no `routing_paused` row already explains it (that problem says more: its cause and reason),
- and a daemon is meant to be running (`running_daemons`). A daemon that is simply not running routes nothing
  and is already a problem: its sources are overdue (`source_overdue`, or `stream_down` for a stream), so this
  one stays quiet rather than say the same thing twice.

Quiet hours hold alert *messages* (they are not queued until the window ends: `alerting.quiet`), never the
routing of mentions, so nothing they hold is counted here: a mention is routed and its alert opened during quiet
hours as at any other time.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from monitor.core.clock import iso
from monitor.core.durations import format_duration
from monitor.ops.problems import problem
from monitor.store.database import Store
from monitor.store.leases import REPLICA_LIVE_S

ROUTING_STALL_S = 900.0
"""How long the oldest routable mention may wait, with nothing routed meanwhile, before routing is said to have
stalled. Why 15 minutes: a routing pass runs after every poll and every stream batch (seconds apart); a
PostgreSQL step waits 30 s at most for a connection and the pool reconnects within 2 s of the server's return;
a pass over a cold backlog routes its first mentions within a minute. A quarter of an hour with routable mentions
and not one routed is no backlog and no blip, and still far sooner than a comms team would notice alerts missing."""

ROUTABLE = ("processed_at IS NULL AND route_parked_at IS NULL AND (route_retry_at IS NULL OR route_retry_at <= ?)")


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def running_daemons(store: Store, now: float) -> list[dict[str, Any]]:
    """The daemons meant to be running, from `replicas` (each `monitor run` registers there, on SQLite too): not
    stopped cleanly, and either seen within REPLICA_LIVE_S (its heartbeat works), or on this host with its pid
    alive (it runs but cannot write: SQLite locked), or on another host (cut off from the database, or killed
    without a clean stop: from here the two look the same, and either way its routing stopped unannounced).
    A row of this host whose pid is gone is a daemon killed: not running (its sources say so)."""
    here = socket.gethostname()
    out = []
    for r in store.query("SELECT id, hostname, pid, seen_at FROM replicas WHERE stopped_at IS NULL ORDER BY id"):
        live = r["seen_at"] is not None and r["seen_at"] > now - REPLICA_LIVE_S
        if live or r["hostname"] != here or _alive(r["pid"]):
            out.append({"replica": r["id"], "seen_at": iso(r["seen_at"]), "live": live})
    return out


def routing_stalled(store: Store, now: float, paused: bool) -> dict[str, Any] | None:
    """The stall (module doc) as a record with its problem (kind `routing_stalled`), None when there is none.
    `paused`: a live `routing_paused` row is shown already. Reads indexes only, never the whole table: the count
    over the pending mentions (partial index `mentions_unprocessed`) and, when the oldest has waited too long, the
    last routing time (`mentions_processed`, schema v18; before it, MAX(processed_at) read every mention)."""
    if paused:
        return None
    row = store.one(f"SELECT COUNT(*) AS n, MIN(CASE WHEN route_retry_at > collected_at THEN route_retry_at ELSE"
                    f" collected_at END) AS oldest FROM mentions WHERE {ROUTABLE}", (now,)) or {}
    waiting, oldest = int(row.get("n") or 0), row.get("oldest")
    if not waiting or oldest is None or now - oldest <= ROUTING_STALL_S:
        return None
    last = (store.one("SELECT MAX(processed_at) AS at FROM mentions") or {}).get("at")
    if last is not None and last > now - ROUTING_STALL_S:
        return None                      # routing goes on: a backlog, not a stall
    daemons = running_daemons(store, now)
    if not daemons:
        return None                      # nothing runs: `source_overdue` / `stream_down` say so
    routed = f"the last mention was routed at {iso(last)}" if last is not None else "no mention was ever routed"
    who = ", ".join(d["replica"] + ("" if d["live"] else f" (last seen {d['seen_at']})") for d in daemons[:5])
    return {"waiting": waiting, "oldest": iso(oldest), "oldest_age_s": round(now - oldest, 1),
            "last_routed": iso(last), "daemons": daemons, "after_s": ROUTING_STALL_S,
            "problem": problem("routing_stalled", f"stalled: {waiting} mention(s) due for routing, the oldest waiting "
                               f"{format_duration(now - oldest)}, and {routed}, while a daemon is meant to run ({who}):"
                               " it cannot write to the database (SQLite locked by another process, or a replica cut"
                               " off from PostgreSQL), so it could not record a pause either; see its log",
                               "routing: ")}
