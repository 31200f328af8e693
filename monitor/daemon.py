"""The daemon and cron mode: wire config and rules into stages, schedule polls, deliver, reload, drain.

`App` builds everything from the two files; `run_once` is one complete pass for cron, `run_forever` the
systemd daemon. Both hold the run lock for their whole life, so two never share a database.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler

from .alerts import notify_plain
from .clock import Clock, SystemClock
from .config import Config, load_config
from .delivery import ConsoleSender, Outbox, Sender, SlackSender
from .errors import ConfigError
from .escalation import tick
from .fetch import make_client
from .pipeline import Analyzer, Pipeline
from .poller import Poller, PollOutcome
from .reload import RulesWatcher
from .routing import Router
from .rules import Rules, load_rules
from .slack_message import escape
from .storage import RunLock, Store
from .streams import is_stream
from .streams.runner import StreamSupervisor, run_streams_once

log = logging.getLogger(__name__)


@dataclass
class Paths:
    config: str = "config/monitor.yaml"
    rules: str = "rules.yaml"
    db: str | None = None


class App:
    """Everything the daemon needs, built from validated config; rules can be swapped while running."""

    def __init__(self, paths: Paths, *, clock: Clock | None = None, sender: Sender | None = None,
                 transport: httpx.BaseTransport | None = None, config: Config | None = None,
                 rules: Rules | None = None):
        self.paths = paths
        self.clock = clock or SystemClock()
        self.config = config or load_config(paths.config)
        self.rules = rules or load_rules(paths.rules)
        self.db_path = self.config.db_path(paths.db)
        self.store = Store(self.db_path, self.clock)
        self._analyzer = Analyzer(self.config, Router(self.rules))
        self.sender = sender or self._default_sender()
        self.outbox = Outbox(self.store, self.sender, self.clock, self.config.slack.per_channel_interval,
                             fallback=self.rules.default_targets, stuck_after=self.config.slack.stuck_after)
        self.wake = threading.Event()        # set when new deliveries are queued
        self.pipeline = Pipeline(self.store, lambda: self._analyzer, on_alert=lambda _id: self.wake.set())
        self.client = make_client(self.config.http, transport)
        self.poller = Poller(self.store, self.pipeline, self.client, self.clock, self.config.http,
                             lambda: self.rules.default_targets)
        self.rules_watcher = RulesWatcher(paths.rules, self.reload_rules)

    def _default_sender(self) -> Sender:
        if self.config.slack.mode == "webhook":
            url = os.environ.get(self.config.slack.webhook_url_env)
            if url:
                from .webhook import WebhookSender
                return WebhookSender(url, self.config.slack.timeout)
            log.warning("slack.mode is webhook but $%s is not set: alerts are printed to the terminal instead",
                        self.config.slack.webhook_url_env)
            return ConsoleSender()
        token = os.environ.get(self.config.slack.token_env)
        if not token:
            log.warning("no Slack token in $%s: alerts are printed to the terminal instead",
                        self.config.slack.token_env)
            return ConsoleSender()
        return SlackSender(token, self.config.slack.api_url, self.config.slack.timeout)

    @property
    def analyzer(self) -> Analyzer:
        return self._analyzer

    def reload_rules(self) -> bool:
        """Swap in the new rules if they validate; otherwise keep the last good ones and say so, loudly."""
        try:
            rules = load_rules(self.paths.rules)
        except ConfigError as exc:
            log.error("rules reload failed, keeping the last good rules: %s", exc)
            notify_plain(self.store, f"config-error:{int(self.clock.now())}",
                         ":warning: `rules.yaml` reload failed; the daemon keeps running with the last good "
                         f"rules.\n```{escape(str(exc))[:2500]}```", self.rules.default_targets)
            self.wake.set()
            return False
        self.rules = rules
        self._analyzer = Analyzer(self.config, Router(rules), self._analyzer.scorer, self._analyzer.matcher)
        self.outbox.fallback = rules.default_targets
        log.info("rules reloaded", extra={"routes": len(rules.routes), "owners": len(rules.owners)})
        return True

    def queue_digests(self) -> int:
        """Today's per-owner digests, once their hour has come (idempotent: keyed by owner and day)."""
        if self.config.slack.digest is None:
            return 0
        from .digest import queue_digests
        n = queue_digests(self.store, self.rules, self.config.slack.digest, self.clock.now())
        if n:
            self.wake.set()
        return n

    def tick(self, flush_waiting: bool = False) -> dict[str, int]:
        """Alert timers (spikes, group flushes, escalations, snoozes) from stored state and this clock."""
        out = tick(self.store, self.rules, list(self.config.brands), router=self._analyzer.router,
                   flush_waiting=flush_waiting)
        if any(out.values()):
            self.wake.set()
        return out

    def poll(self, source_id: str, force: bool = False) -> PollOutcome:
        return self.poller.poll(self.config.source(source_id), force=force)

    def close(self) -> None:
        self.client.close()
        self.store.close()


def run_once(app: App, *, delivery_budget_s: float = 120.0, workers: int = 4) -> dict[str, Any]:
    """Cron mode: finish leftovers, poll every source once, route, deliver what is due, exit."""
    app.pipeline.process_pending()
    sources = [s for s in app.config.sources if s.enabled and not is_stream(s)]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources) or 1))) as pool:
        outcomes = list(pool.map(app.poller.poll, sources))
    streamed = run_streams_once(app)        # each stream catches up from its saved cursor, bounded in time
    app.pipeline.process_pending()
    app.queue_digests()
    app.tick(flush_waiting=True)         # the pass was the batch: no group_wait across cron runs
    sent = drain(app.outbox, app.clock, delivery_budget_s)
    return {"polled": sum(o.ok for o in outcomes) + sum(o.ok for o in streamed),
            "failed": sum(bool(o.error) for o in outcomes) + sum(bool(o.error) for o in streamed),
            "new_mentions": sum(o.new for o in outcomes) + sum(o.new for o in streamed), "sent": sent,
            "streams": len(streamed)}


def drain(outbox: Outbox, clock: Clock, budget_s: float) -> int:
    """Send until nothing is due within the budget (per-channel pacing and Retry-After included)."""
    deadline = clock.now() + budget_s
    sent = 0
    while clock.now() < deadline and not outbox.halted:
        sent += outbox.run_once()
        wait = outbox.next_due_in()
        if wait is None or clock.now() + wait > deadline:
            break
        clock.sleep(min(max(wait, 0.05), outbox.interval, max(0.0, deadline - clock.now())))
    return sent


class Daemon:
    """`monitor run`: one APScheduler job per source, a delivery loop, SIGHUP reload, SIGTERM drain."""

    def __init__(self, app: App, *, stagger_s: float = 5.0, tick_s: float = 2.0):
        self.app = app
        self.tick_s = tick_s
        self.stop = threading.Event()
        self.stagger_s = stagger_s
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(max_workers=8)},
            job_defaults={"coalesce": True,          # a late job runs once, not once per missed slot
                          "max_instances": 1,        # a slow poll is never overlapped by its own next run
                          "misfire_grace_time": None},  # run late rather than skip, however late
            timezone="UTC")

    def schedule(self) -> None:
        now = datetime.now().astimezone()
        for i, source in enumerate(s for s in self.app.config.sources if s.enabled and not is_stream(s)):
            first = now + timedelta(seconds=min(self.stagger_s, 0.2 * i))
            self.scheduler.add_job(self._poll_job, "interval", seconds=source.every, id=source.id,
                                   args=[source.id], next_run_time=first, jitter=min(30, source.every * 0.05))
        self.scheduler.add_job(self._tick_job, "interval", seconds=self.tick_s, id="alert-timers",
                               next_run_time=now)

    def _tick_job(self) -> None:
        """Rules file changes, then alert timers; an error here is logged and the next tick tries again."""
        if self.stop.is_set():
            return
        try:
            self.app.rules_watcher.check()
            self.app.tick()
        except Exception:  # noqa: BLE001 - a timer bug must not stop the scheduler
            log.exception("alert timers failed; retrying next tick")

    def _poll_job(self, source_id: str) -> None:
        if self.stop.is_set():
            return
        self.app.poll(source_id)
        row = self.app.store.one("SELECT 1 FROM deliveries WHERE state = 'pending' LIMIT 1")
        if row:
            self.app.wake.set()

    def deliver_loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.app.outbox.run_once()
                wait = self.app.outbox.next_due_in()
            except Exception:  # noqa: BLE001 - e.g. a locked database: the loop must outlive it
                log.exception("delivery loop error; retrying")
                wait = 5.0
            timeout = 5.0 if wait is None else min(5.0, max(0.05, wait))
            self.app.wake.wait(timeout)
            self.app.wake.clear()

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        self.app.pipeline.process_pending()
        self.schedule()
        if self.app.config.slack.digest is not None:
            self.scheduler.add_job(self.app.queue_digests, "interval", seconds=60, id="digest",
                                   next_run_time=datetime.now().astimezone())
        self.scheduler.start()
        self.streams = StreamSupervisor(self.app, self.stop)    # one supervised thread per stream source
        self.streams.start()
        from .interactive import start_interactive
        buttons = start_interactive(self.app.config.slack, self.app.store, self.app.clock, dict(os.environ),
                                    self.app.wake.set)
        deliverer = threading.Thread(target=self.deliver_loop, name="deliver", daemon=True)
        deliverer.start()
        log.info("daemon started", extra={"sources": len(self.app.config.sources), "db": self.app.db_path})
        if on_ready:
            on_ready()
        self.stop.wait()
        log.info("stopping: finishing current polls and writes")
        if buttons is not None:
            buttons.stop()
        self.scheduler.shutdown(wait=True)
        self.streams.join()                  # each stream flushes its batch and saves its cursor
        self.app.wake.set()
        deliverer.join(timeout=10)
        log.info("stopped")

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=self._sighup, daemon=True).start())

    def _sighup(self) -> None:
        self.app.rules_watcher.mark_current()
        self.app.reload_rules()


def run_daemon(paths: Paths) -> int:
    app = App(paths)
    with RunLock(app.db_path):
        daemon = Daemon(app)
        daemon.install_signals()
        try:
            daemon.run()
        finally:
            app.close()
    return 0
