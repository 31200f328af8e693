"""What the daemon and cron mode are built from: `App` (config, rules, store, pipeline, poller, outbox,
responders, all from the two files and reloadable while running) and the stream and inbound wiring both modes
share. Apart from `daemon` (the long-running service: scheduling, loops, signals, drain) and `once` (cron mode),
which both start from an `App`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from monitor.alerting.quiet import quiet_banner
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
from monitor.respond.replies import ReplyService
from monitor.respond.tickets import ActionService
from monitor.runtime.dispatch import PollDispatcher
from monitor.runtime.liveconfig import ConfigChange, LiveReload
from monitor.runtime.pipeline import Pipeline
from monitor.runtime.poller import Poller, PollOutcome
from monitor.runtime.reload import ReloadWatcher, ReportedOnce, record_state
from monitor.runtime.streams import StreamRunner
from monitor.sources import REGISTRY, CollectResult, SourceOptions, StreamOptions
from monitor.sources.fetch import limiter_of, make_client
from monitor.store.database import Store
from monitor.store.leases import Coordinator
from monitor.store.pg_online import unaccent_policy

log = logging.getLogger("monitor.runtime.daemon")     # the daemon's log lines keep their logger


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
        with unaccent_policy(self.config.storage.unaccent):     # opening migrates: says a missing extension
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
        self.actions = ActionService(self.store, lambda: self.rules, self.clock, wake=self._respond_changed,
                                     http=self.config.http)

    def _respond_changed(self) -> None:
        self.respond_wake.set()
        self.wake.set()                      # thread notes and root updates were queued

    def respond_once(self, stopping: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Tickets for new alerts (and closes for resolved ones), then replies that are due; ``stopping`` is asked
        between them (the daemon's stop: a slow ticket system must not hold a stop past the drain bound)."""
        return {"actions": self.actions.run_once(stopping), "replies": self.replies.run_once(stopping)}

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

    def close(self, timeout: float = 5.0) -> None:
        """Everything this app opened; the store within `timeout` (the daemon: what its stop bound leaves)."""
        self.metrics.close()
        self.client.close()
        self.replies.close()
        self.actions.close()
        self.store.close(timeout)


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
