"""The store: mentions, alerts, deliveries, per-source cursors and HTTP validators, in SQLite or PostgreSQL.

The store is what makes "nothing lost, nothing twice" true. Ingestion is idempotent through
UNIQUE(source_id, external_id); a mention is committed before it is routed, an alert and its deliveries are
committed before anything is sent, and a delivery is marked sent only after Slack said ok. One connection
guarded by a lock serves every thread: writes are tiny, and WAL lets `monitor status` read meanwhile.

Two backends behind this one API: a file path opens SQLite (the embedded default); a `postgresql://` URL
(`storage.url` or `$MONITOR_DATABASE_URL`) opens PostgreSQL through a psycopg pool (`monitor.store.postgres`)
so several replicas can share the state. The SQL stays SQLite-flavoured everywhere; `monitor.store.dialect`
translates it, migrations included: an entry appended to MIGRATIONS in SQLite syntax is translated statement
by statement (`ddl_to_postgres`); one it cannot express gets its PostgreSQL text in PG_MIGRATIONS[index].

Errors: both backends raise `StorageError`s only, never a driver's own: `StorageUnavailable` when the database
cannot be used (locked past the busy timeout, disk I/O, read-only, a lost connection) and `StorageRejected` when
it refused the statement (a constraint, a data error), classified by `monitor.store.driver_errors`. On SQLite a
statement run inside `tx()` raises sqlite3's error to the code in the block (which may handle it); what leaves
the block is converted.

Migrations run when a writable Store opens (the daemon, `monitor run --once`), or deliberately with
`monitor migrate` (`Store(..., migrate=False)`, `schema_version`, `pending_migrations`, `migrate`).

Migrations are additive, and must stay so: replicas of the previous release keep running on the new schema
until they are restarted one by one, and on SQLite `monitor migrate` runs beside the running daemon. So an entry
of MIGRATIONS (or PG_MIGRATIONS) only adds: tables, nullable columns (or NOT NULL with a DEFAULT), indexes,
triggers, rows. It never drops or renames anything, never changes a column's type or constraints (ALTER
COLUMN, ADD CONSTRAINT), never adds a NOT NULL column without a DEFAULT (the old code's INSERTs would fail),
a UNIQUE index on an existing table, nor DELETEs/UPDATEs every row, TRUNCATEs or REPLACEs rows. One that must
(a release that drops what no released version reads any more) is listed in DESTRUCTIVE_MIGRATIONS with the
reason it is safe; `tests/test_migrations_additive.py` fails on any other.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.core.clock import Clock, SystemClock
from monitor.core.errors import LockHeld, StorageError, StorageUnavailable
from monitor.store import dialect
from monitor.store.driver_errors import from_sqlite

log = logging.getLogger(__name__)

# Each entry moves the schema one version up; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, cursor TEXT, etag TEXT, last_modified TEXT,
        last_attempt REAL, last_success REAL, last_error TEXT, last_error_at REAL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0, next_run REAL, disabled_reason TEXT,
        health_alerted INTEGER NOT NULL DEFAULT 0, items_total INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE mentions (
        id INTEGER PRIMARY KEY, source_id TEXT NOT NULL, source_kind TEXT NOT NULL, external_id TEXT NOT NULL,
        url TEXT, author TEXT, title TEXT, text TEXT NOT NULL, published REAL, collected_at REAL NOT NULL,
        language TEXT, reach INTEGER, rating REAL, raw TEXT,
        brands TEXT, score REAL, negative INTEGER, unscored INTEGER, drivers TEXT, routes TEXT,
        status TEXT, processed_at REAL,
        UNIQUE (source_id, external_id));
    CREATE INDEX mentions_unprocessed ON mentions (id) WHERE processed_at IS NULL;
    CREATE INDEX mentions_collected ON mentions (collected_at);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'mention', group_key TEXT NOT NULL,
        brand TEXT, route TEXT, policy TEXT, targets TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open',
        title TEXT, mention_count INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL, updated_at REAL NOT NULL, acked_at REAL, acked_by TEXT,
        resolved_at REAL, resolved_by TEXT, level INTEGER NOT NULL DEFAULT 0, next_action_at REAL,
        snoozed_until REAL);
    CREATE INDEX alerts_group ON alerts (group_key, state);
    CREATE TABLE alert_mentions (
        alert_id INTEGER NOT NULL REFERENCES alerts (id), mention_id INTEGER NOT NULL REFERENCES mentions (id),
        PRIMARY KEY (alert_id, mention_id));
    CREATE TABLE alert_events (
        id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id), at REAL NOT NULL,
        kind TEXT NOT NULL, actor TEXT, detail TEXT);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY, alert_id INTEGER REFERENCES alerts (id), dedupe_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL, owner TEXT, channel TEXT NOT NULL, payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, not_before REAL,
        last_error TEXT, created_at REAL NOT NULL, sent_at REAL, slack_channel TEXT, slack_ts TEXT,
        parent_id INTEGER REFERENCES deliveries (id));
    CREATE INDEX deliveries_pending ON deliveries (channel, id) WHERE state = 'pending';
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY, mention_id INTEGER, alert_id INTEGER, brand TEXT, verdict TEXT NOT NULL,
        actor TEXT, at REAL NOT NULL, text TEXT);
    """,
    # v2: live health of stream sources (monitor.sources), written by the daemon, read by `monitor status`
    """
    CREATE TABLE stream_status (
        source_id TEXT PRIMARY KEY, connected INTEGER NOT NULL DEFAULT 0, connected_at REAL,
        last_event_at REAL, event_time REAL, lag REAL, events INTEGER NOT NULL DEFAULT 0,
        matched INTEGER NOT NULL DEFAULT 0, malformed INTEGER NOT NULL DEFAULT 0,
        reconnects INTEGER NOT NULL DEFAULT 0, updated_at REAL, pid INTEGER);
    """,
    # v3: the alert lifecycle keeps all its timers and its policy in the row (restart-safe, reload-proof),
    # stories for grouping, spike state, and false-positive feedback.
    """
    ALTER TABLE alerts ADD COLUMN policy_levels TEXT;        -- the policy as it was when the alert opened
    ALTER TABLE alerts ADD COLUMN timing TEXT;               -- group_wait, group_interval, repeat_after, ack_timeout
    ALTER TABLE alerts ADD COLUMN quiet_exempt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN flush_at REAL;             -- next group message due (first post or update)
    ALTER TABLE alerts ADD COLUMN flushed_at REAL;
    ALTER TABLE alerts ADD COLUMN notified_at REAL;          -- first root message queued
    ALTER TABLE alerts ADD COLUMN notified_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN last_notified_at REAL;     -- last ping (repeat_after counts from here)
    ALTER TABLE alerts ADD COLUMN esc_base REAL;             -- level N fires at esc_base + after[N]
    ALTER TABLE alerts ADD COLUMN level_fired_at REAL;
    ALTER TABLE alerts ADD COLUMN level_repeats INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN next_action TEXT;          -- what fires at next_action_at
    ALTER TABLE alerts ADD COLUMN last_ack_at REAL;
    ALTER TABLE alerts ADD COLUMN resolution TEXT;           -- resolved | not_negative | folded
    ALTER TABLE alerts ADD COLUMN folded_into INTEGER;
    ALTER TABLE alerts ADD COLUMN story_text TEXT;
    ALTER TABLE alerts ADD COLUMN spike_firing INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN spike_last REAL;
    ALTER TABLE alerts ADD COLUMN spike_stats TEXT;
    CREATE INDEX alerts_flush ON alerts (flush_at) WHERE flush_at IS NOT NULL;
    CREATE INDEX alerts_next_action ON alerts (next_action_at) WHERE next_action_at IS NOT NULL;
    CREATE INDEX alerts_spike ON alerts (brand, kind, state);
    CREATE TABLE alert_stories (
        alert_id INTEGER NOT NULL REFERENCES alerts (id), key TEXT NOT NULL, PRIMARY KEY (key, alert_id));
    CREATE INDEX mentions_negative ON mentions (collected_at) WHERE negative = 1;
    CREATE INDEX feedback_at ON feedback (at);
    """,
    # v4: a source disabled by 401/403 remembers a fingerprint of its credentials and options, so it is
    # polled again as soon as ops change either (and not on every cron run with the same bad token).
    """
    ALTER TABLE sources ADD COLUMN disabled_fingerprint TEXT;
    """,
    # v5 (operations): retention keeps per-day counts of the mentions it prunes, and remembers its last run.
    """
    CREATE INDEX alert_mentions_mention ON alert_mentions (mention_id);
    CREATE INDEX mentions_source_counts ON mentions (source_id, status, negative);   -- metrics: covering scan
    CREATE TABLE mention_daily (
        day TEXT NOT NULL, source_id TEXT NOT NULL, brand TEXT NOT NULL,
        mentions INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0, negative INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, source_id, brand));
    CREATE TABLE maintenance (job TEXT PRIMARY KEY, last_run REAL NOT NULL, detail TEXT);
    """,
    # v6: columns the round-2 stages share, declared once so each stage can be built against them: the issue
    # type of a negative mention (analyse), and the first response to an alert (a reply posted or marked).
    """
    ALTER TABLE mentions ADD COLUMN issue TEXT;              -- billing | delivery | outage | ... | NULL
    ALTER TABLE alerts ADD COLUMN issue TEXT;                -- the issue type of the alert's first mention
    ALTER TABLE alerts ADD COLUMN first_response_at REAL;    -- first reply posted or marked replied
    ALTER TABLE alerts ADD COLUMN first_response_by TEXT;
    """,
    # v7 (dashboard): full-text search over mention text for `monitor ui`, kept in step by triggers so every
    # write of runtime.pipeline (the one writer of mentions) and of retention's pruning updates it in the same
    # transaction; an external-content table stores no second copy of the text. The weekly report remembers
    # each week's run (monitor.ops.dashboard.schedule owns `reports`): written before posting, marked after.
    """
    CREATE VIRTUAL TABLE mentions_fts USING fts5(title, text, author, content='mentions', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2');
    INSERT INTO mentions_fts (rowid, title, text, author) SELECT id, title, text, author FROM mentions;
    CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN
        INSERT INTO mentions_fts (rowid, title, text, author) VALUES (new.id, new.title, new.text, new.author);
    END;
    CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, title, text, author)
        VALUES ('delete', old.id, old.title, old.text, old.author);
    END;
    CREATE TRIGGER mentions_fts_au AFTER UPDATE OF title, text, author ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, title, text, author)
        VALUES ('delete', old.id, old.title, old.text, old.author);
        INSERT INTO mentions_fts (rowid, title, text, author) VALUES (new.id, new.title, new.text, new.author);
    END;
    CREATE INDEX mentions_dashboard ON mentions (collected_at, status, negative, unscored, score, reach, issue,
        source_id, brands);                                  -- the dashboard's period scans read the index only
    CREATE TABLE reports (
        period TEXT PRIMARY KEY, created_at REAL NOT NULL, since REAL NOT NULL, until REAL NOT NULL,
        html_path TEXT, posted_at REAL, slack_file_id TEXT, last_error TEXT, attempts INTEGER NOT NULL DEFAULT 0);
    """,
    # v8 (judgement): labels the learned sentiment layer trains on, owned by monitor.alerting.labels: Not-negative
    # clicks, acknowledged/resolved alerts, `monitor label` and CSV imports. `key` makes every source idempotent.
    """
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, mention_id INTEGER, text TEXT NOT NULL, language TEXT,
        negative INTEGER NOT NULL, origin TEXT NOT NULL, actor TEXT, at REAL NOT NULL);
    CREATE INDEX labels_mention ON labels (mention_id);
    """,
    # v9 (notify): a post whose outcome is not known yet. `in_flight_at` is written before every post and
    # cleared with its outcome, so after a timeout, a crash or a failed write the outbox looks for the
    # message in Slack before posting again; `unknown_outcomes` counts the blind retries (at most one).
    """
    ALTER TABLE deliveries ADD COLUMN in_flight_at REAL;
    ALTER TABLE deliveries ADD COLUMN unknown_outcomes INTEGER NOT NULL DEFAULT 0;
    """,
    # v10 (runtime): the outcome of the last load of each config file, so `monitor status` can say that the
    # daemon runs an older config than the file on disk (a reload failed, or a change needs a restart).
    """
    CREATE TABLE config_state (
        file TEXT PRIMARY KEY,          -- config | rules
        path TEXT NOT NULL, ok INTEGER NOT NULL, at REAL NOT NULL,
        message TEXT);                  -- why the reload failed, or what waits for a restart
    """,
    # v11 (respond): replies to the original post, stored before they are posted, and the actions (tickets,
    # webhooks) a route runs when an alert opens; each row is done once, retried like the outbox.
    """
    CREATE TABLE replies (
        id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id), mention_id INTEGER,
        platform TEXT NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL,
        state TEXT NOT NULL,                 -- awaiting_approval | approved | posted | marked | rejected | failed
        approver TEXT, decided_by TEXT, decided_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0, not_before REAL, last_error TEXT,
        created_at REAL NOT NULL, posted_at REAL, external_id TEXT, url TEXT, notify TEXT);
    CREATE INDEX replies_due ON replies (not_before) WHERE state = 'approved';
    CREATE INDEX replies_alert ON replies (alert_id);
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id), name TEXT NOT NULL,
        kind TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',     -- pending | done | failed
        attempts INTEGER NOT NULL DEFAULT 0, not_before REAL, last_error TEXT, created_at REAL NOT NULL,
        done_at REAL, ticket_key TEXT, ticket_url TEXT,
        close_state TEXT, closed_at REAL,                              -- NULL | pending | closed | failed
        UNIQUE (alert_id, name));
    CREATE INDEX actions_due ON actions (not_before) WHERE state = 'pending' OR close_state = 'pending';
    """,
    # v12 (replicas): leases on the database clock with fencing tokens, the live replicas, and per-source next
    # poll times shared by every replica (monitor.store.leases owns these tables).
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL DEFAULT 1,
        acquired_at REAL NOT NULL, expires_at REAL NOT NULL);
    CREATE TABLE replicas (
        id TEXT PRIMARY KEY, hostname TEXT, pid INTEGER, started_at REAL NOT NULL, seen_at REAL NOT NULL,
        config_hash TEXT, version TEXT, stopped_at REAL);
    CREATE TABLE poll_due (source_id TEXT PRIMARY KEY, due_at REAL NOT NULL, by_replica TEXT);
    ALTER TABLE mentions ADD COLUMN claimed_until REAL;     -- a replica is routing it (runtime.pipeline)
    """,
    # v13 (runtime): a mention whose analysis or routing raised ("poison") is counted, retried with a backoff and,
    # after `daemon.max_route_attempts`, parked: no longer claimed, kept, shown by `monitor status` until
    # `monitor retry-mentions` resets it. Written by runtime.pipeline in its own transaction.
    """
    ALTER TABLE mentions ADD COLUMN route_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mentions ADD COLUMN route_error TEXT;        -- exception type and message, capped; never the text
    ALTER TABLE mentions ADD COLUMN route_failed_at REAL;
    ALTER TABLE mentions ADD COLUMN route_retry_at REAL;     -- not claimed again before (database clock)
    ALTER TABLE mentions ADD COLUMN route_parked_at REAL;    -- parked: not claimed until retried
    CREATE INDEX mentions_route_failing ON mentions (id) WHERE route_attempts > 0 AND processed_at IS NULL;
    """,
    # v14 (sources): when a stream lost its connection (or first failed to get one); NULL while connected or
    # after a successful `run --once` catch-up. `monitor status` makes a stream down this long a problem.
    """
    ALTER TABLE stream_status ADD COLUMN down_since REAL;
    """,
    # v15 (runtime): routing paused uncounted (the store unavailable to the routing pass, or the slow-server
    # breaker tripped), one row per replica, so `monitor status` and the dashboard say why mentions wait.
    # Written by runtime.pauses only; deleted when that replica's pass routes again.
    """
    CREATE TABLE routing_pauses (
        replica TEXT PRIMARY KEY,            -- the Coordinator's holder; 'local' with SQLite
        since REAL NOT NULL, seen_at REAL NOT NULL,
        cause TEXT NOT NULL,                 -- outage | slow_server
        reason TEXT NOT NULL, waiting INTEGER);
    """,
    # v16 (dashboard): the feed's full-text search on PostgreSQL reads an index instead of every row of the period
    # (1.2 s at 100,000 mentions). Nothing on SQLite, whose FTS5 table (v7) already serves it: the PostgreSQL text
    # is PG_MIGRATIONS[15].
    "",
    # v17 (dashboard): the PostgreSQL search folds accents as SQLite's FTS5 (unicode61 remove_diacritics) does:
    # "cafe" finds "café". Nothing on SQLite; PostgreSQL: PG_MIGRATIONS[16].
    "",
    # v18 (ops): when a mention was last routed, read from an index: `monitor status`'s stall check
    # (monitor.ops.stall) read MAX(processed_at) from every row of mentions. PostgreSQL: PG_MIGRATIONS[17].
    """
    CREATE INDEX mentions_processed ON mentions (processed_at);
    """,
    # v19 (dashboard): the weekly report's upload in flight, as
    # deliveries' v9. `in_flight_at` is written before files.getUploadURLExternal, `slack_file_id` as soon as
    # Slack reserved the file (before files.completeUploadExternal shares it), so a row found in flight is
    # looked for in the channel's history by that id before anything is uploaded again; `slack_ts` is the
    # share's message; `blind_posts` counts uploads made without being able to look (at most one).
    """
    ALTER TABLE reports ADD COLUMN in_flight_at REAL;
    ALTER TABLE reports ADD COLUMN slack_ts TEXT;
    ALTER TABLE reports ADD COLUMN blind_posts INTEGER NOT NULL DEFAULT 0;
    """,
    # v20 (runtime): cron passes (`run --once`) on several boxes against one PostgreSQL share each source's turn:
    # `polled_at` is the start (database clock) of the last poll that finished, `polled_by` its replica, written
    # under its host lease; a pass finding it within half the source's `every` skips the source and says so in
    # `taken_at`/`taken_by` (`monitor status`). monitor.store.poll_turns owns them, as the rest of poll_due.
    """
    ALTER TABLE poll_due ADD COLUMN polled_at REAL;
    ALTER TABLE poll_due ADD COLUMN polled_by TEXT;
    ALTER TABLE poll_due ADD COLUMN taken_at REAL;
    ALTER TABLE poll_due ADD COLUMN taken_by TEXT;
    """,
    # v21 (respond): who claimed a reply or an action (`claimed_by`, the replica's holder) and until when on the
    # database clock (`claimed_until`), as mentions' routing claims: on PostgreSQL a replica starting no longer
    # releases a claim another replica is posting under (it posted the reply twice); a dead replica's claim
    # lapses and any replica takes it. monitor.respond owns them, as the rest of both tables.
    """
    ALTER TABLE replies ADD COLUMN claimed_by TEXT;
    ALTER TABLE replies ADD COLUMN claimed_until REAL;
    ALTER TABLE actions ADD COLUMN claimed_by TEXT;
    ALTER TABLE actions ADD COLUMN claimed_until REAL;
    """,
    # v22 (runtime): what a cron pass's skip of a source rested on, for `monitor status`: `taken_within` the window
    # (half the cron interval), `taken_assumed` 1 when that interval was the source's `every` because
    # `daemon.cron_interval` is unset. monitor.store.poll_turns owns them, as the rest of poll_due.
    """
    ALTER TABLE poll_due ADD COLUMN taken_within REAL;
    ALTER TABLE poll_due ADD COLUMN taken_assumed INTEGER NOT NULL DEFAULT 0;
    """,
]

# PostgreSQL text for a migration the translator cannot express (index -> script); empty while none needs one.
PG_MIGRATIONS: dict[int, str] = {
    # v7 (dashboard) on PostgreSQL: no FTS5 (the dashboard, `monitor ui`, is SQLite-only and says so), the
    # covering index and the weekly report's table as on SQLite
    6: """
    CREATE INDEX mentions_dashboard ON mentions (collected_at, status, negative, unscored, score, reach, issue,
        source_id, brands);
    CREATE TABLE reports (
        period TEXT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL, since DOUBLE PRECISION NOT NULL,
        until DOUBLE PRECISION NOT NULL, html_path TEXT, posted_at DOUBLE PRECISION, slack_file_id TEXT,
        last_error TEXT, attempts INTEGER NOT NULL DEFAULT 0);
    """,
    # v16 on PostgreSQL: a GIN index on the expression the feed searched then (the planner uses an expression
    # index only for the same expression). to_tsvector with its configuration named is immutable, as an index
    # expression must be. Built CONCURRENTLY, outside a transaction (`monitor.store.pg_online`): writers to mentions
    # go on meanwhile; an INVALID index left by a build cut short is dropped and built again. v17 replaces it.
    15: """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS mentions_search ON mentions USING GIN
        (to_tsvector('simple', COALESCE(title, '') || ' ' || text || ' ' || COALESCE(author, '')));
    """,
    # v17 on PostgreSQL: the searched document with its accents folded (`unaccent` through the IMMUTABLE
    # `monitor_unaccent`, whose real text `pg_online.fold_function_sql` writes: the extension's schema named, or the
    # identity when this role may not create the extension), indexed as `monitor.ops.dashboard.feed.PG_SEARCH_VECTOR`
    # searches it, CONCURRENTLY; then v16's index, which no query of this version reads, is dropped.
    16: """
    CREATE EXTENSION IF NOT EXISTS unaccent;
    CREATE OR REPLACE FUNCTION monitor_unaccent(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $fold$ SELECT unaccent('unaccent'::regdictionary, value) $fold$;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS mentions_search_folded ON mentions USING GIN
        (to_tsvector('simple', monitor_unaccent(COALESCE(title, '') || ' ' || text || ' ' || COALESCE(author, ''))));
    DROP INDEX CONCURRENTLY IF EXISTS mentions_search;
    """,
    # v18 on PostgreSQL: the same index, CONCURRENTLY (writers go on; `monitor.store.pg_online`)
    17: """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS mentions_processed ON mentions (processed_at);
    """,
}

# Migrations allowed to be destructive (see the module docstring): index in MIGRATIONS -> why it is safe for the
# replicas of the previous release still running on the new schema. Empty: every migration so far only adds.
# Example: 20: "drops mentions.legacy_score, which no release since v1.4 reads or writes",
DESTRUCTIVE_MIGRATIONS: dict[int, str] = {
    16: "drops v16's search index mentions_search (PostgreSQL): a replica of v16 still running searches without it "
        "(its search reads the period's rows, as before v16: slower, same results); nothing else reads it",
}

BUSY_TIMEOUT_S = 10.0
PG_SCHEMA_LOCK = 7_216_001       # advisory lock id: replicas starting together migrate one at a time

dialect.register_id_tables(MIGRATIONS)


def is_url(target: str | os.PathLike[str]) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


class Store:
    """The one gateway to the database; every method is safe to call from any thread."""

    def __init__(self, path: str | os.PathLike[str], clock: Clock | None = None, *, readonly: bool = False,
                 idle_in_transaction: float | None = None, migrate: bool = True,
                 connect_timeout: float | None = None):
        """`readonly`: for commands that only look (`monitor status`): never creates, migrates or writes the file,
        so running one as another user (root, say) cannot leave anything the service user cannot open.

        `idle_in_transaction` (PostgreSQL; a replica passes its lease TTL): the server ends a session left idle
        inside a transaction that long. A replica paused mid-transaction (SIGSTOP, GC, a frozen VM) otherwise
        keeps its share lock on the lease row, so no one could take the lease over until it woke, and its
        commit would then go through long after its lease had lapsed; now it is cut off and commits nothing.

        `migrate=False` (`monitor migrate`): open without bringing the schema up to date nor checking its
        version; the caller reads `schema_version()` and calls `migrate()` itself.

        `connect_timeout` (PostgreSQL): fail within this many seconds, in one line, when the server cannot be
        reached (a one-shot command); None: the process's default (`monitor.store.patience.fail_fast`)."""
        self.auto_migrate = migrate
        self.path = str(path)
        self.idle_in_transaction = idle_in_transaction
        self.connect_timeout = connect_timeout
        self.clock = clock or SystemClock()
        self.readonly = readonly
        self._lock = threading.RLock()
        self._fences = threading.local()
        self.pg: Any = None
        self.dialect = "sqlite"
        self.display = self.path              # for messages: the URL without its password on PostgreSQL
        if is_url(self.path):
            self._open_postgres()
            return
        if readonly and not Path(self.path).exists():
            raise StorageError(f"no database at {self.path} yet: start the daemon (or run `monitor run --once`) first")
        if self.path != ":memory:" and not readonly:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            if readonly:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            # the database clock of leases (`db_now()` in SQL); PostgreSQL's is clock_timestamp()
            conn.create_function("db_now", 0, self.clock.now)
        except sqlite3.Error as exc:
            raise from_sqlite(exc, f"cannot open database {self.path}") from exc
        try:
            self._open(readonly)
        except sqlite3.OperationalError as exc:          # locked, read-only file system...: not corruption
            self.db.conn.close()
            raise from_sqlite(exc, f"cannot open database {self.path}") from None
        except sqlite3.DatabaseError as exc:
            self.db.conn.close()
            raise StorageUnavailable(corrupted(self.path, str(exc)), driver=type(exc).__name__) from None
        except StorageError:
            self.db.conn.close()
            raise

    def _open(self, readonly: bool) -> None:
        if not self.auto_migrate:
            return
        if readonly:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version != len(MIGRATIONS):
                raise StorageError(f"database {self.path} has schema v{version}, this version of mention-monitor "
                                   f"uses v{len(MIGRATIONS)}: run `monitor migrate` (or start the daemon once to "
                                   f"migrate it), then look again")
            return
        self._migrate()

    # -- schema version (`monitor migrate`) -------------------------------------------------------------
    @property
    def target_version(self) -> int:
        return len(MIGRATIONS)

    def schema_version(self) -> int:
        """The schema version the database is at now (0: empty)."""
        if self.pg is not None:
            return self._pg_version()
        try:
            with self._lock:
                return int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise from_sqlite(exc, f"cannot read the schema version of {self.path}") from exc

    def pending_migrations(self) -> list[tuple[int, list[str]]]:
        """(version it brings the schema to, its statements in this database's dialect) for each step to run."""
        version = self.schema_version()
        if version > len(MIGRATIONS):
            raise StorageError(f"database {self.display} has schema v{version}, newer than this version of "
                               f"mention-monitor understands (v{len(MIGRATIONS)}); upgrade first")
        return [(step + 1, migration_statements(step, postgres=self.pg is not None))
                for step in range(version, len(MIGRATIONS))]

    def migrate(self) -> tuple[int, int]:
        """Apply the pending migrations (safe beside a running daemon or replicas: SQLite's write lock, the
        PostgreSQL advisory lock); returns (version found under the lock, version now)."""
        if self.readonly:
            raise StorageError(f"database {self.display} was opened read-only: it cannot be migrated")
        if self.pg is not None:
            return self._migrate_postgres()
        return self._migrate()

    # -- plumbing ---------------------------------------------------------------------------------------
    def _migrate(self) -> tuple[int, int]:
        """Bring the schema up to date; safe when two processes open a fresh database at the same moment.

        Each step takes the write lock first (BEGIN IMMEDIATE) and re-reads the version inside it, so the
        second process waits, then sees the work already done (regression: "table sources already exists"
        when `monitor status` ran during the daemon's first start). Returns (version found, version now).
        """
        found: int | None = None
        with self._lock:
            while True:
                version: int | None = None
                try:
                    self.db.conn.execute("BEGIN IMMEDIATE")
                    version = int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])
                    found = version if found is None else found
                    if version > len(MIGRATIONS):
                        self.db.conn.rollback()
                        raise StorageError(f"database {self.path} has schema v{version}, newer than this version "
                                           f"of mention-monitor understands (v{len(MIGRATIONS)}); upgrade first")
                    if version == len(MIGRATIONS):
                        self.db.conn.rollback()
                        return found, version
                    # executescript would COMMIT first; run the statements one by one inside our transaction
                    for statement in _statements(MIGRATIONS[version]):
                        self.db.conn.execute(statement)
                    self.db.conn.execute(f"PRAGMA user_version={version + 1}")
                    self.db.conn.commit()
                except sqlite3.Error as exc:
                    if self.db.conn.in_transaction:
                        self.db.conn.rollback()
                    doing = ("cannot start the migration" if version is None
                             else f"migration to schema v{version + 1} failed")
                    raise from_sqlite(exc, doing) from exc

    def _open_postgres(self) -> None:
        from monitor.store.postgres import PgPool, redact
        self.dialect = "postgres"
        offset = None if isinstance(self.clock, SystemClock) else (lambda: self.clock.now() - time.time())
        self.pg = PgPool(self.path, readonly=self.readonly, clock_offset=offset,
                         idle_in_transaction=self.idle_in_transaction, connect_timeout=self.connect_timeout)
        self.db = _AutoDb(self)  # type: ignore[assignment]   # the execute/query subset callers use
        self.display = redact(self.path)
        if self.readonly:
            version = self._pg_version()
            if version != len(MIGRATIONS) and self.auto_migrate:
                self.pg.close()
                raise StorageError(f"database {self.display} has schema v{version}, this version of "
                                   f"mention-monitor uses v{len(MIGRATIONS)}: run `monitor migrate` (or start a "
                                   f"replica once to migrate it)")
            return
        if self.auto_migrate:
            try:
                self._migrate_postgres()
            except BaseException:
                self.pg.close()
                raise

    def _pg_version(self) -> int:
        rows = self.pg.query("SELECT to_regclass('monitor_schema') IS NOT NULL AS present")
        if not rows or not rows[0]["present"]:
            return 0
        row = self.pg.query("SELECT version FROM monitor_schema")
        return int(row[0]["version"]) if row else 0

    def _migrate_postgres(self) -> tuple[int, int]:
        """As `_migrate`, for PostgreSQL: one replica at a time (the schema's advisory lock, held as a session
        lock for the whole run: `pg_online.lock_schema`), each step in one transaction, but the steps that build
        an index CONCURRENTLY (`pg_online.NON_TRANSACTIONAL`), run statement by statement, each idempotent, and
        marked done after their last. Returns (version found under the lock, version now)."""
        from monitor.store import pg_online
        try:
            with self.pg.pool.connection(timeout=self.pg.wait) as conn:   # autocommit: the lock and the builds
                pg_online.lock_schema(conn, PG_SCHEMA_LOCK)
                try:
                    return self._migrate_postgres_locked(conn)
                finally:
                    pg_online.unlock_schema(conn, PG_SCHEMA_LOCK)
        except StorageError:
            raise
        except Exception as exc:                  # psycopg's (the lock's connection), the pool's timeout
            from monitor.store.driver_errors import from_psycopg
            raise from_psycopg(exc, "cannot migrate the schema") from exc

    def _migrate_postgres_locked(self, conn: Any) -> tuple[int, int]:
        from monitor.store import pg_online
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS monitor_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM monitor_schema").fetchone()
            if row is None:
                db.execute("INSERT INTO monitor_schema (version) VALUES (0)")
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StorageError(f"database {self.display} has schema v{version}, newer than this version "
                               f"of mention-monitor understands (v{len(MIGRATIONS)}); upgrade first")
        for step in range(version, len(MIGRATIONS)):
            statements = postgres_statements(step)
            if step in pg_online.NON_TRANSACTIONAL:
                try:
                    pg_online.run_step(conn, step, statements)
                except Exception as exc:
                    raise pg_online.failed(exc, step, " ".join(statements)[:200]) from exc
                with self.tx() as db:
                    db.execute("UPDATE monitor_schema SET version = ?", (step + 1,))
                continue
            with self.tx() as db:                                     # the step is whole or absent
                for statement in statements:
                    try:
                        db.conn.execute(statement)
                    except Exception as exc:
                        from monitor.store.driver_errors import from_psycopg
                        raise from_psycopg(exc, f"migration to schema v{step + 1} failed", sql=statement) from exc
                db.execute("UPDATE monitor_schema SET version = ?", (step + 1,))
        if version == len(MIGRATIONS):
            pg_online.refold(conn)                # a degraded v17 whose extension has since become available
        return version, max(version, len(MIGRATIONS))

    @property
    def is_postgres(self) -> bool:
        return self.pg is not None

    @property
    def shared(self) -> bool:
        """True when other replicas may use the same database (leases can be refused)."""
        return self.pg is not None

    @contextmanager
    def fence(self, *leases: Any) -> Iterator[None]:
        """Every transaction this thread opens meanwhile commits only while these leases are still held.

        Checked (and the lease rows share-locked, so a takeover waits for this commit) at the start of each
        outermost transaction: a replica paused past its lease (GC, SIGSTOP, a VM migration) commits nothing.
        """
        stack: list[Any] = self._fences.__dict__.setdefault("stack", [])
        stack.extend(leases)
        try:
            yield
        finally:
            del stack[len(stack) - len(leases):]

    def _check_fences(self, db: Any) -> None:
        stack = getattr(self._fences, "stack", None)
        if stack:
            for lease in stack:
                lease.check(db)

    @contextmanager
    def tx(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work: all of it is committed, or none of it."""
        if self.pg is not None:
            with self._lock:
                outermost = self.pg.current is None
                with self.pg.transaction() as pdb:
                    if outermost:
                        self._check_fences(pdb)
                    yield pdb
            return
        with self._lock:
            if self.db.conn.in_transaction:      # nested: a savepoint inside the caller's transaction
                try:
                    with self.db.atomic():
                        yield self.db
                except sqlite3.Error as exc:     # leaves the block as a StorageError (see the module doc)
                    raise from_sqlite(exc) from exc
                return
            try:
                # IMMEDIATE takes the write lock up front: a deferred read-then-write transaction can fail
                # with SQLITE_BUSY_SNAPSHOT under WAL when another process (`monitor ack`) wrote meanwhile.
                self.db.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:          # busy past the timeout: StorageUnavailable
                raise from_sqlite(exc, "cannot start a transaction") from exc
            try:
                self._check_fences(self.db)
                yield self.db
            except BaseException as exc:
                if self.db.conn.in_transaction:
                    try:
                        self.db.conn.execute("ROLLBACK")
                    except sqlite3.Error:        # SQLite rolled back itself (I/O error...): the cause is raised
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise from_sqlite(exc) from exc
                raise
            try:
                self.db.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                raise from_sqlite(exc, "commit failed") from exc

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        if self.pg is not None:
            return self.pg.query(sql, params)      # outside a transaction: any pooled connection, no lock
        with self._lock:
            try:
                return list(self.db.query(sql, params))
            except sqlite3.Error as exc:
                raise from_sqlite(exc, sql=sql, params=params) from exc

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def probe(self) -> StorageUnavailable | None:
        """Does the server answer a routing-shaped write in time? A stand-in mention inserted and marked routed,
        rolled back (`monitor.store.probe`). None: it answered; else the error (57014: slow; else an outage)."""
        from monitor.store.probe import probe
        return probe(self)

    def close(self, timeout: float = 5.0) -> None:
        """Close within `timeout` (the daemon passes what its stop bound leaves); what could not end in time
        is said in one WARNING (its uncommitted work is lost with the connection, never half-written)."""
        deadline = time.monotonic() + timeout
        coord = getattr(self, "_coordinator", None)
        if coord is not None and not coord.halt(timeout):   # no renewals on a closed store (drain released the leases)
            log.warning("stop bound reached: the lease renewal thread is still in a database call; closing anyway",
                        extra={"timeout_s": round(timeout, 2)})
        if self.pg is not None:
            self.pg.close(max(0.0, deadline - time.monotonic()))
            return
        with self._lock:
            self.db.conn.close()

    def quick_check(self) -> str | None:
        """None when SQLite's `PRAGMA quick_check` finds the file sound, else one line saying what is wrong.

        Run at start (daemon and `run --once`): a corrupted database must stop the start with one line and
        an ops alert, not fail every poll with "database disk image is malformed" and tell nobody. PostgreSQL
        checks its own pages (and a replica's connection errors are reported as they happen): nothing to do."""
        if self.dialect != "sqlite":
            return None
        try:
            with self._lock:
                rows = [str(r[0]) for r in self.db.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows == ["ok"]:
            return None
        return corrupted(self.path, "; ".join(rows)[:300])

    def now(self) -> float:
        return self.clock.now()


def corrupted(path: str, detail: str) -> str:
    return (f"database {path} is corrupted ({detail}): stop the monitor, keep a copy, then restore a backup or "
            f"rebuild it with `sqlite3 {path} .recover | sqlite3 recovered.db`")


class _AutoDb:
    """`store.db` on PostgreSQL: each `execute` is its own short transaction (SQLite's autocommit reads)."""

    dialect = "postgres"

    def __init__(self, store: Store):
        self.store = store

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        with self.store.tx() as db:
            return db.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        return iter(self.store.query(sql, params))


def migration_statements(step: int, *, postgres: bool = False) -> list[str]:
    """The statements of migration `step` (it brings the schema to v{step + 1}) in the dialect's own SQL."""
    return postgres_statements(step) if postgres else _statements(MIGRATIONS[step])


def postgres_statements(step: int) -> list[str]:
    """The PostgreSQL statements of migration `step`: its own text in PG_MIGRATIONS, else the translation."""
    if step in PG_MIGRATIONS:
        return _statements(PG_MIGRATIONS[step])
    out = []
    for statement in _statements(MIGRATIONS[step]):
        translated = dialect.ddl_to_postgres(statement)
        if translated:
            out.append(translated)
    return out


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows where each one ends)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip().strip(";").strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def loads(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default


_SPENT_FDS: list[int] = []     # identity fds of released locks: kept open for the process's life (see below)


def _identity_fd(path: str) -> int | None:
    """An fd on the database file itself, for an flock on its device and inode. It is never closed: SQLite's
    own locks are POSIX locks, which closing *any* fd of the file drops, so this fd must outlive every
    connection (released ones are parked in _SPENT_FDS; one per lock taken, a handful per process)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


class RunLock:
    """An exclusive lock for the database, so two `--once` runs (or a run and the daemon) never overlap.

    A kernel file lock (flock) is released by the OS when the process dies, even by kill -9: no stale locks.
    It is taken twice: on `<real path>.lock` (symlinks resolved) and on the database file itself, which is its
    device and inode: a second daemon reaching the same file through a symlink (`--db link.db`) or a hard link
    is refused (regression: 20 messages became 37 posts with two daemons on one database). flock and
    SQLite's POSIX locks do not interact on Linux.
    """

    def __init__(self, db_path: str):
        self.db_path = os.path.realpath(db_path) if db_path != ":memory:" else db_path
        self.path = f"{self.db_path}.lock"
        self._fd: int | None = None
        self._identity: int | None = None
        # PostgreSQL: replicas are meant to run side by side; leases in the database coordinate them
        self.shared = is_url(db_path)

    def acquire(self) -> None:
        if self.shared:
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockHeld(f"{self.path} is held by pid {holder}: another `monitor run` is using this "
                           "database; this run exits without doing anything") from None
        identity = _identity_fd(self.db_path) if self.db_path != ":memory:" else None
        if identity is not None:
            try:
                fcntl.flock(identity, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _SPENT_FDS.append(identity)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                raise LockHeld(f"database {self.db_path} is in use by another `monitor run` that reached it by "
                               "another path (a hard link or another mount); this run exits without doing "
                               "anything") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd, self._identity = fd, identity

    def release(self) -> None:
        if self._identity is not None:
            fcntl.flock(self._identity, fcntl.LOCK_UN)
            _SPENT_FDS.append(self._identity)
            self._identity = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
