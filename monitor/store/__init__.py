"""Store: the storage layer — SQLite (WAL, one locked writer connection, `BEGIN IMMEDIATE`) or PostgreSQL (a
psycopg pool, `postgres.py`) behind one API and one SQLite-flavoured SQL text (`dialect.py` translates), the
versioned schema migrations, the run lock, retention, and the coordination of replicas (`leases.py`: leases
with fencing tokens, row claims, advisory locks; it owns `leases`, `replicas`, `poll_due`).

It owns the schema, not the rows: each table has one writing package (mentions: the runtime pipeline;
`alert*`: alerting; `deliveries`: notify; `sources`/`stream_status`: sources; `feedback`: alerting;
`reports`: ops.dashboard; `mentions_fts` is kept by triggers on mentions). The server probe (`probe.py`,
`Store.probe`) is the store's: it writes a stand-in mention and rolls it back, so it never leaves a row.
Retention is the one exception by design: it deletes old rows of every table in one place, by age.
"""

from __future__ import annotations

from monitor.store.database import Store, dumps, loads
from monitor.store.runlock import RunLock

__all__ = ["RunLock", "Store", "dumps", "loads"]
