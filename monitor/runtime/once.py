"""Cron mode (`monitor run --once`): one complete pass from an `App`, then exit: leftovers routed, every source
polled once through the daemon's own bounded pool, streams caught up, what is due delivered within a budget.
Held under the run lock by its caller, like the daemon, so two never share a database.
"""

from __future__ import annotations

import logging
from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held
from monitor.core.clock import Clock
from monitor.notify.outbox import Outbox
from monitor.runtime.app import App, inbound_sources, stream_runners
from monitor.runtime.poller import PollOutcome
from monitor.runtime.streams import run_streams_once
from monitor.sources import is_stream
from monitor.store import retention

log = logging.getLogger("monitor.runtime.daemon")     # the daemon's log lines keep their logger


def run_once(app: App, *, delivery_budget_s: float = 120.0, workers: int | None = None) -> dict[str, Any]:
    """Cron mode: finish leftovers, poll every source once, route, deliver what is due, exit.

    On PostgreSQL, cron on several boxes shares the work: a source another replica finished polling within half
    its `every` is left alone and counted in `taken` (each logged), so two boxes firing together, or one a few
    seconds late, fetch each source once per interval. SQLite (one box): every pass polls every source.

    The polls go through the daemon's own bounded, host-aware pool (`daemon.max_concurrent_polls` workers,
    `workers` overrides it), so 5,000 sources finish a round as fast as the per-host limits allow.
    """
    app.mark_loaded()
    app.pipeline.process_pending()
    app.poller.scheduled = False     # cron's own interval is the schedule: every pass polls every source (replicas:
    #                                  but one another box polled within half its `every`, see PollTurns.begin_once)
    sources = [s for s in app.config.sources if s.enabled and not is_stream(s)]
    results = app.dispatcher(app.poll_source, max_concurrent=workers).run_round(sources)
    outcomes = [o if o is not None else PollOutcome(s.id, False, error="poll crashed (see the log)")
                for s, o in zip(sources, results, strict=True)]
    streamed = run_streams_once(stream_runners(app))        # each stream catches up from its saved cursor, bounded in time
    if inbound_sources(app):
        log.warning("inbound sources only receive while the daemon runs (`monitor run`); --once does not listen")
    app.pipeline.process_pending()
    app.queue_digests()
    app.weekly_report()
    app.tick(flush_waiting=True)         # the pass was the batch: no group_wait across cron runs
    app.replies.release_leases()         # SQLite only (the run lock: a claim left by a killed run is stale); on
    app.actions.release_leases()         # PostgreSQL another box may be posting it now: its claim lapses alone
    responded = app.respond_once()
    sent = drain(app.outbox, app.clock, delivery_budget_s)
    app.outbox.release_leases()          # replicas: another box's pass may send there now, not a TTL later
    retention.run_if_due(app.store, app.config.storage.retention)
    app.metrics.write_textfile(app.config.metrics)
    return {"polled": sum(o.ok for o in outcomes) + sum(o.ok for o in streamed),
            "failed": sum(bool(o.error) for o in outcomes) + sum(bool(o.error) for o in streamed),
            "new_mentions": sum(o.new for o in outcomes) + sum(o.new for o in streamed), "sent": sent,
            "streams": len(streamed),
            "skipped": {o.source_id: o.skipped for o in outcomes if o.skipped},
            "taken": sum(o.taken is not None for o in outcomes),
            "held": count_held(app.rules, list_alerts(app.store, only_open=True, limit=100_000), app.clock.now()),
            **responded}


def drain(outbox: Outbox, clock: Clock, budget_s: float) -> int:
    """Send until nothing is due within the budget (per-channel pacing and Retry-After included)."""
    deadline = clock.now() + budget_s
    sent = 0
    while clock.now() < deadline and not outbox.halted and not outbox.stalled:
        sent += outbox.run_once()
        wait = outbox.next_due_in()
        if wait is None or clock.now() + wait > deadline:
            break
        clock.sleep(min(max(wait, 0.05), outbox.interval, max(0.0, deadline - clock.now())))
    return sent
