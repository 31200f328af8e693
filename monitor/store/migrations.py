"""The schema's history: the versioned migrations, SQLite's text and PostgreSQL's, and the rules they keep.

Why a module of its own: the list only grows (one entry a release), its comments are the schema's changelog,
and `tests/test_migrations_additive.py` and `monitor migrate` read it without a Store; `database.py` applies it
(`Store._migrate`, `Store._migrate_postgres`), one step per version, under a lock.

Each entry of MIGRATIONS moves the schema one version up (entry i brings it to v{i + 1}), written in SQLite
syntax; `monitor.store.dialect` translates it statement by statement for PostgreSQL (`ddl_to_postgres`); one it
cannot express gets its PostgreSQL text in PG_MIGRATIONS[index]. Never edit a released entry: append a new one.

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

import sqlite3

from monitor.store import dialect

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

dialect.register_id_tables(MIGRATIONS)


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
