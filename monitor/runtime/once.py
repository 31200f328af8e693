"""Cron mode (`monitor run --once`): one complete pass from an `App`, then exit: leftovers routed, every source
polled once through the daemon's own bounded pool, streams caught up, what is due delivered within a budget.
Held under the run lock by its caller, like the daemon, so two never share a database.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held
from monitor.core.clock import Clock
from monitor.core.durations import format_duration
from monitor.notify.outbox import Outbox
from monitor.runtime.app import App, inbound_sources, stream_runners
from monitor.runtime.poller import PollOutcome
from monitor.runtime.streams import run_streams_once
from monitor.sources import is_stream
from monitor.store import retention
from monitor.store.poll_turns import cron_interval

log = logging.getLogger("monitor.runtime.daemon")     # the daemon's log lines keep their logger
UNPOLLED = "stopped by a signal before its poll ended: the next pass polls it"


def run_once(app: App, *, delivery_budget_s: float = 120.0, workers: int | None = None,
             stop: threading.Event | None = None) -> dict[str, Any]:
    """Cron mode: finish leftovers, poll every source once, route, deliver what is due, exit.

    On PostgreSQL, cron on several boxes shares the work: a source another replica finished polling within half
    the cron interval (`daemon.cron_interval`, else its `every`, said in the log) is left alone and counted in
    `taken` (each logged), so two boxes firing together, or one a few seconds late, fetch each source once per
    interval. SQLite (one box): every pass polls every source.

    The polls go through the daemon's own bounded, host-aware pool (`daemon.max_concurrent_polls` workers,
    `workers` overrides it), so 5,000 sources finish a round as fast as the per-host limits allow. `stop` set
    (SIGTERM, see `stop_on_signals`): no new poll starts, those in progress get `daemon.drain_timeout`; the
    stages after the polls that have not begun are skipped, streams, replies and deliveries in progress end
    between two items (`Stages`), all of it left to the next pass and said; the metrics textfile is still
    written and the caller lets every lease go. A cron pass is killed at every deploy: it must go within the
    drain bound and leave nothing half done that the next pass cannot finish exactly once.
    """
    stop = stop or threading.Event()
    app.mark_loaded()
    app.pipeline.process_pending()
    app.poller.scheduled = False     # cron's own interval is the schedule: every pass polls every source (replicas:
    #                                  but one another box polled within half the interval, see PollTurns.begin_once)
    sources = [s for s in app.config.sources if s.enabled and not is_stream(s)]
    app.poller.cron_interval = cron_window(app, sources)
    results = app.dispatcher(app.poll_source, max_concurrent=workers).run_round(
        sources, stop=stop, drain_s=app.config.daemon.drain_timeout, patience=app.poller.cron_interval)
    outcomes = [o if o is not None else PollOutcome(s.id, False, skipped=UNPOLLED) if stop.is_set()
                else PollOutcome(s.id, False, error="poll crashed (see the log)")
                for s, o in zip(sources, results, strict=True)]
    later = Stages(stop)
    streamed = run_streams_once(stream_runners(app), stop) if later.runs("streams", cut=True) else []
    if inbound_sources(app):
        log.warning("inbound sources only receive while the daemon runs (`monitor run`); --once does not listen")
    if later.runs("routing"):
        app.pipeline.process_pending()
        app.queue_digests()
        app.weekly_report()
        app.tick(flush_waiting=True)     # the pass was the batch: no group_wait across cron runs
    app.replies.release_leases()         # SQLite only (the run lock: a claim left by a killed run is stale); on
    app.actions.release_leases()         # PostgreSQL another box may be posting it now: its claim lapses alone
    responded = app.respond_once(stop.is_set) if later.runs("responders", cut=True) else {"actions": 0, "replies": 0}
    sent = drain(app.outbox, app.clock, delivery_budget_s, stop) if later.runs("deliveries", cut=True) else 0
    app.outbox.release_leases()          # replicas: another box's pass may send there now, not a TTL later
    if later.runs("retention"):
        retention.run_if_due(app.store, app.config.storage.retention)
    app.metrics.write_textfile(app.config.metrics)      # what this pass did, stopped or not
    every = [*outcomes, *streamed]
    summary = {
        "polled": sum(o.ok for o in every), "failed": sum(bool(o.error) for o in every),
        "new_mentions": sum(o.new for o in every), "sent": sent, "streams": len(streamed),
        "skipped": {o.source_id: o.skipped for o in outcomes if o.skipped},
        "taken": sum(o.taken is not None for o in outcomes), "stopped": stop.is_set(),
        "held": count_held(app.rules, list_alerts(app.store, only_open=True, limit=100_000), app.clock.now()),
        "cron_interval": app.config.daemon.cron_interval, **responded}
    if stop.is_set():
        summary |= later.said(unpolled=sum(o.skipped == UNPOLLED for o in outcomes))
    return summary


class Stages:
    """The stages of a pass after its polls, in order, and which of them a signal left to the next pass: each
    can wait, as what it works on is stored (mentions, cursors, alerts, the outbox) and each is idempotent, so
    the next pass does them once. Skipped: not begun once the signal came; cut short: streams, replies and
    deliveries stop between two items (a stream's reading is stored up to its cursor, a send in progress ends)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.skipped: list[str] = []
        self.cut: list[str] = []
        self._cuttable: str | None = None

    def runs(self, stage: str, *, cut: bool = False) -> bool:
        """Whether `stage` runs now (no signal yet); called in order, so it also ends the previous one."""
        self._end()
        if self.stop.is_set():
            self.skipped.append(stage)
            return False
        self._cuttable = stage if cut else None
        return True

    def _end(self) -> None:
        if self._cuttable and self.stop.is_set():
            self.cut.append(self._cuttable)
        self._cuttable = None

    def said(self, unpolled: int) -> dict[str, Any]:
        """Log what the signal left to the next pass, in one line; the summary's `stages_skipped`/`_cut_short`."""
        self._end()
        left = ([f"{unpolled} poll(s) not started"] if unpolled else []) \
            + ([f"skipped {', '.join(self.skipped)}"] if self.skipped else []) \
            + ([f"cut short {', '.join(self.cut)}"] if self.cut else [])
        if left:
            log.warning("stopped by a signal: %s; the next pass does them (what they need is stored: nothing lost,"
                        " nothing done twice)", "; ".join(left))
        else:
            log.warning("stopped by a signal during the pass's last stage: nothing is left to the next pass")
        return {"stages_skipped": self.skipped, "stages_cut_short": self.cut}


def cron_window(app: App, sources: list[Any]) -> float | None:
    """The cron interval the poller is given (`poll_turns.cron_interval` decides it), said in the log on a
    shared store (replicas), where it decides which sources another box has just polled; assumed from the
    sources' `every`, a warning when they differ (they cannot all be it). `monitor check` says the same."""
    decided = cron_interval(app.config.daemon.cron_interval, [float(s.every) for s in sources])
    if not app.store.shared or not sources:
        return decided.interval
    if decided.rests_on == "daemon.cron_interval":
        assert decided.interval is not None and decided.window is not None
        log.info("cron on replicas: a source another replica polled within %s (half of daemon.cron_interval %s) is"
                 " left to it", format_duration(decided.window), format_duration(decided.interval))
    elif not decided.disagreement:
        assert decided.window is not None
        log.info("cron on replicas: daemon.cron_interval is unset, so the cron interval is assumed to be the"
                 " sources' `every` (%s): a source another replica polled within %s is left to it",
                 ", ".join(map(format_duration, decided.everys)), format_duration(decided.window))
    else:
        log.warning("cron on replicas: daemon.cron_interval is unset, so each source's `every` is assumed to be the"
                    " cron interval, but they differ (%s): a source another replica polled within half its `every`"
                    " is left to it; set daemon.cron_interval to how often cron runs this",
                    ", ".join(map(format_duration, decided.disagreement)))
    return decided.interval


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT stop a `--once` pass cleanly (see `run_once`); a second one exits at once (its leases then
    lapse after `storage.lease_ttl`). Returns the function that puts the previous handlers back."""
    def on_stop(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now; this pass's leases lapse by themselves", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(1)
        stop.set()                    # said by run_once when it sees it (nothing is logged from a signal handler)

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return restore


def drain(outbox: Outbox, clock: Clock, budget_s: float, stop: threading.Event | None = None) -> int:
    """Send until nothing is due within the budget (per-channel pacing and Retry-After included), or `stop`."""
    deadline = clock.now() + budget_s
    sent = 0
    while clock.now() < deadline and not outbox.halted and not outbox.stalled and not (stop and stop.is_set()):
        sent += outbox.run_once()
        wait = outbox.next_due_in()
        if wait is None or clock.now() + wait > deadline:
            break
        clock.sleep(min(max(wait, 0.05), outbox.interval, max(0.0, deadline - clock.now())))
    return sent
