"""Migrations stay additive: every entry of MIGRATIONS and PG_MIGRATIONS is read, and a destructive statement
fails this test unless its migration is in `DESTRUCTIVE_MIGRATIONS`, with the reason it is safe.

Why: replicas of the previous release keep running on the new schema until they are restarted, and on SQLite
`monitor migrate` runs beside the running daemon. A DROP, a RENAME, a type change, a NOT NULL column without a
default (the old code's INSERTs fail), a UNIQUE index on an existing table, or rows deleted wholesale break
the code still running. (See monitor/store/migrations.py's docstring and README "Upgrading".)
"""

from __future__ import annotations

import re

import pytest

from monitor.store.migrations import DESTRUCTIVE_MIGRATIONS, MIGRATIONS, PG_MIGRATIONS, _statements

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("DROP", re.compile(r"\bDROP\b", re.I)),
    ("RENAME", re.compile(r"\bRENAME\b", re.I)),
    ("ALTER COLUMN (type, constraints)", re.compile(r"\bALTER\s+(COLUMN\s+)?\w+\s+(TYPE|SET\s+DATA\s+TYPE|SET\s+NOT"
                                                    r"\s+NULL)\b|\bALTER\s+COLUMN\b", re.I)),
    ("ADD CONSTRAINT", re.compile(r"\bADD\s+(CONSTRAINT|PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY)\b", re.I)),
    ("TRUNCATE", re.compile(r"\bTRUNCATE\b", re.I)),
    ("REPLACE rows", re.compile(r"\bREPLACE\s+INTO\b|\bINSERT\s+OR\s+REPLACE\b", re.I)),
]


def _clean(sql: str) -> str:
    """The statement without comments and string literals ('delete' is an FTS5 command, not a DELETE)."""
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def destructive(statement: str, created: set[str]) -> list[str]:
    """Why this statement is destructive (empty: it only adds). `created`: tables this migration creates."""
    sql = _clean(statement)
    found = [name for name, pattern in _RULES if pattern.search(sql)]
    # each statement of a trigger body (BEGIN ... END) is looked at on its own
    for part in re.split(r";|\bBEGIN\b|\bEND\b", sql, flags=re.I):
        if re.search(r"\bDELETE\s+FROM\b", part, re.I) and not re.search(r"\bWHERE\b", part, re.I):
            found.append("DELETE without WHERE")
        if re.search(r"^\s*UPDATE\s+\w+\s+SET\b", part, re.I) and not re.search(r"\bWHERE\b", part, re.I):
            found.append("UPDATE without WHERE (rewrites every row)")
    column = re.search(r"\bADD\s+(COLUMN\s+)?(\w+)\s+([^,;]*)", sql, re.I)
    if column and re.search(r"\bALTER\s+TABLE\b", sql, re.I):
        spec = column.group(3)
        if re.search(r"\bNOT\s+NULL\b", spec, re.I) and not re.search(r"\bDEFAULT\b", spec, re.I):
            found.append("NOT NULL column without DEFAULT")
    unique = re.search(r"\bCREATE\s+UNIQUE\s+INDEX\b.*?\bON\s+(\w+)", sql, re.I | re.S)
    if unique and unique.group(1).lower() not in created:
        found.append(f"UNIQUE index on the existing table {unique.group(1)}")
    return found


def _created(statements: list[str]) -> set[str]:
    return {m.group(1).lower() for s in statements
            for m in re.finditer(r"\bCREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", _clean(s), re.I)}


def _violations(script: str) -> list[str]:
    statements = _statements(script)
    created = _created(statements)
    return [f"{', '.join(why)}: {' '.join(s.split())[:160]}" for s in statements if (why := destructive(s, created))]


def _entries() -> list[tuple[str, int, str]]:
    out = [("MIGRATIONS", i, script) for i, script in enumerate(MIGRATIONS)]
    return out + [("PG_MIGRATIONS", i, script) for i, script in sorted(PG_MIGRATIONS.items())]


@pytest.mark.parametrize(("table", "index", "script"), _entries(),
                         ids=[f"{t}[{i}]-v{i + 1}" for t, i, _ in _entries()])
def test_every_migration_is_additive_unless_allow_listed_with_its_reason(table, index, script):
    found = _violations(script)
    if index in DESTRUCTIVE_MIGRATIONS:
        assert DESTRUCTIVE_MIGRATIONS[index].strip(), f"{table}[{index}] is allow-listed without a reason"
        return
    assert found == [], (f"{table}[{index}] (schema v{index + 1}) is destructive: {found}. Replicas of the previous "
                         "release still run on the new schema: make it additive, or list it in "
                         "monitor.store.migrations.DESTRUCTIVE_MIGRATIONS with why it is safe")


def test_the_allow_list_names_real_migrations():
    assert all(0 <= i < len(MIGRATIONS) for i in DESTRUCTIVE_MIGRATIONS)


@pytest.mark.parametrize("sql", [
    "DROP TABLE feedback;",
    "ALTER TABLE mentions DROP COLUMN raw;",
    "ALTER TABLE alerts RENAME COLUMN title TO subject;",
    "ALTER TABLE alerts RENAME TO incidents;",
    "ALTER TABLE mentions ALTER COLUMN score TYPE NUMERIC;",
    "ALTER TABLE mentions ALTER COLUMN url SET NOT NULL;",
    "ALTER TABLE mentions ADD CONSTRAINT text_short CHECK (length(text) < 100);",
    "ALTER TABLE mentions ADD COLUMN tenant TEXT NOT NULL;",
    "DELETE FROM mentions;",
    "UPDATE mentions SET score = 0;",
    "TRUNCATE alerts;",
    "INSERT OR REPLACE INTO sources (id, kind) VALUES ('x', 'rss');",
    "CREATE UNIQUE INDEX mentions_url ON mentions (url);",
    "DROP INDEX mentions_collected;",
    "CREATE TRIGGER t AFTER INSERT ON mentions BEGIN DELETE FROM feedback; END;",
])
def test_the_guard_catches_destructive_statements(sql):
    assert _violations(sql), sql


@pytest.mark.parametrize("sql", [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, key TEXT); CREATE UNIQUE INDEX t_key ON t (key);",
    "ALTER TABLE mentions ADD COLUMN tenant TEXT;               -- the tenant; NOT NULL would break old INSERTs",
    "ALTER TABLE mentions ADD COLUMN n INTEGER NOT NULL DEFAULT 0;",
    "CREATE INDEX mentions_url ON mentions (url) WHERE url IS NOT NULL;",
    "DELETE FROM maintenance WHERE job = 'obsolete';",
    "CREATE TRIGGER t AFTER DELETE ON mentions BEGIN INSERT INTO fts (fts, rowid) VALUES ('delete', old.id); END;",
])
def test_the_guard_lets_additive_statements_through(sql):
    assert _violations(sql) == [], sql
