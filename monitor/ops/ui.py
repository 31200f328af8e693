"""`monitor ui`: the comms dashboard (monitor.ops.dashboard) at /, and the SQLite state in Datasette for ops
under /data, read-only, with saved queries for the questions people ask.

The dashboard serves a SQLite file or a PostgreSQL store (`postgresql://`, the replicas' shared state) alike.
Datasette reads SQLite files only: on PostgreSQL /data is not served, and the startup line and every page say
so, pointing at a read-only PostgreSQL client instead (PG_DATA_NOTE).

By default Datasette serves a snapshot taken at start with SQLite's online backup (consistent even while
the daemon writes, WAL included) and opens it in immutable mode: nothing the UI does can touch the live
database or hold its locks. `--live` serves the live file instead, through a read-only connection, for
figures that move while you look. Binds 127.0.0.1 unless told otherwise: mentions are public text, but
alerts, owners and channels are internal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from monitor.core.errors import MonitorError
from monitor.store.database import is_url

log = logging.getLogger(__name__)

PG_DATA_NOTE = ("/data (Datasette) is not served: it reads SQLite files only, and this store is PostgreSQL. For "
                "ad-hoc queries point a PostgreSQL client (psql, pgAdmin, Metabase) at the database as a read-only user")

SETTINGS = {"sql_time_limit_ms": 5000, "default_page_size": 50, "max_returned_rows": 5000,
            "allow_download": False, "suggest_facets": True}


def metadata(db_name: str) -> dict[str, Any]:
    """The shipped metadata (monitor/data/datasette.yaml), keyed by the served database's name."""
    text = resources.files("monitor").joinpath("data/datasette.yaml").read_text(encoding="utf-8")
    meta: dict[str, Any] = yaml.safe_load(text)
    meta["databases"] = {db_name: meta["databases"]["monitor"]}
    return meta


def snapshot(db_path: str, into: Path) -> Path:
    """A consistent copy of the live database (the backup API includes what is still in the WAL)."""
    target = into / "monitor.db"
    src = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")    # immutable mode reads the main file only: no WAL left
    except sqlite3.Error as exc:
        raise MonitorError(f"cannot snapshot {db_path}: {exc}") from exc
    finally:
        dst.close()
        src.close()
    return target


class UI:
    """Builds the Datasette instance; `serve` runs it until interrupted, `close` removes the snapshot."""

    def __init__(self, db_path: str, *, live: bool = False, base_url: str = "/"):
        try:
            from datasette.app import Datasette
        except ImportError as exc:
            raise MonitorError("Datasette is not installed: pip install 'mention-monitor[ui]'") from exc
        _sqlite_only(db_path)
        self._tmp: str | None = None
        settings = {**SETTINGS, "base_url": base_url}
        if live:
            served = Path(db_path)
            self.ds = Datasette(files=[str(served)], metadata=metadata(served.stem), settings=settings)
        else:
            self._tmp = tempfile.mkdtemp(prefix="monitor-ui-")
            served = snapshot(db_path, Path(self._tmp))
            self.ds = Datasette(immutables=[str(served)], metadata=metadata(served.stem), settings=settings)
        self.db_name = served.stem
        self.live = live

    async def startup(self) -> None:
        await self.ds.invoke_startup()

    def serve(self, host: str, port: int) -> None:
        import uvicorn

        asyncio.run(self.startup())
        mode = "live, read-only" if self.live else "snapshot, immutable"
        print(f"monitor ui: http://{host}:{port}/{self.db_name} ({mode}); Ctrl-C to stop", flush=True)
        uvicorn.run(self.ds.app(), host=host, port=port, log_level="warning")

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def dashboard(config: Any, rules: Any, db_path: str, *, with_datasette: bool = True, rules_path: Any = None) -> Any:
    """The dashboard app for this config; Datasette (live, read-only) under /data when it is installed.
    `rules_path`: rules.yaml, read again whenever it changes (an invalid edit keeps `rules` and says so).
    On PostgreSQL the store is connected to here, within storage.connect_timeout: a server that is down fails
    the start in one line (StorageUnavailable), as every one-shot command."""
    from monitor.ops.dashboard.stores import Stores
    from monitor.ops.dashboard.web import Dashboard, Settings

    postgres = is_url(db_path)
    if not postgres:
        _sqlite_only(db_path)                 # a missing file says how to make one
    d = config.dashboard
    token = os.environ.get(d.token_env) if d.token_env else None     # credential files are exported at start
    if d.token_env and not token:
        raise MonitorError(f"dashboard.token_env is {d.token_env} but ${d.token_env} is empty: set it, or remove "
                           "token_env to open the dashboard without a token")
    stores = Stores(db_path, config.storage.connect_timeout)
    ds = None
    if with_datasette and not postgres:
        try:
            ui = UI(db_path, live=True, base_url="/data/")
            asyncio.run(ui.startup())
            ds = ui.ds.app()
        except MonitorError as exc:
            log.warning("Datasette is not served under /data: %s", exc)
    settings = Settings(db_path, d.tz, tuple(config.brands), rules, token, d.user_header, d.url,
                        ack_target(config), ds, config, str(rules_path) if rules_path is not None else None,
                        PG_DATA_NOTE if postgres else None)
    return Dashboard(settings, stores)


def _sqlite_only(db_path: str) -> None:
    """Datasette (`UI`) reads a SQLite file: a PostgreSQL URL is refused at once, in one line, without
    connecting and without echoing the URL (it may carry a password); a missing file says how to make one."""
    if is_url(db_path):
        raise MonitorError("Datasette reads SQLite files only; with storage on PostgreSQL, point any "
                           "PostgreSQL client (psql, pgAdmin, Metabase) at a read-only user instead")
    if not Path(db_path).is_file():
        raise MonitorError(f"no database at {db_path}: run `monitor run` (or --once) first, or pass --db")


def ack_target(config: Any) -> float:
    from monitor.ops.dashboard.report import DEFAULT_ACK_TARGET
    return float(config.report.ack_target) if config.report is not None else DEFAULT_ACK_TARGET


def serve_dashboard(app: Any, host: str, port: int) -> None:
    import uvicorn

    s = app.s
    if host not in ("127.0.0.1", "localhost", "::1") and not (s.token or s.user_header):
        log.warning("monitor ui listens on %s without dashboard.token_env or dashboard.user_header: anyone who "
                    "reaches the port sees alerts and owners and can mark mentions", host)
    if s.datasette is not None:
        extra = " and /data (Datasette, live, read-only)"
    elif s.data_note:
        extra = f" on {app.stores.display}; {s.data_note}"
    else:
        extra = " (/data: not served: --no-data, or Datasette not installed)"
    print(f"monitor ui: http://{host}:{port}/{extra}; Ctrl-C to stop", flush=True)
    try:
        uvicorn.run(app.app, host=host, port=port, log_level="warning")
    finally:
        app.stores.close()                 # PostgreSQL: the pools' connections end with the server
