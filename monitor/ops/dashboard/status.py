"""The health strip's reading of the store: `monitor status`'s report, cached, the held count, the damage check.

Apart from `web` (routes and pages) because it is the one part of the dashboard with state of its own across
requests: the status report read at most every HEALTH_TTL_S (the overview may be polled by many screens; the
report reads every source and alert), SQLite's `quick_check` at most every DAMAGE_TTL_S, both behind one lock.
The strip's wording is `strip`'s; what it is read from is here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from html import escape
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from monitor.config.rules import Rules
from monitor.core.errors import StorageError, StorageUnavailable
from monitor.ops import health, problems
from monitor.ops.dashboard import feed as feedmod
from monitor.ops.dashboard import strip
from monitor.ops.dashboard.figures import Window
from monitor.ops.dashboard.liverules import LiveRules
from monitor.ops.dashboard.security import page_headers
from monitor.store.database import Store

log = logging.getLogger(__name__)

# the database's integrity (`quick_check`, a read of the whole file) at most this often (shared with /metrics)
DAMAGE_TTL_S = problems.DAMAGE_TTL_S
HEALTH_TTL_S = 5.0         # `monitor status`'s report is read at most this often, however often pages are polled


class HealthReader:
    """What the strip says, for one dashboard. `config`: monitor.yaml (None: the store-only report); `store`:
    a read-only store for one request (`Stores.read`); `live_rules`: rules.yaml as the dashboard reads it (a new version: new held counts)."""

    def __init__(self, config: Any, store: Callable[[], AbstractContextManager[Store]], live_rules: LiveRules, tz: str = "UTC",
                 data: str | None = None):
        self.config, self.store, self.live_rules, self.tz, self.data = config, store, live_rules, tz, data
        self.lock = threading.Lock()
        self.cache: tuple[float, dict[str, Any]] | None = None
        self.damage_checked: tuple[float, str | None] | None = None
        self.rules_version = live_rules.version
        self.unreachable_since: float | None = None     # an outage is logged once, and its end once

    def forget(self) -> None:
        """The next page reads the store as it is now (after a write: a feedback click)."""
        with self.lock:
            self.cache = None

    def status(self, store: Store, now: float, rules: Rules | None, brand: str | None = None,
               held: int | None = None, alerts: list[dict[str, Any]] | None = None
               ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """`health.report()` (`health.store_report()` without a config: what the store alone knows) and
        `health.quiet_health()` (of the page's brand, as the alerts board filters; `held`: the board's own count),
        as `monitor status` computes them. The report is read at most every HEALTH_TTL_S; the held count is read
        with the page, like the board beside it: cached, it said "1 alert held" for five seconds after a
        Not-negative click had resolved it, while the board showed none (regression test in
        test_dashboard_browser.py). `alerts`: the open alerts the page read (its board's); when the report is
        read and no board read them, they are read once, for the report and the held count both
        (tests/test_dashboard_reads.py counts the reads, cache warm and cold)."""
        with self.lock:
            cached = self.cache
            if cached is None or not 0 <= now - cached[0] < HEALTH_TTL_S \
                    or self.rules_version != self.live_rules.version:         # new rules: held counts change
                self.rules_version = self.live_rules.version
                if alerts is None:
                    alerts = feedmod.open_alerts(store)
                rep = health.report(self.config, store, now, alerts) if self.config is not None \
                    else health.store_report(store, now, alerts)
                cached = self.cache = (now, health.with_damage(rep, self.damage(store, now)))
            report = cached[1]
        return report, health.quiet_health(rules, store, now, brand, held, alerts)

    def damage(self, store: Store, now: float) -> str | None:
        """`Store.quick_check()`, as `monitor status` runs it, at most every DAMAGE_TTL_S: it reads every page of
        the file, and damage, once there, stays until someone repairs it."""
        if self.damage_checked is None or not 0 <= now - self.damage_checked[0] < DAMAGE_TTL_S:
            self.damage_checked = (now, store.quick_check())
        return self.damage_checked[1]

    def recheck(self) -> str | None:
        """The damage now, uncached: a query has just failed as SQLite fails on a damaged page."""
        try:
            with self.store() as store:
                damage = store.quick_check()
        except StorageError as exc:          # the file cannot even be opened: its header is damaged
            return str(exc) if "corrupted" in str(exc) else None
        self.damage_checked = (time.time(), damage)
        return damage

    async def unavailable(self, req: Request, exc: Exception) -> Response:
        """A store error as a page (503, the dashboard's handler of StorageError): the damage in words when a query
        failed on a damaged file (checked again now, as `monitor status` does), else what the error says (no
        database yet, one the daemon has not migrated...), never a bare 500. A database that cannot be reached
        (PostgreSQL down, a connection cut) is a short page in words; the next page tries again."""
        if isinstance(exc, StorageUnavailable) and exc.driver == "DatabaseError":
            damage = await run_in_threadpool(self.recheck)
            if damage:
                return damaged_page(damage)
        if isinstance(exc, StorageUnavailable):
            if self.unreachable_since is None:
                self.unreachable_since = time.time()
                log.warning("dashboard: the database cannot be reached (%s): pages answer 503 until it is back", exc)
            return unreachable_page(str(exc))
        return PlainTextResponse(f"The dashboard cannot read the database: {exc}", status_code=503)

    def strip(self, now: float, w: Window, sel: dict[str, Any], live: tuple[Rules | None, str | None],
              held: int | None = None, alerts: list[dict[str, Any]] | None = None) -> strip.Strip:
        """The strip for a page; ``live``: the rules (and why the file is not used) the page already read, so the
        strip and the page around it use one reading of rules.yaml; ``held``, ``alerts``: as `status`. Without a
        config (`monitor ui` on a store alone, the benchmark) it says what the store knows, and that."""
        rules, problem = live
        with self.store() as store:
            rep, quiet = self.status(store, now, rules, sel.get("brand"), held, alerts)
            unscored = strip.unscored_in(store, w)
        if self.unreachable_since is not None:
            log.warning("dashboard: the database answers again (unreachable for %.0f s)", time.time() - self.unreachable_since)
            self.unreachable_since = None
        return strip.lines_of(rep, quiet, unscored, now, self.tz, self.data, sel, rules_problem=problem)


def data_path(db_path: str) -> str:
    """Datasette's path of the database (`/data/monitor`), for the strip's links to its saved queries."""
    return "/data/" + Path(db_path).stem


def damaged_page(damage: str) -> Response:
    """A page a query could not read because the database is damaged: what is wrong and what to do, in words
    (the path and SQLite's detail escaped), as `monitor status` says it."""
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Database damaged</title></head><body>"
            "<h1>The monitor's database is damaged</h1><p>This page cannot be shown: part of the database file "
            "cannot be read, so mentions and alerts may be missing here and in Slack.</p><p><strong>What is wrong:"
            f"</strong> {escape(damage)}</p><p><strong>What to do:</strong> ask your admin to stop the monitor, keep "
            "a copy of the database file, then restore a backup or rebuild it as said above. <code>monitor status"
            "</code> says the same.</p></body></html>")
    return HTMLResponse(page, status_code=503, headers=page_headers())


def unreachable_page(detail: str) -> Response:
    """A page the database could not answer for (PostgreSQL down or restarting, a connection cut, a lock held too
    long): what happened in words (the error escaped; it names the server without its password), and that
    reloading is enough once the database is back. Retry-After: a monitoring screen may poll."""
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Database unavailable</title></head><body>"
            "<h1>The monitor's database cannot be reached</h1><p>This page cannot be shown right now: the database "
            "did not answer. Nothing is lost: the monitor keeps its work in the database, and this page shows it "
            "again as soon as the database is back (reload it; no restart is needed).</p><p><strong>What is wrong:"
            f"</strong> {escape(detail[:500])}</p><p><strong>What to do:</strong> if this lasts, ask your admin to "
            "check the database server. <code>monitor status</code> says the same.</p></body></html>")
    return HTMLResponse(page, status_code=503, headers={**page_headers(), "Retry-After": "10"})


__all__ = ["DAMAGE_TTL_S", "HEALTH_TTL_S", "HealthReader", "damaged_page", "data_path", "unreachable_page"]
