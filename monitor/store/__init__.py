"""Store: the SQLite connection (WAL, one locked writer connection, `BEGIN IMMEDIATE`), the versioned schema
migrations, the run lock, and retention.

It owns the schema, not the rows: each table has one writing package (mentions: the runtime pipeline;
`alert*`: alerting; `deliveries`: notify; `sources`/`stream_status`: sources; `feedback`: alerting;
`reports`: ops.dashboard; `mentions_fts` is kept by triggers on mentions).
Retention is the one exception by design: it deletes old rows of every table in one place, by age.
"""

from __future__ import annotations

from monitor.store.database import RunLock, Store, dumps, loads

__all__ = ["RunLock", "Store", "dumps", "loads"]
