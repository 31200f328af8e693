"""The healthy site the health tests break one thing of, and the one way they damage a database.

Four test files (the problem-kind table, the dashboard's strip, the strip without monitor.yaml, the damaged
saved report) each wrote their own "sources polled fine a minute ago" store and their own source list; the
corrupted-database tests wrote garbage at a fixed byte offset in one and over a real leaf page in another.
One copy here, so a new health check that needs one more healthy row is added once, and every damage is
the kind `PRAGMA quick_check` is known to find.
"""

from __future__ import annotations

from pathlib import Path

from monitor.store.database import Store

RSS_SOURCES = """\
    - id: news
      kind: rss
      url: http://127.0.0.1:9/a.xml
      every: 5m
    - id: reviews-acme
      kind: rss
      url: http://127.0.0.1:9/b.xml
      every: 5m
      failure_alert_after: 3
"""
#: RSS_SOURCES and a stream, for the checks a stream has of its own (stream_down)
SOURCES = RSS_SOURCES + """\
    - id: bsky
      kind: jetstream
      url: ws://127.0.0.1:9/sub
"""
RSS_KINDS = {"news": "rss", "reviews-acme": "rss"}
KINDS = {**RSS_KINDS, "bsky": "jetstream"}


def healthy_store(path: Path | str, now: float, kinds: dict[str, str] = KINDS, *, queued: bool = False) -> Store:
    """A store in which every source in `kinds` was polled fine a minute before `now` (and, if `queued`, one
    message waits to be sent since two minutes): no health check has anything to say until the test breaks
    one thing. The caller closes it."""
    store = Store(path)
    with store.tx() as db:
        for sid, kind in kinds.items():
            db.execute("INSERT INTO sources (id, kind, last_attempt, last_success) VALUES (?, ?, ?, ?)",
                       (sid, kind, now - 60, now - 60))
        if queued:
            db.execute("INSERT INTO deliveries (dedupe_key, kind, channel, payload, created_at) VALUES"
                       " ('d1', 'post', '#comms-alerts', '{}', ?)", (now - 120,))
    return store


def damage(store: Store, table: str) -> None:
    """Really corrupt the database: fill `table` past a few pages, then write garbage over one of its leaf pages
    (as a disk or a copy made mid-write does); SQLite's `quick_check` finds it, queries of other tables still work."""
    with store.tx() as db:
        if table == "feedback":
            for i in range(3000):
                db.execute("INSERT INTO feedback (verdict, at, text) VALUES ('x', ?, ?)", (i, "y" * 200))
        else:
            for i in range(3000):
                db.execute("INSERT INTO alerts (group_key, targets, state, created_at, updated_at, title) VALUES"
                           " (?, '[]', 'resolved', 0, 0, ?)", (f"old{i}", "y" * 200))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    leaves = [r["pageno"] for r in store.query("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'",
                                               (table,))]
    page = store.one("PRAGMA page_size")
    assert page is not None
    size = page["page_size"]
    with open(store.path, "r+b") as f:
        f.seek((leaves[len(leaves) // 2] - 1) * size)
        f.write(b"\xa5" * size)
