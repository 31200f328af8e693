"""The daemon (`monitor run`): start, schedule polls and timers, reload, stop on a signal and drain.

`App` (app.py) builds everything from the two files; `run_once` (once.py) is one complete pass for cron,
`run_daemon` the systemd daemon, whose jobs and loops are `DaemonLoops` (loops.py). Both modes hold the run
lock for their whole life, so two never share a database. `App`, `Paths`, `run_once`, `drain` and `runner_for`
stay importable from here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler

from monitor import __version__ as VERSION
from monitor.ops.systemd import Notifier
from monitor.runtime.app import App, Paths, runner_for, start_inbound, stream_runners
from monitor.runtime.liveconfig import ConfigChange
from monitor.runtime.loops import DaemonLoops
from monitor.runtime.once import ROUTE_SHARE, drain, run_once
from monitor.runtime.streams import StreamSupervisor
from monitor.sources import is_stream
from monitor.store.runlock import RunLock

log = logging.getLogger(__name__)
CLOSE_SHARE = 0.1          # of the stop's bound, kept for releasing leases and closing the store...
CLOSE_RESERVE_S = 1.0      # ...but never more than this: those take milliseconds when the database answers


class Daemon(DaemonLoops):
    """`monitor run`: polls on a bounded dispatcher, timers on APScheduler, a delivery loop, SIGHUP, SIGTERM.

    Scheduling choices, on purpose:
    - polls run on `PollDispatcher` (`dispatch.py`): at most `daemon.max_concurrent_polls` worker threads
      however many sources there are, handed out oldest-due first and per host within the politeness limits;
      a source that never answers holds one worker until its fetch deadline, never the others';
    - a poll still running when its next slot comes is not overlapped by a second one; that slot is skipped,
      logged with the source id, and counted (`monitor_polls_overlapped_total`);
    - after a stall (suspend, clock jump) a source is polled once, not once per missed slot, and a late poll
      still runs however late: skipping it would only add a whole interval to a source already late;
    - schedule drift (start minus due) is a histogram, `monitor_poll_schedule_drift_seconds`.
    APScheduler keeps the housekeeping jobs (alert timers, retention, digests, the watchdog) on its own
    small pools, so they never queue behind polls.
    The systemd watchdog is pinged from a job of this same scheduler, so a stuck scheduler loop (or a stalled
    delivery loop) stops the pings and systemd restarts the daemon.
    """

    RETENTION_FIRST_S = 60.0     # the first retention check after the start (then hourly); tests shorten it

    def __init__(self, app: App, *, stagger_s: float = 5.0, notifier: Notifier | None = None,
                 drain_timeout: float | None = None, tick_s: float = 0.5):
        self.app = app
        self.tick_s = tick_s
        self.stop = threading.Event()
        self.stagger_s = stagger_s
        self.notifier = notifier or Notifier({})
        # the outbox stopping (or resuming) on a write it cannot make shows in `systemctl status` at once
        app.outbox.on_alarm = lambda: self.notifier.status(self.status_line())
        self.drain_timeout = app.config.daemon.drain_timeout if drain_timeout is None else drain_timeout
        app.pipeline.stop = self.stop            # routing (at start, after each poll) ends between two mentions
        app.pipeline.stop_grace_s = ROUTE_SHARE * self.drain_timeout    # once the drain has used this much of it
        self.running: dict[str, float] = {}      # source id -> monotonic start, for drain and status
        self.jobs: dict[str, float] = {}         # scheduler job id -> monotonic start: the drain waits for them too
        self.abandoned: list[str] = []           # still running when the drain bound passed
        self.stop_deadline = 0.0                 # monotonic; set by drain(): the whole stop ends by then
        self.deliver_heartbeat = time.monotonic()
        self._deliverer: threading.Thread | None = None
        self.streams: StreamSupervisor | None = None
        self.buttons: Any = None
        self.inbound: Any = None
        self._responder: threading.Thread | None = None
        self.polls = app.dispatcher(self._poll_source, on_overlap=self._overlapped)
        app.on_sources_changed = self.apply_sources
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(max_workers=4),
                       "housekeeping": APThreadPool(max_workers=2)},   # watchdog, retention, never behind polls
            job_defaults={"coalesce": True,          # a late job runs once, not once per missed slot
                          "max_instances": 1,        # a slow poll is never overlapped by its own next run
                          "misfire_grace_time": None},  # run late rather than skip, however late
            timezone="UTC")

    def schedule(self) -> None:
        now = datetime.now().astimezone()
        mono = time.monotonic()
        for i, source in enumerate(s for s in self.app.config.sources if s.enabled and not is_stream(s)):
            self.polls.add(source, mono + min(self.stagger_s, 0.2 * i))
        self._add_job(self._tick_job, "_alert-timers", seconds=self.tick_s, next_run_time=now)
        self._add_job(self._retention_job, "_retention", seconds=3600, executor="housekeeping",
                      next_run_time=now + timedelta(seconds=self.RETENTION_FIRST_S))
        interval = self.notifier.watchdog_interval
        if interval:
            self._add_job(self._watchdog_job, "_watchdog", seconds=interval, executor="housekeeping",
                          next_run_time=now)

    def _add_job(self, fn: Callable[[], object], job_id: str, **kw: Any) -> None:
        """Every scheduler job goes through `job` (loops.py), so the drain knows which are running and waits."""
        self.scheduler.add_job(self.job(job_id, fn), "interval", id=job_id, **kw)

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        self.app.mark_loaded()
        self.app.coord.register(config_hash(self.app.paths), VERSION)     # `monitor status` lists it
        self.app.pipeline.process_pending()
        self.schedule()
        self.app.metrics.serve(self.app.config.metrics)
        if self.app.config.slack.digest is not None:
            self._add_job(self.app.queue_digests, "_digest", seconds=60, next_run_time=datetime.now().astimezone())
        if self.app.config.report is not None:
            self._add_job(self.app.weekly_report, "_report", seconds=300, executor="housekeeping",
                          next_run_time=datetime.now().astimezone())
        self.scheduler.start()
        self.polls.start()
        self.streams = StreamSupervisor(stream_runners(self.app), self.stop)    # one supervised thread per stream source
        self.streams.start()
        from monitor.alerting.interactive import start_interactive
        from monitor.respond.slack import ReplyModal
        modal = ReplyModal(self.app.replies, os.environ.get(self.app.config.slack.token_env),
                           self.app.config.slack.api_url, self.app.config.slack.timeout)
        self.buttons = start_interactive(self.app.config.slack, self.app.store, self.app.clock, dict(os.environ),
                                         self.app.wake.set, modal.hooks())
        self.inbound = start_inbound(self.app)
        self._deliverer = threading.Thread(target=self.deliver_loop, name="deliver", daemon=True)
        self._deliverer.start()
        self._responder = threading.Thread(target=self.respond_loop, name="respond", daemon=True)
        self._responder.start()
        log.info("daemon started", extra={"sources": len(self.app.config.sources), "db": self.app.db_path})
        self.notifier.ready(self.status_line())
        if on_ready:
            on_ready()
        self.stop.wait()
        self.drain()

    def drain(self) -> None:
        """Stop polling and the scheduler, let current polls, scheduler jobs (alert timers, retention, digests, the
        weekly report, the watchdog: `jobs`), sends, tickets and streams finish, release the leases: all of it
        within the one bound `drain_timeout`, then return regardless (the store is closed after, by the caller).

        One deadline, shared: each phase waits only for what is left of it (before round 21 the streams' join
        and the store's close came after the drain with bounds of their own, 10 s and 5 s, so a stop could take
        the bound plus 15 s). The streams are told to stop first, so they flush their batch and cursor while the
        polls and sends finish. The last CLOSE_SHARE of the bound (at most CLOSE_RESERVE_S) is kept for
        releasing the leases and closing the store (`close_budget`). Every write is a transaction, so work
        still running at the bound is simply not committed: its mentions are fetched again on the next start
        (a cursor only moves with them), and an unsent message stays pending in the outbox. What was still
        running is named in one WARNING, never silent.
        """
        log.info("stopping: finishing current polls and writes", extra={
            "running": sorted(self.running), "drain_timeout_s": self.drain_timeout})
        self.notifier.stopping("draining: finishing current polls and writes")
        self.stop_deadline = time.monotonic() + self.drain_timeout
        self.app.pipeline.stop_noticed()     # routing's grace (ROUTE_SHARE) counts from here, if not already
        deadline = self.stop_deadline - min(CLOSE_RESERVE_S, CLOSE_SHARE * self.drain_timeout)

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        if self.streams is not None:
            self.streams.interrupt()         # each stream flushes its batch and saves its cursor, beside the rest
        if self.buttons is not None:
            self.buttons.stop()
        if self.inbound is not None:
            self.inbound.stop()
        self.scheduler.shutdown(wait=False)  # no job starts from now; those running are waited for below (`jobs`)
        self.polls.stop()
        self.app.wake.set()                  # the delivery and reply loops see the stop now, not after the polls
        self.app.respond_wake.set()
        while (self.running or self.jobs) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._deliverer is not None:
            self._deliverer.join(timeout=left())
        if self._responder is not None:
            self._responder.join(timeout=left())     # it wakes at once when idle
        streams = self.streams.join(left()) if self.streams is not None else []
        self.abandoned = sorted(self.running) + [f"job:{j}" for j in sorted(self.jobs)] + (["deliver"] if self._deliverer and self._deliverer.is_alive()
                                                 else []) + (["respond"] if self._responder and
                                                             self._responder.is_alive() else []) + streams
        self.app.outbox.release_leases()
        self.app.coord.stop()                # leases let go now: the other replicas take over at once
        if self.abandoned:
            log.warning("drain bound reached: abandoning unfinished work, none of it committed; it is redone on the"
                        " next start", extra={"abandoned": self.abandoned, "drain_timeout_s": self.drain_timeout})
        unfinished = self.left_for_next_start()
        if unfinished:
            log.warning("stopped; left for the next start: %s (stored: nothing lost, each done once then)",
                        "; ".join(unfinished))
        else:
            log.info("stopped")

    def close_budget(self) -> float:
        """What is left of the stop's bound for closing the store (its lease thread, the pool's workers)."""
        return max(0.0, self.stop_deadline - time.monotonic()) if self.stop_deadline else self.drain_timeout

    def reload(self) -> None:
        """SIGHUP: both files, config first (rules may name owners and sources it does not)."""
        self.notifier.reloading()
        try:
            self.app.reload("config")
            self.app.reload("rules")
        finally:
            self.notifier.ready(self.status_line())

    def apply_sources(self, change: ConfigChange) -> None:
        """Polled sources added, removed or changed in monitor.yaml, on the running schedule."""
        for sid in change.removed:
            self.polls.remove(sid)
        for source in change.changed:
            self.polls.update(source)
        for source in change.added:
            self.polls.add(source, time.monotonic())

    def install_signals(self) -> None:
        def on_stop(signum: int, _frame: object) -> None:
            if self.stop.is_set():          # a second Ctrl-C / SIGTERM: the operator does not want to wait
                log.warning("second %s: exiting now without draining", signal.Signals(signum).name)
                logging.shutdown()
                os._exit(1)
            self.stop.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=self._sighup, name="reload",
                                                                  daemon=True).start())

    def _sighup(self) -> None:
        self.app.watcher.mark_current()     # the watcher must not report this change a second time
        self.reload()


def config_hash(paths: Paths) -> str:
    """A digest of the config and rules files, so `monitor status` can flag replicas that disagree."""
    h = hashlib.sha256()
    for p in (paths.config, paths.rules):
        try:
            h.update(Path(p).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()[:12]


def run_daemon(paths: Paths, notifier: Notifier | None = None) -> int:
    app = App(paths)
    with RunLock(app.db_path):
        daemon = Daemon(app, notifier=notifier or Notifier())
        daemon.install_signals()
        try:
            daemon.run()
        finally:
            app.close(timeout=daemon.close_budget())
            daemon.notifier.close()
    if daemon.abandoned:
        # Worker threads stuck in a fetch would keep the interpreter alive until their own timeouts; nothing
        # of theirs can be committed any more (the store is closed), so leave now, within the bound.
        logging.shutdown()
        os._exit(0)
    return 0


# moved to app.py and once.py; their importers (the CLI, the demo, the tests) keep these names from here
__all__ = ["App", "Daemon", "Paths", "config_hash", "drain", "run_daemon", "run_once", "runner_for"]
