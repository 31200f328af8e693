"""Stream health: what `monitor status` shows (connected, last event, lag, counters) and the ops notices.

The daemon writes `stream_status` at most once a second per stream and on every (dis)connection; a
separate `monitor status` process reads it. Failures reuse the `sources` columns the poller uses
(consecutive_failures, last_error, disabled_reason, health_alerted), so one health model covers both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..alerts import notify_plain
from ..collectors.base import SourceOptions
from ..model import Target
from ..slack_message import escape
from ..storage import Store


@dataclass
class StreamStats:
    connected: bool = False
    connected_at: float | None = None
    last_event_at: float | None = None     # when we read the newest event (wall clock)
    event_time: float | None = None        # when that event happened, per the source
    events: int = 0
    matched: int = 0
    malformed: int = 0
    reconnects: int = 0

    @property
    def lag(self) -> float | None:
        if self.last_event_at is None or self.event_time is None:
            return None
        return max(0.0, self.last_event_at - self.event_time)


def load_stats(store: Store, source_id: str) -> StreamStats:
    row = store.one("SELECT * FROM stream_status WHERE source_id = ?", (source_id,))
    if not row:
        return StreamStats()
    return StreamStats(False, None, row["last_event_at"], row["event_time"], row["events"], row["matched"],
                       row["malformed"], row["reconnects"])


def save_stats(store: Store, source_id: str, s: StreamStats) -> None:
    with store.tx() as db:
        db.execute(
            "INSERT INTO stream_status (source_id, connected, connected_at, last_event_at, event_time, lag, events,"
            " matched, malformed, reconnects, updated_at, pid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (source_id) DO UPDATE SET connected=excluded.connected, connected_at=excluded.connected_at,"
            " last_event_at=excluded.last_event_at, event_time=excluded.event_time, lag=excluded.lag,"
            " events=excluded.events, matched=excluded.matched, malformed=excluded.malformed,"
            " reconnects=excluded.reconnects, updated_at=excluded.updated_at, pid=excluded.pid",
            (source_id, int(s.connected), s.connected_at, s.last_event_at, s.event_time, s.lag, s.events,
             s.matched, s.malformed, s.reconnects, store.now(), os.getpid()))


def record_connected(store: Store, source: SourceOptions, targets: list[Target]) -> None:
    now = store.now()
    with store.tx() as db:
        db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
        row = db.execute("SELECT consecutive_failures, health_alerted FROM sources WHERE id = ?",
                         (source.id,)).fetchone()
        db.execute("UPDATE sources SET last_attempt=?, last_success=?, consecutive_failures=0, next_run=NULL,"
                   " health_alerted=0, last_error=NULL, disabled_reason=NULL WHERE id=?", (now, now, source.id))
    if row and row[1]:
        notify_plain(store, f"health:{source.id}:recovered:{int(now)}",
                     f":white_check_mark: Stream `{source.id}` ({source.kind}) is connected again after "
                     f"{row[0]} failed attempts.", targets)


def record_failure(store: Store, source: SourceOptions, reason: str, targets: list[Target], *,
                   disable: bool = False) -> int:
    """Count a failed connection (or a dropped one); tell ops once when it keeps failing. Returns the count."""
    now = store.now()
    with store.tx() as db:
        db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
        failures = db.execute("UPDATE sources SET consecutive_failures = consecutive_failures + 1, last_attempt=?,"
                              " last_error=?, last_error_at=?, disabled_reason=? WHERE id = ?"
                              " RETURNING consecutive_failures",
                              (now, reason, now, reason if disable else None, source.id)).fetchone()[0]
        alerted = db.execute("SELECT health_alerted FROM sources WHERE id = ?", (source.id,)).fetchone()[0]
        should_alert = (disable or failures >= source.failure_alert_after) and not alerted
        if should_alert:
            db.execute("UPDATE sources SET health_alerted = 1 WHERE id = ?", (source.id,))
    if should_alert:
        what = ("is stopped until its credentials are fixed (then restart)" if disable
                else f"failed to stay connected {failures} times in a row")
        notify_plain(store, f"health:{source.id}:failing:{int(now)}",
                     f":rotating_light: Stream `{source.id}` ({source.kind}) {what}. Last error: {escape(reason)}",
                     targets)
    return int(failures)


def stream_report(store: Store, source: SourceOptions, now: float) -> dict[str, Any]:
    """One stream's line in `monitor status`: stale when the writer (the daemon) has stopped updating it."""
    row = store.one("SELECT * FROM stream_status WHERE source_id = ?", (source.id,)) or {}
    updated = row.get("updated_at")
    fresh = bool(updated and now - updated < 2 * getattr(source, "cursor_every", 5.0) + 30)
    return {"connected": bool(row.get("connected")) and fresh, "daemon_seen": fresh,
            "last_event_at": row.get("last_event_at"),
            "last_event_ago": (now - row["last_event_at"]) if row.get("last_event_at") else None,
            "lag": row.get("lag"), "events": row.get("events", 0), "matched": row.get("matched", 0),
            "malformed": row.get("malformed", 0), "reconnects": row.get("reconnects", 0)}
