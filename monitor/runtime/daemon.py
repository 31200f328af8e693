"""The daemon and cron mode: wire config and rules into stages, schedule polls, deliver, reload, drain.

`App` builds everything from the two files; `run_once` is one complete pass for cron, `run_forever` the
systemd daemon. Both hold the run lock for their whole life, so two never share a database.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler

from monitor import __version__ as VERSION
from monitor.alerting.lifecycle import list_alerts
from monitor.alerting.quiet import count_held, quiet_banner
from monitor.alerting.tick import tick
from monitor.analyse.analyzer import Analyzer
from monitor.analyse.routing import Router
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import Config, load_config
from monitor.core.clock import Clock, SystemClock
from monitor.core.errors import ConfigError, StorageError
from monitor.notify.blockkit import escape, plain_message
from monitor.notify.outbox import ConsoleSender, Outbox, Sender, SlackSender
from monitor.ops.metrics import Metrics
from monitor.ops.systemd import Notifier
from monitor.respond.replies import ReplyService
from monitor.respond.tickets import ActionService
from monitor.runtime.dispatch import PollDispatcher
from monitor.runtime.liveconfig import ConfigChange, LiveReload
from monitor.runtime.pipeline import Pipeline
from monitor.runtime.poller import Poller, PollOutcome
from monitor.runtime.reload import ReloadWatcher, ReportedOnce, record_state
from monitor.runtime.streams import StreamRunner, StreamSupervisor, run_streams_once
from monitor.sources import REGISTRY, CollectResult, SourceOptions, StreamOptions, is_stream
from monitor.sources.fetch import limiter_of, make_client
from monitor.store import retention
from monitor.store.database import RunLock, Store
from monitor.store.leases import Coordinator

log = logging.getLogger(__name__)


@dataclass
class Paths:
    config: str = "config/monitor.yaml"
    rules: str = "rules.yaml"
    db: str | None = None


class App(LiveReload):
    """Everything the daemon needs, built from validated config; both files can be reloaded while running
    (`LiveReload`, in liveconfig.py)."""

    def __init__(self, paths: Paths, *, clock: Clock | None = None, sender: Sender | None = None,
                 transport: httpx.BaseTransport | None = None, config: Config | None = None,
                 rules: Rules | None = None):
        self.paths = paths
        self.clock = clock or SystemClock()
        self.config = config or load_config(paths.config)
        self.rules = rules or load_rules(paths.rules)
        self.db_path = self.config.db_path(paths.db)
        self.store = Store(self.db_path, self.clock, idle_in_transaction=self.config.lease_ttl)
        self.coord = Coordinator.of(self.store)       # replicas: leases, heartbeat, identity
        self.coord.ttl = self.config.lease_ttl
        self._analyzer = Analyzer(self.config, Router(self.rules))
        self._own_sender = sender is None         # an injected sender (tests) is never swapped on reload
        self.sender = sender or self._default_sender()
        self.metrics = Metrics(self.db_path)
        self.metrics.config_reloaded(True, self.clock.now())
        self.outbox = Outbox(self.store, self.metrics.wrap_sender(self.sender), self.clock,
                             self.config.slack.per_channel_interval, fallback=self.rules.default_targets,
                             stuck_after=self.config.slack.stuck_after)
        self._started = int(self.clock.now())
        if self.rules.quiet_hours:             # said loudly at every start: held alerts must never be a surprise
            log.warning("quiet hours: %s", quiet_banner(self.rules, self.clock.now()))
        self.wake = threading.Event()        # set when new deliveries are queued
        self.pipeline = Pipeline(self.store, lambda: self._analyzer, on_alert=lambda _id: self.wake.set())
        self.client = make_client(self.config.http, transport,
                                  max_connections=self.config.daemon.max_concurrent_polls)
        self.poller = Poller(self.store, self.pipeline, self.client, self.clock, self.config.http,
                             lambda: self.rules.default_targets)
        self.watcher = ReloadWatcher({"config": paths.config, "rules": paths.rules}, self.reload,
                                     now=self.clock.now)
        self._reported = ReportedOnce()
        self.on_sources_changed: Callable[[ConfigChange], None] | None = None   # the daemon's poll schedule
        self.check_database()
        self.respond_wake = threading.Event()   # set when a reply or an action may be due
        self.replies = ReplyService(self.store, lambda: self.rules, self.config, self.clock,
                                    wake=self._respond_changed)
        self.actions = ActionService(self.store, lambda: self.rules, self.clock, wake=self._respond_changed)

    def _respond_changed(self) -> None:
        self.respond_wake.set()
        self.wake.set()                      # thread notes and root updates were queued

    def respond_once(self) -> dict[str, int]:
        """Tickets for new alerts (and closes for resolved ones), then replies that are due."""
        return {"actions": self.actions.run_once(), "replies": self.replies.run_once()}

    def next_respond_in(self) -> float | None:
        waits = [w for w in (self.actions.next_due_in(), self.replies.next_due_in()) if w is not None]
        return min(waits) if waits else None

    def check_database(self) -> None:
        """`PRAGMA quick_check` at start: a corrupted database stops the start with one line and a message to
        the default owner sent directly (the outbox lives in that database), instead of every poll failing
        with "database disk image is malformed" and nobody told."""
        problem = self.store.quick_check()
        if problem is None:
            self.metrics.store_collector.checked(problem)    # /metrics (and --once's textfile) need not check again
            return
        log.critical("cannot start: %s", problem)
        for target in self.rules.default_targets:
            try:
                self.sender.post(target.channel, plain_message(
                    f":rotating_light: mention-monitor cannot start: {escape(problem)}", target))
            except Exception as exc:  # noqa: BLE001 - best effort: the log line and the exit status remain
                log.error("could not tell %s: %s", target.channel, exc)
        self.close()
        raise StorageError(problem)

    def _default_sender(self, config: Config | None = None) -> Sender:
        """Terminal only when chosen (`slack.mode: terminal`); a missing secret is a config error, never a
        silent fallback that looks healthy while alerts reach nobody."""
        slack = (config or self.config).slack
        if slack.mode == "terminal":
            log.warning("slack.mode is terminal: alerts are printed here and sent to nobody")
            return ConsoleSender()
        if slack.mode == "webhook":
            url = os.environ.get(slack.webhook_url_env)
            if not url:
                raise ConfigError(f"slack.mode is webhook but ${slack.webhook_url_env} is not set (or its credential "
                                  "file is unreadable); set it, or choose `slack.mode: terminal` to print alerts")
            from monitor.notify.webhook import WebhookSender
            return WebhookSender(url, slack.timeout)
        token = os.environ.get(slack.token_env)
        if not token:
            raise ConfigError(f"no Slack token in ${slack.token_env} (nor a readable credential file of that name): "
                              "alerts would reach nobody; set it, or choose `slack.mode: terminal` in "
                              f"{self.paths.config} to print alerts to the terminal")
        return SlackSender(token, slack.api_url, slack.timeout)

    def mark_loaded(self) -> None:
        """Both files loaded whole at start (called under the run lock: a second process refused by the lock
        must not overwrite what the running one recorded)."""
        for which, path in (("config", self.paths.config), ("rules", self.paths.rules)):
            record_state(self.store, which, path, True, None, self.clock.now())

    @property
    def analyzer(self) -> Analyzer:
        return self._analyzer

    def queue_digests(self) -> int:
        """Today's per-owner digests, once their hour has come (idempotent: keyed by owner and day)."""
        if self.config.slack.digest is None:
            return 0
        from monitor.alerting.digest import queue_digests
        with Coordinator.of(self.store).holding("digests") as lease:     # one replica queues them
            if lease is None:
                return 0
            n = queue_digests(self.store, self.rules, self.config.slack.digest, self.clock.now(),
                              link=self.config.dashboard.url)
        if n:
            self.wake.set()
        return n

    def weekly_report(self) -> str | None:
        """The weekly report once its slot has come (idempotent: one `reports` row per week)."""
        if self.config.report is None:
            return None
        from monitor.ops.dashboard.schedule import run_weekly
        try:
            with Coordinator.of(self.store).holding("weekly-report") as lease:     # one replica posts it
                if lease is None:
                    return None
                return run_weekly(self.store, self.config, self.clock.now())
        except Exception:  # noqa: BLE001 - a report bug must not stop polling or alerting
            log.exception("weekly report failed; retrying at the next check")
            return None

    def tick(self, flush_waiting: bool = False) -> dict[str, int]:
        """Alert timers (spikes, group flushes, escalations, snoozes) from stored state and this clock."""
        out = tick(self.store, self.rules, list(self.config.brands), router=self._analyzer.router,
                   flush_waiting=flush_waiting)
        if any(out.values()):
            self.wake.set()
        return out

    def poll(self, source_id: str, force: bool = False) -> PollOutcome:
        return self.poll_source(self.config.source(source_id), force=force)

    def poll_source(self, source: SourceOptions, force: bool = False) -> PollOutcome:
        started = time.monotonic()
        outcome = self.poller.poll(source, force=force)
        self.metrics.observe_poll(source.id, time.monotonic() - started, ok=outcome.ok,
                                  not_modified=outcome.not_modified, skipped=bool(outcome.skipped))
        return outcome

    def dispatcher(self, poll: Callable[[SourceOptions], Any], *, max_concurrent: int | None = None,
                   on_overlap: Callable[[str], None] | None = None) -> PollDispatcher:
        """The bounded, host-aware poll pool both modes use (`dispatch.py` says why it is built this way)."""
        return PollDispatcher(poll, max_concurrent=max_concurrent or self.config.daemon.max_concurrent_polls,
                              per_host_concurrency=self.config.http.per_host_concurrency,
                              limiter=limiter_of(self.client), on_overlap=on_overlap,
                              on_drift=self.metrics.poll_drift.observe)

    def close(self) -> None:
        self.metrics.close()
        self.client.close()
        self.replies.close()
        self.actions.close()
        self.store.close()


def runner_for(app: App, source: StreamOptions) -> StreamRunner:
    """A stream's runner, given exactly what it needs (not the whole App); matcher and rules stay live."""
    return StreamRunner(app.store, app.pipeline, source, lambda: app.analyzer.matcher, app.clock, app.config.http,
                        lambda: app.rules.default_targets)


def stream_runners(app: App) -> list[StreamRunner]:
    """Every enabled stream source; push kinds (inbound) are served by their listener instead."""
    return [runner_for(app, s) for s in app.config.sources if s.enabled and isinstance(s, StreamOptions)
            and not getattr(REGISTRY[s.kind], "push", False)]


def inbound_sources(app: App) -> list[Any]:
    return [s for s in app.config.sources if s.enabled and getattr(REGISTRY[s.kind], "push", False)]


def start_inbound(app: App) -> Any:
    """The listener for `kind: inbound` sources: each delivery stored (then routed) before it is answered."""
    sources = inbound_sources(app)
    if not sources:
        return None
    from monitor.config.settings import split_listen
    from monitor.sources.health import record_success
    from monitor.sources.kinds.inbound import InboundListener

    def accept(source: Any, mention: Any) -> bool:
        new = app.pipeline.ingest(source, CollectResult(mentions=[mention]))
        record_success(app.store, source, app.rules.default_targets)
        if new:
            log.info("inbound delivery stored", extra={"source_id": source.id, "mention_id": new[0]})
            app.pipeline.process_batch(new)
            app.wake.set()
        return bool(new)

    host, port = split_listen(app.config.inbound.listen)
    try:
        return InboundListener(sources, host, port, app.config.inbound.max_body, accept).start()
    except OSError as exc:
        log.error("cannot listen on inbound.listen %s: %s; inbound sources receive nothing",
                  app.config.inbound.listen, exc)
        return None


def run_once(app: App, *, delivery_budget_s: float = 120.0, workers: int | None = None) -> dict[str, Any]:
    """Cron mode: finish leftovers, poll every source once, route, deliver what is due, exit.

    The polls go through the daemon's own bounded, host-aware pool (`daemon.max_concurrent_polls` workers,
    `workers` overrides it), so 5,000 sources finish a round as fast as the per-host limits allow.
    """
    app.mark_loaded()
    app.pipeline.process_pending()
    app.poller.scheduled = False            # cron's own interval is the schedule: every pass polls every source
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
    app.replies.release_leases()         # we hold the run lock: a lease left by a killed run is stale
    app.actions.release_leases()
    responded = app.respond_once()
    sent = drain(app.outbox, app.clock, delivery_budget_s)
    retention.run_if_due(app.store, app.config.storage.retention)
    app.metrics.write_textfile(app.config.metrics)
    return {"polled": sum(o.ok for o in outcomes) + sum(o.ok for o in streamed),
            "failed": sum(bool(o.error) for o in outcomes) + sum(bool(o.error) for o in streamed),
            "new_mentions": sum(o.new for o in outcomes) + sum(o.new for o in streamed), "sent": sent,
            "streams": len(streamed),
            "skipped": {o.source_id: o.skipped for o in outcomes if o.skipped},
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


class Daemon:
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

    DELIVERY_STALL_S = 600.0     # a delivery loop silent this long is stuck (each Slack call has a timeout)

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
        self.running: dict[str, float] = {}      # source id -> monotonic start, for drain and status
        self.abandoned: list[str] = []           # still running when the drain bound passed
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
        self.scheduler.add_job(self._tick_job, "interval", seconds=self.tick_s, id="_alert-timers",
                               next_run_time=now)
        self.scheduler.add_job(self._retention_job, "interval", hours=1, id="_retention", executor="housekeeping",
                               next_run_time=now + timedelta(seconds=60))
        interval = self.notifier.watchdog_interval
        if interval:
            self.scheduler.add_job(self._watchdog_job, "interval", seconds=interval, id="_watchdog",
                                   executor="housekeeping", next_run_time=now)

    def _tick_job(self) -> None:
        """Rules file changes, then alert timers; an error here is logged and the next tick tries again."""
        if self.stop.is_set():
            return
        try:
            self.app.watcher.check()
            self.app.tick()
        except Exception:  # noqa: BLE001 - a timer bug must not stop the scheduler
            log.exception("alert timers failed; retrying next tick")

    def _poll_source(self, source: SourceOptions) -> PollOutcome | None:
        return self._poll_job(source.id)      # the outcome may re-time the source (replicas: shared schedule)

    def _poll_job(self, source_id: str) -> PollOutcome | None:
        if self.stop.is_set():
            return None
        self.running[source_id] = time.monotonic()
        try:
            outcome = self.app.poll(source_id)
        except Exception:
            if self.stop.is_set():     # a poll abandoned by the drain ends against a closed store: expected
                log.debug("abandoned poll ended after shutdown", extra={"source_id": source_id})
                return None
            raise
        finally:
            self.running.pop(source_id, None)
        row = self.app.store.one("SELECT 1 FROM deliveries WHERE state = 'pending' LIMIT 1")
        if row:
            self.app.wake.set()
        return outcome

    def _overlapped(self, source_id: str) -> None:
        started = self.running.get(source_id)
        log.warning("poll skipped: the previous poll of this source is still running",
                    extra={"source_id": source_id,
                           "running_s": round(time.monotonic() - started, 1) if started else None})
        self.app.metrics.polls_overlapped.labels(source_id).inc()

    def _retention_job(self) -> None:
        if not self.stop.is_set():
            retention.run_if_due(self.app.store, self.app.config.storage.retention)

    def _watchdog_job(self) -> None:
        """Runs on the scheduler: no ping if the delivery loop is stuck, and none at all if the scheduler is."""
        silent = time.monotonic() - self.deliver_heartbeat
        if silent > self.DELIVERY_STALL_S:
            log.error("delivery loop silent for %ds: withholding the watchdog ping so systemd restarts the daemon",
                      int(silent))
            return
        self.notifier.watchdog(self.status_line())

    def status_line(self) -> str:
        """One line for `systemctl status` (STATUS=)."""
        try:
            failing = self.app.store.one("SELECT COUNT(*) AS n FROM sources WHERE consecutive_failures > 0"
                                         " OR disabled_reason IS NOT NULL") or {}
            pending = self.app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'") or {}
            opened = self.app.store.one("SELECT COUNT(*) AS n FROM alerts WHERE state = 'open'") or {}
        except Exception:  # noqa: BLE001 - a status line must never break the watchdog
            return "running"
        enabled = sum(1 for s in self.app.config.sources if s.enabled)
        return (f"{enabled} source(s), {failing.get('n', 0)} failing; {pending.get('n', 0)} message(s) pending; "
                f"{opened.get('n', 0)} open alert(s)" + (f"; DELIVERY HALTED: {self.app.outbox.halted}"
                                                         if self.app.outbox.halted else "")
                + (f"; OUTBOX STOPPED: {self.app.outbox.stalled}" if self.app.outbox.stalled else ""))

    def deliver_loop(self) -> None:
        while not self.stop.is_set():
            self.deliver_heartbeat = time.monotonic()
            try:
                self.app.outbox.run_once()
                wait = self.app.outbox.next_due_in()
            except Exception:  # noqa: BLE001 - e.g. a locked database: the loop must outlive it
                log.exception("delivery loop error; retrying")
                wait = 5.0
            timeout = 5.0 if wait is None else min(5.0, max(0.05, wait))
            self.app.wake.wait(timeout)
            self.app.wake.clear()

    def respond_loop(self) -> None:
        """Tickets and replies, on their own thread: a slow platform never holds up Slack delivery."""
        self.app.replies.release_leases()     # the daemon holds the run lock: leases left by a killed run are stale
        self.app.actions.release_leases()
        while not self.stop.is_set():
            try:
                self.app.respond_once()
                wait = self.app.next_respond_in()
            except Exception:  # noqa: BLE001 - e.g. a locked database: the loop must outlive it
                log.exception("reply/action loop error; retrying")
                wait = 5.0
            self.app.respond_wake.wait(2.0 if wait is None else min(2.0, max(0.05, wait)))
            self.app.respond_wake.clear()

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        self.app.mark_loaded()
        self.app.coord.register(config_hash(self.app.paths), VERSION)     # `monitor status` lists it
        self.app.pipeline.process_pending()
        self.schedule()
        self.app.metrics.serve(self.app.config.metrics)
        if self.app.config.slack.digest is not None:
            self.scheduler.add_job(self.app.queue_digests, "interval", seconds=60, id="_digest",
                                   next_run_time=datetime.now().astimezone())
        if self.app.config.report is not None:
            self.scheduler.add_job(self.app.weekly_report, "interval", seconds=300, id="_report",
                                   executor="housekeeping", next_run_time=datetime.now().astimezone())
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
        """Stop polling, let current polls and sends finish within `drain_timeout`, then return regardless.

        Every write is a transaction, so work still running at the bound is simply not committed: its
        mentions are fetched again on the next start (the cursor only moves with them), and an unsent message
        stays pending in the outbox.
        """
        log.info("stopping: finishing current polls and writes", extra={
            "running": sorted(self.running), "drain_timeout_s": self.drain_timeout})
        self.notifier.stopping("draining: finishing current polls and writes")
        deadline = time.monotonic() + self.drain_timeout
        if self.buttons is not None:
            self.buttons.stop()
        if self.inbound is not None:
            self.inbound.stop()
        self.scheduler.shutdown(wait=False)
        self.polls.stop()
        self.app.wake.set()
        while self.running and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._deliverer is not None:
            self._deliverer.join(timeout=max(0.0, deadline - time.monotonic()))
        self.app.respond_wake.set()
        if self._responder is not None:
            self._responder.join(timeout=max(1.0, deadline - time.monotonic()))   # it wakes at once when idle
        if self.streams is not None:
            self.streams.join()              # each stream flushes its batch and saves its cursor
        self.app.outbox.release_leases()
        self.app.coord.stop()                # leases let go now: the other replicas take over at once
        self.abandoned = sorted(self.running) + (["deliver"] if self._deliverer and self._deliverer.is_alive()
                                                 else []) + (["respond"] if self._responder and
                                                             self._responder.is_alive() else [])
        if self.abandoned:
            log.warning("drain bound reached: abandoning unfinished work, none of it committed; it is redone on the"
                        " next start", extra={"abandoned": self.abandoned, "drain_timeout_s": self.drain_timeout})
        log.info("stopped")

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
            app.close()
            daemon.notifier.close()
    if daemon.abandoned:
        # Worker threads stuck in a fetch would keep the interpreter alive until their own timeouts; nothing
        # of theirs can be committed any more (the store is closed), so leave now, within the bound.
        logging.shutdown()
        os._exit(0)
    return 0
