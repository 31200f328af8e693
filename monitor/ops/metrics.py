"""Prometheus metrics (opt-in): `metrics.listen` serves /metrics from the daemon; `metrics.textfile` writes
the same after each `--once` pass, for node_exporter's textfile collector.

Two kinds of figures. Facts that live in the database (mentions collected/matched/negative per source,
alerts opened and sent, open alerts, outbox depth, source health) are read at scrape time through a separate
read-only connection: they survive restarts, agree with `monitor status`, and stay monotonic across retention
because pruned mentions are folded into `mention_daily` first. Facts that only exist in the process (poll
latency, poll outcomes, Slack call failures by reason) are ordinary client-side metrics.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
    write_to_textfile,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from monitor.config.settings import MetricsConfig, split_listen
from monitor.core import dnsguard
from monitor.core.errors import (
    ChannelUnavailable,
    MonitorError,
    SlackFatal,
    SlackRateLimited,
    SlackTransient,
    StorageError,
)
from monitor.ops.health import route_failures
from monitor.ops.problems import DAMAGE_TTL_S
from monitor.store.database import Store, is_url

log = logging.getLogger(__name__)

DRIFT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300)
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
_REASONS = ((SlackRateLimited, "rate_limited"), (ChannelUnavailable, "channel_unavailable"),
            (SlackFatal, "refused"), (SlackTransient, "transient"))


class Metrics:
    """One registry per App (tests build many Apps in one process; the global registry would collide)."""

    def __init__(self, db_path: str):
        self.registry = CollectorRegistry(auto_describe=True)
        self.poll_seconds = Histogram("monitor_poll_duration_seconds", "Time to poll one source (fetch, store, route)",
                                      ["source"], buckets=POLL_BUCKETS, registry=self.registry)
        self.polls = Counter("monitor_polls", "Polls by outcome (ok, not_modified, error, skipped)",
                             ["source", "result"], registry=self.registry)
        self.polls_overlapped = Counter("monitor_polls_overlapped", "Scheduled polls not started because the "
                                        "previous poll of the same source was still running", ["source"],
                                        registry=self.registry)
        self.poll_drift = Histogram("monitor_poll_schedule_drift_seconds", "How late polls start: actual start "
                                    "minus due time (waiting for a worker or for the host's politeness gap)",
                                    buckets=DRIFT_BUCKETS, registry=self.registry)
        self.slack_calls = Counter("monitor_slack_messages_sent", "Slack calls that succeeded (post, reply, update)",
                                   ["method"], registry=self.registry)
        self.delivery_failures = Counter("monitor_delivery_failures", "Slack calls that failed, by reason",
                                         ["reason"], registry=self.registry)
        # as Alertmanager and Prometheus expose theirs: alert on `monitor_config_last_reload_successful == 0`
        self.reload_ok = Gauge("monitor_config_last_reload_successful", "Whether the last reload of "
                               "config/monitor.yaml or rules.yaml succeeded (1) or kept the old config (0)",
                               registry=self.registry)
        self.reload_at = Gauge("monitor_config_last_reload_success_timestamp_seconds", "When config was last "
                               "loaded successfully (start or reload)", registry=self.registry)
        # a dead resolver shows only as poll errors otherwise: lookups cut at their deadline pile up in it
        self.dns_abandoned = Gauge("monitor_dns_lookups_abandoned", "DNS lookups given up on at their deadline "
                                   "whose thread still waits for the system resolver", registry=self.registry)
        self.dns_abandoned.set_function(lambda: float(dnsguard.abandoned()))
        self.dns_at_cap = Gauge("monitor_dns_lookups_at_cap", "1 while the abandoned DNS lookups are at the "
                                "process's cap: new lookups fail at once (is the resolver down?)",
                                registry=self.registry)
        self.dns_at_cap.set_function(lambda: 1.0 if dnsguard.abandoned() >= dnsguard.MAX_ABANDONED else 0.0)
        self.store_collector = StoreCollector(db_path)
        self.registry.register(self.store_collector)
        self._server: Any = None

    def config_reloaded(self, ok: bool, at: float) -> None:
        self.reload_ok.set(1 if ok else 0)
        if ok:
            self.reload_at.set(at)

    def observe_poll(self, source_id: str, seconds: float, *, ok: bool, not_modified: bool = False,
                     skipped: bool = False) -> None:
        result = "skipped" if skipped else "error" if not ok else "not_modified" if not_modified else "ok"
        self.polls.labels(source_id, result).inc()
        if not skipped:
            self.poll_seconds.labels(source_id).observe(seconds)

    def wrap_sender(self, sender: Any) -> CountingSender:
        return CountingSender(sender, self)

    # -- exposition -------------------------------------------------------------------------------------
    def serve(self, cfg: MetricsConfig) -> bool:
        if not cfg.listen:
            return False
        host, port = split_listen(cfg.listen)
        try:
            self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise MonitorError(f"metrics.listen {cfg.listen}: cannot listen ({exc.strerror or exc})") from exc
        log.info("metrics served", extra={"listen": f"http://{cfg.listen}/metrics"})
        return True

    def write_textfile(self, cfg: MetricsConfig) -> None:
        if cfg.textfile:
            Path(cfg.textfile).parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(cfg.textfile, self.registry)     # written to a temp file, then renamed: atomic

    def close(self) -> None:
        store = getattr(self.store_collector, "_store", None)
        if store is not None:
            store.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class CountingSender:
    """Wraps the outbox's Sender to count Slack outcomes without touching the outbox."""

    def __init__(self, inner: Any, metrics: Metrics):
        self.inner = inner
        self.metrics = metrics
        # what the outbox asks of its sender (webhook mode: one channel, no threads, no edits) passes through
        self.can_update: bool = getattr(inner, "can_update", True)
        self.can_thread: bool = getattr(inner, "can_thread", True)
        self.single_channel: bool = getattr(inner, "single_channel", False)
        self.timeout: float = getattr(inner, "timeout", 15.0)
        if hasattr(inner, "find_posted"):          # at-most-once lookups (Web API only) pass through
            self.find_posted = inner.find_posted

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        result: tuple[str, str] = self._count(lambda: self.inner.post(channel, payload, thread_ts))
        self.metrics.slack_calls.labels("reply" if thread_ts else "post").inc()
        return result

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        self._count(lambda: self.inner.update(channel, ts, payload))
        self.metrics.slack_calls.labels("update").inc()

    def _count(self, call: Any) -> Any:
        try:
            return call()
        except Exception as exc:
            reason = next((name for cls, name in _REASONS if isinstance(exc, cls)), "other")
            self.metrics.delivery_failures.labels(reason).inc()
            raise


class StoreCollector(Collector):
    """Reads the durable figures at scrape time, on its own read-only connection (never the writer's lock)."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        self._lock = threading.Lock()
        self.damage_checked: tuple[float, bool] | None = None     # (time.monotonic(), damaged) of the last check

    def checked(self, damage: str | None) -> None:
        """A `quick_check` just made by the process (the daemon's start): the gauge uses it for DAMAGE_TTL_S."""
        self.damage_checked = (time.monotonic(), damage is not None)

    def _damaged(self, conn: sqlite3.Connection) -> bool:
        """SQLite's `quick_check`, as `monitor status` runs it (`Store.quick_check`), at most every DAMAGE_TTL_S: it
        reads the whole file, and a scrape every 15 s must not."""
        at = time.monotonic()
        if self.damage_checked is None or not 0 <= at - self.damage_checked[0] < DAMAGE_TTL_S:
            try:
                damaged = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()] != ["ok"]
            except sqlite3.DatabaseError:      # a page it cannot even read
                damaged = True
            self.damage_checked = (at, damaged)
        return self.damage_checked[1]

    def _damage_family(self, damaged: bool) -> Metric:
        return GaugeMetricFamily("monitor_database_damaged", "1 when SQLite's quick_check finds the database file "
                                 "damaged (`monitor status`: database_damaged; checked at most every 5 minutes); "
                                 "always 0 on PostgreSQL, which checks its own pages", value=int(damaged))

    def _connect(self) -> sqlite3.Connection:
        uri = Path(self.db_path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=5.0)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def collect(self) -> Iterator[Metric]:
        if is_url(self.db_path):                  # PostgreSQL: the same queries through a read-only Store
            yield from self._collect_shared()
            return
        if not Path(self.db_path).exists():
            return
        with self._lock:
            try:
                conn = self._connect()
            except sqlite3.DatabaseError as exc:   # its header is unreadable: damaged (or not a database at all)
                log.warning("metrics: cannot read the database: %s", exc)
                if not isinstance(exc, sqlite3.OperationalError):
                    yield self._damage_family(True)
                return
            except sqlite3.Error as exc:
                log.warning("metrics: cannot read the database: %s", exc)
                return
            try:
                yield self._damage_family(self._damaged(conn))     # first: the queries below may meet the damage
                yield from self._families(conn)
            except sqlite3.Error as exc:          # schema not migrated yet, locked beyond the timeout…
                log.warning("metrics: database query failed: %s", exc)
            finally:
                conn.close()

    def _collect_shared(self) -> Iterator[Metric]:
        with self._lock:
            try:
                if getattr(self, "_store", None) is None:
                    self._store = Store(self.db_path, readonly=True)
                yield self._damage_family(False)
                yield from self._families(self._store.db)
            except StorageError as exc:
                log.warning("metrics: database query failed: %s", exc)

    def _families(self, conn: Any) -> Iterator[Metric]:
        now = time.time()
        per_source: dict[str, list[int]] = {}
        for source, n, matched, negative in conn.execute(
                "SELECT source_id, COUNT(*), SUM(status IN ('matched', 'routed')), SUM(COALESCE(negative, 0))"
                " FROM mentions GROUP BY source_id"):
            per_source[source] = [n, matched or 0, negative or 0]
        for source, n, matched, negative in conn.execute(
                "SELECT source_id, SUM(mentions), SUM(matched), SUM(negative) FROM mention_daily WHERE brand = ''"
                " GROUP BY source_id"):
            acc = per_source.setdefault(source, [0, 0, 0])
            acc[0] += n or 0
            acc[1] += matched or 0
            acc[2] += negative or 0
        for i, (name, doc) in enumerate((("monitor_mentions_collected", "Mentions stored, per source"),
                                         ("monitor_mentions_matched", "Mentions that matched a brand, per source"),
                                         ("monitor_mentions_negative", "Negative mentions, per source"))):
            fam = CounterMetricFamily(name, doc, labels=["source"])
            for source, values in sorted(per_source.items()):
                fam.add_metric([source], values[i])
            yield fam

        opened = CounterMetricFamily("monitor_alerts_opened", "Alerts opened, per route", labels=["route"])
        for route, n in conn.execute("SELECT COALESCE(route, 'default'), COUNT(*) FROM alerts GROUP BY 1"):
            opened.add_metric([route], n)
        yield opened
        sent = CounterMetricFamily("monitor_alerts_sent", "Alerts whose Slack message went out, per route",
                                   labels=["route"])
        for route, n in conn.execute(
                "SELECT COALESCE(a.route, 'default'), COUNT(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM deliveries d"
                " WHERE d.alert_id = a.id AND d.state = 'sent' AND d.parent_id IS NULL) GROUP BY 1"):
            sent.add_metric([route], n)
        yield sent
        open_alerts = GaugeMetricFamily("monitor_open_alerts", "Alerts not resolved, per state", labels=["state"])
        counts = dict(conn.execute("SELECT state, COUNT(*) FROM alerts WHERE state != 'resolved' GROUP BY state"))
        for state in ("open", "acknowledged"):
            open_alerts.add_metric([state], counts.pop(state, 0))
        for state, n in counts.items():
            open_alerts.add_metric([state], n)
        yield open_alerts

        responded = SummaryMetricFamily("monitor_alert_time_to_first_response_seconds",
                                        "From an alert opening to its first reply posted or marked, per route",
                                        labels=["route"])
        for route, n, total in conn.execute(
                "SELECT COALESCE(route, 'default'), COUNT(*), SUM(first_response_at - created_at) FROM alerts"
                " WHERE first_response_at IS NOT NULL GROUP BY 1"):
            responded.add_metric([route], n, total or 0.0)
        yield responded
        replies = GaugeMetricFamily("monitor_replies", "Replies by state (approved = waiting to be posted)",
                                    labels=["state"])
        for state, n in conn.execute("SELECT state, COUNT(*) FROM replies GROUP BY state"):
            replies.add_metric([state], n)
        yield replies
        actions = GaugeMetricFamily("monitor_actions", "Route actions (tickets, webhooks) by state", labels=["state"])
        for state, n in conn.execute("SELECT state, COUNT(*) FROM actions GROUP BY state"):
            actions.add_metric([state], n)
        yield actions

        retrying, parked = route_failures(conn)        # the query `monitor status` runs (health owns it)
        routing = GaugeMetricFamily("monitor_mentions_route_failed", "Mentions whose analysis or routing raised, not "
                                    "routed: retrying (backoff) or parked (until `monitor retry-mentions`)",
                                    labels=["state"])
        routing.add_metric(["retrying"], retrying)
        routing.add_metric(["parked"], parked)
        yield routing

        n, oldest = conn.execute("SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'").fetchone()
        yield GaugeMetricFamily("monitor_outbox_pending", "Messages waiting to be sent to Slack", value=n)
        yield GaugeMetricFamily("monitor_outbox_oldest_pending_age_seconds", "Age of the oldest waiting message",
                                value=max(0.0, now - oldest) if oldest else 0.0)

        failures = GaugeMetricFamily("monitor_source_consecutive_failures", "Failed polls in a row",
                                     labels=["source"])
        last_ok = GaugeMetricFamily("monitor_source_last_success_timestamp_seconds",
                                    "When the source was last polled successfully", labels=["source"])
        disabled = GaugeMetricFamily("monitor_source_disabled", "1 when the source is disabled (credentials refused)",
                                     labels=["source"])
        for sid, fails, success, reason in conn.execute(
                "SELECT id, consecutive_failures, last_success, disabled_reason FROM sources ORDER BY id"):
            failures.add_metric([sid], fails or 0)
            if success:
                last_ok.add_metric([sid], success)
            disabled.add_metric([sid], 1 if reason else 0)
        yield failures
        yield last_ok
        yield disabled
        down = GaugeMetricFamily("monitor_stream_down_seconds", "Seconds since the stream lost (or never got) its "
                                 "connection; 0 while connected (`monitor status` makes over 10m a problem)",
                                 labels=["source"])
        for sid, since in conn.execute("SELECT source_id, down_since FROM stream_status ORDER BY source_id"):
            down.add_metric([sid], max(0.0, now - since) if since else 0.0)
        yield down
