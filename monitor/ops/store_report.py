"""The report a dashboard started without monitor.yaml shows (`monitor ui` on a store alone, the benchmark):
what the store records, and what it could not check.

Apart from `health` because it knows less and must say so: no schedules (nothing overdue), no stream grace
period, no Slack mode, no weekly report (NEEDS_CONFIG); `healthy` is None, never True, when nothing is found.
"""

from __future__ import annotations

from typing import Any

from monitor.core.clock import iso
from monitor.ops.checks import assemble, outbox_health, routing_health
from monitor.ops.problems import problem, source_record
from monitor.store.database import Store

# what `store_report()` cannot check without monitor.yaml (the dashboard started on a store alone)
NEEDS_CONFIG = ("sources not polled on schedule", "streams disconnected", "sources failing below their own "
                "alert threshold", "Slack mode", "the weekly report")


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
        out.append(source_record(r["id"], r["kind"], r, found, failing=failing, enabled=True, every=None,
                                  next_run=iso(r.get("next_run")), not_polled_for_s=None))
    return out


def store_report(store: Store, now: float, open_alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the store alone knows, for a dashboard started without monitor.yaml: sources disabled or failing
    as recorded, Slack delivery halted or stuck (default `stuck_after`), mentions parked, config reloads,
    replicas, actions. `complete` False and `skipped` (NEEDS_CONFIG) say what could not be checked, so a
    reader never takes "no problem found" for "healthy". `open_alerts`: as `open_alerts_by_owner`."""
    rep = assemble(store, now, recorded_sources(store), outbox_health(store, now), routing_health(store, None, now), [],
                    open_alerts)
    return rep | {"healthy": False if rep["issues"] else None, "weekly_report": None, "complete": False,
                  "skipped": list(NEEDS_CONFIG)}


__all__ = ["NEEDS_CONFIG", "recorded_sources", "store_report"]
