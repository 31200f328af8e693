"""Source health and position: the only writer of the `sources` and `stream_status` tables.

Polled and streamed sources share one health model (consecutive failures, last error, back-off, disabled on
401/403 until credentials change, one ops notice when failing and one when recovered). A source's cursor and
HTTP validators move inside the transaction that stores the mentions they cover (`save_position`). The daemon
writes `stream_status` at most once a second per stream and on every (dis)connection; a separate `monitor
status` process reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from monitor.core import logs
from monitor.core.model import Target
from monitor.notify.blockkit import escape
from monitor.notify.queue import notify_plain
from monitor.sources.base import SourceOptions, SourceState
from monitor.sources.stream import is_stream
from monitor.store.database import Store, dumps, loads


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
    down_since: float | None = None        # lost (or never got) its connection at; None while connected

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
                       row["malformed"], row["reconnects"], row.get("down_since"))


def save_stats(store: Store, source_id: str, s: StreamStats) -> None:
    with store.tx() as db:
        db.execute(
            "INSERT INTO stream_status (source_id, connected, connected_at, last_event_at, event_time, lag, events,"
            " matched, malformed, reconnects, updated_at, pid, down_since) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (source_id) DO UPDATE SET connected=excluded.connected, connected_at=excluded.connected_at,"
            " last_event_at=excluded.last_event_at, event_time=excluded.event_time, lag=excluded.lag,"
            " events=excluded.events, matched=excluded.matched, malformed=excluded.malformed,"
            " reconnects=excluded.reconnects, updated_at=excluded.updated_at, pid=excluded.pid,"
            " down_since=excluded.down_since",
            (source_id, int(s.connected), s.connected_at, s.last_event_at, s.event_time, s.lag, s.events,
             s.matched, s.malformed, s.reconnects, store.now(), os.getpid(), s.down_since))


def load_state(store: Store, source_id: str) -> SourceState:
    """The saved cursor and HTTP validators of a polled source (empty on its first poll)."""
    row = store.one("SELECT cursor, etag, last_modified FROM sources WHERE id = ?", (source_id,))
    if not row:
        return SourceState()
    return SourceState(loads(row["cursor"]), row["etag"], row["last_modified"])


def load_cursor(store: Store, source_id: str) -> Any:
    row = store.one("SELECT cursor FROM sources WHERE id = ?", (source_id,))
    return loads(row["cursor"]) if row else None


def save_position(db: sqlite_utils.Database, source: SourceOptions, cursor: Any, etag: str | None,
                  last_modified: str | None, new_items: int) -> None:
    """Move a source's cursor and validators, inside the caller's transaction (the one that stores the
    mentions they cover), so a crash before the commit replays them and a crash after never loses them."""
    db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
    db.execute("UPDATE sources SET cursor = COALESCE(?, cursor), etag = ?, last_modified = ?,"
               " items_total = items_total + ? WHERE id = ?",
               (dumps(cursor) if cursor is not None else None, etag, last_modified, new_items, source.id))


def poll_gate(store: Store, source_id: str) -> dict[str, Any] | None:
    """What decides whether a polled source is due: its back-off time and why (and for what) it was disabled."""
    return store.one("SELECT next_run, disabled_reason, disabled_fingerprint FROM sources WHERE id = ?",
                     (source_id,))


def clear_disabled(store: Store, source_id: str) -> None:
    """Credentials or options changed since a 401/403: poll the source again."""
    with store.tx() as db:
        db.execute("UPDATE sources SET disabled_reason = NULL, disabled_fingerprint = NULL, next_run = NULL"
                   " WHERE id = ?", (source_id,))


def record_success(store: Store, source: SourceOptions, targets: list[Target], *, now: float | None = None,
                   warning: str | None = None, next_run: float | None = None) -> None:
    """A poll that worked or a stream that connected: reset the failure count; tell ops it recovered.
    `next_run`: not before then (a poll cut by a 429 after part of its answer waits for the reset)."""
    now = store.now() if now is None else now
    stream = is_stream(source)
    with store.tx() as db:
        db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
        row = db.execute("SELECT consecutive_failures, health_alerted FROM sources WHERE id = ?",
                         (source.id,)).fetchone()
        db.execute("UPDATE sources SET last_attempt=?, last_success=?, consecutive_failures=0, next_run=?,"
                   " health_alerted=0, last_error=?, disabled_reason=NULL, disabled_fingerprint=NULL WHERE id=?",
                   (now, now, next_run, logs.scrubbed(warning or "", 500) or None, source.id))
    if row and row[1]:
        text = (f":white_check_mark: Stream `{source.id}` ({source.kind}) is connected again after {row[0]} failed "
                "attempts." if stream else
                f":white_check_mark: Source `{source.id}` ({source.kind}) has recovered after {row[0]} failed polls.")
        notify_plain(store, f"health:{source.id}:recovered:{int(now)}", text, targets)


def record_failure(store: Store, source: SourceOptions, reason: str, targets: list[Target], *,
                   disable: bool | str = False, now: float | None = None,
                   next_run: Callable[[int], float | None] | None = None) -> int:
    """Count a failed poll or connection; tell ops once when it keeps failing. Returns the count.

    `disable`: a 401/403 stops the source (a string is the fingerprint of the credentials and options it
    was refused with: it runs again once they change). `next_run(failures)`: when a polled source may retry.
    """
    now = store.now() if now is None else now
    stream = is_stream(source)
    # no credential (a URL's, or a secret's value a server quoted back: round 23), no control character, in the
    # DB, status or Slack
    reason = logs.scrubbed(reason)
    with store.tx() as db:
        db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
        failures = db.execute("UPDATE sources SET consecutive_failures = consecutive_failures + 1 WHERE id = ?"
                              " RETURNING consecutive_failures", (source.id,)).fetchone()[0]
        db.execute("UPDATE sources SET last_attempt=?, last_error=?, last_error_at=?, next_run=?,"
                   " disabled_reason=?, disabled_fingerprint=? WHERE id=?",
                   (now, reason, now, next_run(failures) if next_run else None, reason if disable else None,
                    disable if isinstance(disable, str) else None, source.id))
        alerted = db.execute("SELECT health_alerted FROM sources WHERE id = ?", (source.id,)).fetchone()[0]
        should_alert = (bool(disable) or failures >= source.failure_alert_after) and not alerted
        if should_alert:
            db.execute("UPDATE sources SET health_alerted = 1 WHERE id = ?", (source.id,))
    if should_alert:
        if stream:
            what = ("is stopped until its credentials are fixed (then restart)" if disable
                    else f"failed to stay connected {failures} times in a row")
        else:
            what = ("is disabled until its credentials (or its options) change" if disable
                    else f"failed {failures} polls in a row")
        noun = "Stream" if stream else "Source"
        notify_plain(store, f"health:{source.id}:failing:{int(now)}",
                     f":rotating_light: {noun} `{source.id}` ({source.kind}) {what}. Last error: {escape(reason)}",
                     targets)
    return int(failures)


def stream_report(store: Store, source: SourceOptions, now: float) -> dict[str, Any]:
    """One stream's line in `monitor status`: stale when the writer (the daemon) has stopped updating it.

    `down_since`: when it lost its connection or first failed to get one (the runner's `down_since`); for a
    row left "connected" by a daemon that stopped writing (killed), the last time it wrote. None: connected
    (or caught up by its last `run --once` pass), or never run at all."""
    row = store.one("SELECT * FROM stream_status WHERE source_id = ?", (source.id,)) or {}
    updated = row.get("updated_at")
    fresh = bool(updated and now - updated < 2 * getattr(source, "cursor_every", 5.0) + 30)
    down_since = row.get("down_since")
    if down_since is None and row.get("connected") and not fresh:
        down_since = updated
    return {"connected": bool(row.get("connected")) and fresh, "daemon_seen": fresh, "down_since": down_since,
            "last_event_at": row.get("last_event_at"),
            "last_event_ago": (now - row["last_event_at"]) if row.get("last_event_at") else None,
            "lag": row.get("lag"), "events": row.get("events", 0), "matched": row.get("matched", 0),
            "malformed": row.get("malformed", 0), "reconnects": row.get("reconnects", 0)}
