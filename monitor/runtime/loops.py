"""The daemon's work between start and stop: the scheduler's jobs (alert timers, polls, retention, the systemd
watchdog), the delivery loop and the reply/action loop, and the status line they report with.

A mixin of `Daemon` (daemon.py keeps start, stop, drain, reload and signals): these run on the scheduler's and
their own threads for the daemon's whole life, and each one outlives any error of a step (logged, retried), so a
locked database or a timer bug never stops polling or delivery; the watchdog withholds its ping when the
delivery loop has been silent DELIVERY_STALL_S, so systemd restarts a daemon that is stuck.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from monitor.ops.systemd import Notifier
from monitor.runtime.app import App
from monitor.runtime.poller import PollOutcome
from monitor.sources import SourceOptions
from monitor.store import retention

log = logging.getLogger("monitor.runtime.daemon")     # the daemon's log lines keep their logger


class DaemonLoops:
    """The jobs and loops of `Daemon` (module doc); the attributes are `Daemon.__init__`'s."""

    DELIVERY_STALL_S = 600.0     # a delivery loop silent this long is stuck (each Slack call has a timeout)
    app: App
    stop: threading.Event
    notifier: Notifier
    running: dict[str, float]
    jobs: dict[str, float]       # scheduler job id -> monotonic start, while it runs (`job`)
    deliver_heartbeat: float

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

    def job(self, name: str, fn: Callable[[], object]) -> Callable[[], None]:
        """`fn` as a scheduler job the drain waits for: named in `jobs` while it runs, and not begun once the stop is
        set (the scheduler's executor still runs a job it had queued before its shutdown).

        Registered before the stop is looked at, so the drain, which reads `jobs` after setting the stop, either sees
        the job or the job sees the stop: none slips between. Before round 23 the drain did not wait for these at all
        (`shutdown(wait=False)`), so a retention batch or a digest still running met the store closed under it."""
        def run() -> None:
            self.jobs[name] = time.monotonic()
            try:
                if not self.stop.is_set():
                    fn()
            except Exception:
                if self.stop.is_set():     # abandoned by the drain at its bound, ended against a closed store
                    log.debug("abandoned job ended after shutdown", extra={"job": name})
                    return
                raise
            finally:
                self.jobs.pop(name, None)
        return run

    def _retention_job(self) -> None:
        """Daily retention, checked hourly; the stop ends it between two batches, the drain waits for that batch
        (`job`), and the run is recorded only when whole, so the rest is pruned after the next start."""
        if not self.stop.is_set():
            retention.run_if_due(self.app.store, self.app.config.storage.retention, stop=self.stop)

    def _watchdog_job(self) -> None:
        """Runs on the scheduler: no ping if the delivery loop is stuck, and none at all if the scheduler is."""
        silent = time.monotonic() - self.deliver_heartbeat
        if silent > self.DELIVERY_STALL_S:
            log.error("delivery loop silent for %ds: withholding the watchdog ping so systemd restarts the daemon",
                      int(silent))
            return
        self.notifier.watchdog(self.status_line())

    def left_for_next_start(self) -> list[str]:
        """What the stop left for the next start, for the drain's last line: the routing it cut short (with the
        mentions still pending), the messages still pending in the outbox. Both are stored, so nothing is lost;
        said so the operator sees why the next start has a backlog. Read from the store, so never a guess."""
        try:
            routing = self.app.store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL AND"
                                         " route_parked_at IS NULL") or {}
            sends = self.app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'") or {}
        except Exception as exc:  # noqa: BLE001 - stopping: an unreadable count must not turn the stop into a crash
            log.debug("what the stop left could not be counted: %s", exc)
            return []
        return ([f"routing cut short, {routing.get('n', 0)} mention(s) pending"] if self.app.pipeline.cut_by_stop
                else []) + ([f"{sends['n']} message(s) pending in the outbox"] if sends.get("n") else [])

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
        self.app.replies.release_leases()     # SQLite only (the run lock: claims left are a killed run's); on
        self.app.actions.release_leases()     # PostgreSQL another replica may be posting: a dead one's claim lapses
        while not self.stop.is_set():
            try:
                self.app.respond_once(self.stop.is_set)
                wait = self.app.next_respond_in()
            except Exception:  # noqa: BLE001 - e.g. a locked database: the loop must outlive it
                log.exception("reply/action loop error; retrying")
                wait = 5.0
            self.app.respond_wake.wait(2.0 if wait is None else min(2.0, max(0.05, wait)))
            self.app.respond_wake.clear()
