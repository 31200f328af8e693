"""`monitor ui`: the SQLite state in Datasette, read-only, with saved queries for the questions people ask.

By default Datasette serves a snapshot taken at start with SQLite's online backup (consistent even while
the daemon writes, WAL included) and opens it in immutable mode: nothing the UI does can touch the live
database or hold its locks. `--live` serves the live file instead, through a read-only connection, for
figures that move while you look. Binds 127.0.0.1 unless told otherwise: mentions are public text, but
alerts, owners and channels are internal.
"""

from __future__ import annotations

import asyncio
import logging
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

    def __init__(self, db_path: str, *, live: bool = False):
        try:
            from datasette.app import Datasette
        except ImportError as exc:
            raise MonitorError("Datasette is not installed: pip install 'mention-monitor[ui]'") from exc
        if is_url(db_path):
            raise MonitorError("`monitor ui` browses the SQLite file only; with storage on PostgreSQL, point any "
                               "PostgreSQL client (psql, pgAdmin, Metabase) at a read-only user instead")
        if not Path(db_path).is_file():
            raise MonitorError(f"no database at {db_path}: run `monitor run` (or --once) first, or pass --db")
        self._tmp: str | None = None
        if live:
            served = Path(db_path)
            self.ds = Datasette(files=[str(served)], metadata=metadata(served.stem), settings=SETTINGS)
        else:
            self._tmp = tempfile.mkdtemp(prefix="monitor-ui-")
            served = snapshot(db_path, Path(self._tmp))
            self.ds = Datasette(immutables=[str(served)], metadata=metadata(served.stem), settings=SETTINGS)
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
