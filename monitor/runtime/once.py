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
from typing import Any, NamedTuple

from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held
from monitor.core.clock import Clock
from monitor.core.durations import format_duration
from monitor.notify.outbox import Outbox
from monitor.runtime.app import App, inbound_sources, stream_runners
from monitor.runtime.poller import PollOutcome
from monitor.runtime.streams import StreamOutcome, run_streams_once
from monitor.sources import is_stream
from monitor.store import retention
from monitor.store.poll_turns import cron_interval

ROUTE_SHARE = 0.5       # of the drain bound, routing goes on after a signal (daemon and pass): a poll finishing
#                         in the drain has its new mentions routed, as before round 23; a backlog of thousands is cut
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
    stages after the polls that have not begun are skipped, routing, streams, replies, deliveries and
    retention in progress end between two items (`Stages`), all of it left to the next pass and said; the
    metrics textfile is still written and the caller lets every lease go. A cron pass is killed at every deploy: it must go within the
    drain bound and leave nothing half done that the next pass cannot finish exactly once.
    """
    stop = stop or threading.Event()
    app.mark_loaded()
    app.pipeline.stop = stop             # routing ends between two mentions at the signal (`Pipeline.route_pending`),
    app.pipeline.stop_grace_s = ROUTE_SHARE * app.config.daemon.drain_timeout    # after the daemon's grace
    later = Stages(stop)
    later.ended("routing", app.pipeline.route_pending().cut)       # the leftovers of an earlier pass
    app.poller.scheduled = False     # cron's own interval is the schedule: every pass polls every source (replicas:
    #                                  but one another box polled within half the interval, see PollTurns.begin_once)
    sources = [s for s in app.config.sources if s.enabled and not is_stream(s)]
    app.poller.cron_interval = cron_window(app, sources)
    results = app.dispatcher(app.poll_source, max_concurrent=workers).run_round(    # `stop` set: starts none
        sources, stop=stop, drain_s=app.config.daemon.drain_timeout, patience=app.poller.cron_interval)
    outcomes = [o if o is not None else PollOutcome(s.id, False, skipped=UNPOLLED) if stop.is_set()
                else PollOutcome(s.id, False, error="poll crashed (see the log)")
                for s, o in zip(sources, results, strict=True)]
    streamed: list[StreamOutcome] = []
    if later.runs("streams"):
        streamed, cut = run_streams_once(stream_runners(app), stop)
        later.ended("streams", cut)
    if inbound_sources(app):
        log.warning("inbound sources only receive while the daemon runs (`monitor run`); --once does not listen")
    if later.runs("routing") and not later.ended("routing", app.pipeline.route_pending().cut):
        app.queue_digests()          # after the whole pass's mentions only: the next pass does them if routing
        app.weekly_report()          # was cut (a group announced now would miss the mentions not yet routed)
        app.tick(flush_waiting=True)     # the pass was the batch: no group_wait across cron runs
    app.replies.release_leases()         # SQLite only (the run lock: a claim left by a killed run is stale); on
    app.actions.release_leases()         # PostgreSQL another box may be posting it now: its claim lapses alone
    responded = {"actions": 0, "replies": 0}
    if later.runs("responders"):
        asked = Asked(stop)
        responded = app.respond_once(asked)
        later.ended("responders", asked.stopped)
    sent = 0
    if later.runs("deliveries"):
        sent, cut = deliver(app.outbox, app.clock, delivery_budget_s, stop)
        later.ended("deliveries", cut)
    app.outbox.release_leases()          # replicas: another box's pass may send there now, not a TTL later
    if later.runs("retention"):
        pruned = retention.run_if_due(app.store, app.config.storage.retention, stop=stop)
        later.ended("retention", bool(pruned and pruned.cut))
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
    """The stages of a pass, in order, and which of them a signal left to the next pass: each can wait, as what
    it works on is stored (mentions, cursors, alerts, the outbox) and each is idempotent, so the next pass does
    them once. Skipped: not begun once the signal came. Cut short: the stage itself says it stopped with work
    left (`ended`): routing and retention between two mentions or batches, streams, replies and deliveries
    between two items. Not the signal's timing: a stage that ran out of work just as the signal came left
    nothing (round 23: deliveries ended on their own were reported cut short when the signal came after them)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.skipped: list[str] = []
        self.cut: list[str] = []

    def runs(self, stage: str) -> bool:
        """Whether `stage` runs now (no signal yet); if not, it is skipped (unless it was cut short already:
        routing, whose leftovers come before the polls)."""
        if not self.stop.is_set():
            return True
        if stage not in self.cut and stage not in self.skipped:
            self.skipped.append(stage)
        return False

    def ended(self, stage: str, cut: bool) -> bool:
        """`stage` ended, `cut` if it stopped with work left (its own report); returns `cut`."""
        if cut and stage not in self.cut:
            self.cut.append(stage)
        return cut

    def said(self, unpolled: int) -> dict[str, Any]:
        """Log what the signal left to the next pass, in one line; the summary's `stages_skipped`/`_cut_short`."""
        left = ([f"{unpolled} poll(s) not started"] if unpolled else []) \
            + ([f"skipped {', '.join(self.skipped)}"] if self.skipped else []) \
            + ([f"cut short {', '.join(self.cut)}"] if self.cut else [])
        if left:
            log.warning("stopped by a signal: %s; the next pass does them (what they need is stored: nothing lost,"
                        " nothing done twice)", "; ".join(left))
        else:
            log.warning("stopped by a signal after the pass's work was done: nothing is left to the next pass")
        return {"stages_skipped": self.skipped, "stages_cut_short": self.cut}


class Asked:
    """`stopping` for the responders, which ask it before each ticket or reply: remembers whether it answered
    yes, that is whether a stop left one of them undone (their `run_once` returns only a count)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.stopped = False

    def __call__(self) -> bool:
        self.stopped = self.stopped or self.stop.is_set()
        return self.stopped


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


class Delivered(NamedTuple):
    """What `deliver` did: messages sent, and whether the stop ended it with messages still due in its budget."""

    sent: int
    cut: bool = False


def drain(outbox: Outbox, clock: Clock, budget_s: float, stop: threading.Event | None = None) -> int:
    """`deliver`, how many were sent (for the callers that need not know whether a stop cut it)."""
    return deliver(outbox, clock, budget_s, stop).sent


def deliver(outbox: Outbox, clock: Clock, budget_s: float, stop: threading.Event | None = None) -> Delivered:
    """Send until nothing is due within the budget (per-channel pacing and Retry-After included), or `stop`:
    then `cut` if a message was still due within the budget (one that would have gone in this pass)."""
    deadline = clock.now() + budget_s
    sent = 0
    while clock.now() < deadline and not outbox.halted and not outbox.stalled:
        if stop is not None and stop.is_set():
            wait = outbox.next_due_in()
            return Delivered(sent, cut=wait is not None and clock.now() + wait < deadline)
        sent += outbox.run_once()
        wait = outbox.next_due_in()
        if wait is None or clock.now() + wait > deadline:
            break
        clock.sleep(min(max(wait, 0.05), outbox.interval, max(0.0, deadline - clock.now())))
    return Delivered(sent)
