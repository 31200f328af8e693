"""One SQL text, two engines: the SQLite-flavoured SQL the code is written in, translated for PostgreSQL.

The product's SQL is written once, as SQLite understands it (qmark `?` parameters, `INSERT OR IGNORE`,
`ON CONFLICT … DO UPDATE`, `RETURNING`, `IS NOT 'x'`, `lastrowid`, integers as booleans, JSON as TEXT, REAL
epoch seconds). `to_postgres` rewrites a statement for PostgreSQL with a handful of explicit, mechanical
hooks, cached per text, so no module outside `monitor.store` has to know which engine it talks to:

- placeholders: `?` -> `%s`, `:name` -> `%(name)s` (sqlite3's named style, as the dashboard's queries use it;
  a cast's `::` is left alone) and a literal `%` -> `%%`; a `?` used as a boolean (`(? AND …)`) -> `(%s <> 0)`;
- `INSERT OR IGNORE INTO t …` -> `INSERT INTO t … ON CONFLICT DO NOTHING`;
- `lastrowid`: an INSERT into a table with an `id` column gets `RETURNING id` (the cursor hands it back);
- `a IS NOT 'x'` / `a IS ?` -> `IS DISTINCT FROM` / `IS NOT DISTINCT FROM` (SQLite's null-safe compare);
- `SUM(<comparison>)` -> `SUM(CASE WHEN <comparison> THEN 1 ELSE 0 END)` (SQLite sums booleans as 0/1);
- `json_each(x)` -> `json_array_elements_text((x)::json) AS json_each(value)` (`json_each(x) j`: `AS j(value)`);
  `instr(a, b)` -> `strpos(a, b)`; `json_quote(x)` -> `to_json(CAST(x AS TEXT))::text`; `CAST(x AS INTEGER)` ->
  `CAST(TRUNC(x) AS BIGINT)` (SQLite truncates a REAL toward zero where PostgreSQL rounds: a chart's bucket
  index must not move); `LIKE` -> `ILIKE` (SQLite's LIKE ignores ASCII case); `strftime('%s','now')` -> epoch now; `db_now()` -> the database clock (SQLite: a function the Store registers);
- DDL (`ddl_to_postgres`): `id INTEGER PRIMARY KEY` -> an identity column, `INTEGER` -> `BIGINT`,
  `REAL` -> `DOUBLE PRECISION`, `BLOB` -> `BYTEA`, PRAGMAs dropped. Not translated (give such an entry its
  PostgreSQL text in PG_MIGRATIONS): virtual tables (FTS5), triggers, `WITHOUT ROWID`, SQLite-only functions
  in DEFAULT expressions.

A migration appended to `MIGRATIONS` in SQLite syntax is therefore translated automatically; one the
translator cannot express gets a PostgreSQL text of its own in `PG_MIGRATIONS` (same index).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

# Tables whose INSERTs report `lastrowid`: every table created with `id INTEGER PRIMARY KEY`; filled from the
# migrations by `register_id_tables` (so a new table gets it without anyone editing this module).
ID_TABLES: set[str] = set()

_ID_TABLE = re.compile(r"CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)\s*\(\s*id\s+INTEGER\s+PRIMARY\s+KEY", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+(\w+)", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
_ON_CONFLICT = re.compile(r"\bON\s+CONFLICT\b", re.I)
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b)", re.I)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b)", re.I)
_LIKE = re.compile(r"(?<!I)\bLIKE\b", re.I)
_JSON_EACH = re.compile(r"\bjson_each\s*\(", re.I)
_SUM = re.compile(r"\bSUM\s*\(", re.I)
_INSTR = re.compile(r"\binstr\s*\(", re.I)
_JSON_QUOTE = re.compile(r"\bjson_quote\s*\(", re.I)
_CAST = re.compile(r"\bCAST\s*\(", re.I)
_AS_INTEGER = re.compile(r"\s+AS\s+INTEGER\s*$", re.I)
# `json_each(x) j`: the translation names the set `json_each`; a table alias after it names it instead
_JSON_EACH_ALIAS = re.compile(r"AS json_each\(value\)\s+(?:AS\s+)?(?!(?:WHERE|ON|JOIN|LEFT|INNER|CROSS|GROUP|ORDER"
                              r"|LIMIT|UNION|HAVING|AND|OR)\b)([A-Za-z_]\w*)", re.I)
_COMPARISON = re.compile(r"[<>=]|\bIN\s*\(|\bIS\b|\bLIKE\b|\bBETWEEN\b", re.I)
_DB_NOW = re.compile(r"\bdb_now\(\)", re.I)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")      # `:since`, not the `::` of a cast
_STRFTIME_NOW = re.compile(r"strftime\(\s*'%s'\s*,\s*'now'\s*\)", re.I)
# the database clock; `monitor.clock_offset` is 0 in production, and set by a Store on a test's fake clock
DB_NOW_PG = ("(EXTRACT(EPOCH FROM clock_timestamp())::double precision"
             " + COALESCE(NULLIF(current_setting('monitor.clock_offset', true), ''), '0')::double precision)")


def register_id_tables(migrations: list[str]) -> None:
    for script in migrations:
        ID_TABLES.update(m.group(1).lower() for m in _ID_TABLE.finditer(script))


def _split_quotes(sql: str) -> list[tuple[bool, str]]:
    """(is_quoted, text) chunks, so rewrites never touch string literals or quoted identifiers."""
    out: list[tuple[bool, str]] = []
    i, start, n = 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            if i > start:
                out.append((False, sql[start:i]))
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append((True, sql[i:j + 1]))
            i = start = j + 1
            continue
        if ch == "-" and sql.startswith("--", i):      # a comment runs to the end of the line
            if i > start:
                out.append((False, sql[start:i]))
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append((True, ""))                      # dropped: a '?' in a comment is not a parameter
            i = start = j
            continue
        i += 1
    if start < n:
        out.append((False, sql[start:]))
    return out


def _closing(sql: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at `open_at` (quotes already masked by the caller)."""
    depth = 0
    for i in range(open_at, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(sql) - 1


def _rewrite_calls(sql: str, masked: str, pattern: re.Pattern[str],
                   build: Callable[[str, str], str | None]) -> tuple[str, str]:
    """Rewrite `name(args)` calls; `masked` is `sql` with literals blanked so parentheses inside them don't count."""
    pos = 0
    while True:
        m = pattern.search(masked, pos)
        if not m:
            return sql, masked
        open_at = m.end() - 1
        close = _closing(masked, open_at)
        inner, inner_masked = sql[open_at + 1:close], masked[open_at + 1:close]
        new = build(inner, inner_masked)
        if new is None:
            pos = m.end()
            continue
        sql = sql[:m.start()] + new + sql[close + 1:]
        masked = masked[:m.start()] + _mask(new) + masked[close + 1:]
        pos = m.start() + len(new)


def _mask(sql: str) -> str:
    return "".join(("'" + "_" * (len(t) - 2) + "'" if len(t) >= 2 else t) if q else t for q, t in _split_quotes(sql))


def _sum(inner: str, inner_masked: str) -> str | None:
    if not _COMPARISON.search(inner_masked):
        return None
    return f"SUM(CASE WHEN {inner} THEN 1 ELSE 0 END)"


def _json_each(inner: str, _masked: str) -> str:
    return f"json_array_elements_text(({inner})::json) AS json_each(value)"


def _json_quote(inner: str, _masked: str) -> str:
    return f"to_json(CAST({inner} AS TEXT))::text"


def _cast_integer(inner: str, inner_masked: str) -> str | None:
    m = _AS_INTEGER.search(inner_masked)
    return f"CAST(TRUNC({inner[:m.start()]}) AS BIGINT)" if m else None


# a parameter standing alone as a boolean operand: `(? AND x)`, `x OR ?)`, `WHERE ? AND …`
_BOOL_PARAM = re.compile(r"(\(\s*)\?(?=\s*(?:AND|OR)\b)|(\b(?:AND|OR|WHERE|NOT)\s+)\?(?=\s*(?:\)|AND\b|OR\b|$))", re.I)


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """Translate one DML statement (see the module docstring); cached, as the same texts recur all day."""
    sql = _STRFTIME_NOW.sub("CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)", sql)
    parts = []
    for quoted, text in _split_quotes(sql):
        text = text.replace("%", "%%")               # psycopg reads % everywhere, literals included
        if quoted:
            parts.append(text)
            continue
        text = _BOOL_PARAM.sub(lambda m: f"{m.group(1) or m.group(2)}(?::bigint <> 0)", text)
        text = _IS_NOT.sub("IS DISTINCT FROM ", text)
        text = _IS.sub("IS NOT DISTINCT FROM ", text)
        text = _LIKE.sub("ILIKE", text)
        text = _INSTR.sub("strpos(", text)
        text = _NAMED.sub(r"%(\1)s", text)
        text = _DB_NOW.sub(DB_NOW_PG, text)
        parts.append(text.replace("?", "%s"))
    out = "".join(parts)
    masked = _mask(out)
    out, masked = _rewrite_calls(out, masked, _SUM, _sum)
    out, masked = _rewrite_calls(out, masked, _CAST, _cast_integer)
    out, masked = _rewrite_calls(out, masked, _JSON_QUOTE, _json_quote)
    out, masked = _rewrite_calls(out, masked, _JSON_EACH, _json_each)
    out = _JSON_EACH_ALIAS.sub(r"AS \1(value)", out)
    masked = _mask(out)
    m = _INSERT.match(out)
    if m:
        if m.group(1):
            out = out[:m.start(1)] + out[m.end(1):]
            masked = masked[:m.start(1)] + masked[m.end(1):]
            ret = _RETURNING.search(masked)
            if _ON_CONFLICT.search(masked):
                pass                                   # an explicit ON CONFLICT already says what to do
            elif ret:
                out = out[:ret.start()] + "ON CONFLICT DO NOTHING " + out[ret.start():]
            else:
                out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
        if m.group(2).lower() in ID_TABLES and not _RETURNING.search(_mask(out)):
            out = out.rstrip().rstrip(";") + " RETURNING id"
    return out


_DDL_ID = re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.I)
_DDL_BLOB = re.compile(r"\bBLOB\b", re.I)
_DDL_INT = re.compile(r"\bINTEGER\b", re.I)
_DDL_REAL = re.compile(r"\bREAL\b", re.I)


def ddl_to_postgres(statement: str) -> str | None:
    """Translate one schema statement; None for what PostgreSQL has no use for (PRAGMA)."""
    if statement.lstrip().upper().startswith("PRAGMA"):
        return None
    parts = []
    for quoted, text in _split_quotes(statement):
        if not quoted:
            text = _DDL_ID.sub("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", text)
            text = _DDL_INT.sub("BIGINT", text)
            text = _DDL_REAL.sub("DOUBLE PRECISION", text)
            text = _DDL_BLOB.sub("BYTEA", text)
        parts.append(text)
    return "".join(parts)
