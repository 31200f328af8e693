"""The mention feed (search and filters) and the alerts board, as typed rows ready for the templates.

Search is SQLite FTS5 over title, text and author (`mentions_fts`, kept by triggers). What people type is
never FTS syntax: each word becomes a quoted phrase (the last one a prefix), so `"`, `NEAR`, `*` or `-` in a
search box cannot break the query, and every value reaches SQL as a bound parameter. PostgreSQL has no FTS5
table: there the same words are a `simple` text-search query (lower-cased words, no stemming, the last one a
prefix: what FTS5's unicode61 tokenizer matches), with accents folded on both sides by `monitor_unaccent` (the
`unaccent` extension, as FTS5's `remove_diacritics` folds them; schema v17), read from a GIN index on the same
expression (`mentions_search_folded`) rather than from every row of the period. A role that may not create the
extension leaves the function the identity: search is then accent-sensitive, and `search_note` says so above the
results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from monitor.alerting.lifecycle import levels_of
from monitor.alerting.quiet import held_until
from monitor.config.rules import Rules
from monitor.ops.dashboard.figures import BRAND_SQL, MATCHED, SENTIMENT_SQL, Window
from monitor.store.database import Store, loads

PAGE = 50
# The searched document on PostgreSQL: exactly the expression of the `mentions_search_folded` GIN index (migration
# v17, PG_MIGRATIONS[16]); the planner uses an expression index only for the same expression, so a change here needs
# a new index (tests/test_search_postgres.py reads the plan).
PG_SEARCH_VECTOR = ("to_tsvector('simple', monitor_unaccent(COALESCE(m.title, '') || ' ' || m.text || ' ' ||"
                    " COALESCE(m.author, '')))")
ALERT_STATES = ("open", "acknowledged", "resolved", "none")    # the feed's alert filter


@dataclass(frozen=True)
class Filters:
    q: str = ""
    brand: str | None = None
    source: str | None = None
    sentiment: str | None = None
    issue: str | None = None
    language: str | None = None
    state: str | None = None          # the mention's alert: open, acknowledged, resolved, or none
    page: int = 0


def fts_query(text: str) -> str | None:
    """User words to a safe FTS5 expression: every word a quoted phrase, all required, the last a prefix."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)[:12]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def search_sql(store: Store, text: str) -> tuple[str, str] | None:
    """The feed's search condition for this store's engine and its bound value (`:match`); None: no words."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)[:12]
    if not words:
        return None
    if store.dialect == "postgres":      # \w+ words only: nothing in them is tsquery syntax
        query = " & ".join(w.lower() for w in words) + ":*"
        return f"{PG_SEARCH_VECTOR} @@ to_tsquery('simple', monitor_unaccent(:match))", query
    match = fts_query(text)
    assert match is not None
    return "m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH :match)", match


SEARCH_NOTE = ("search here does not fold accents (\"cafe\" does not find \"café\"): the database role may not "
               "create PostgreSQL's unaccent extension; a database owner can run CREATE EXTENSION unaccent, and the "
               "next start or `monitor migrate` folds them")


def search_note(store: Store) -> str | None:
    """What the feed says above its results when search is accent-sensitive (PostgreSQL without `unaccent`,
    `monitor.store.pg_online`); None when it folds accents as SQLite's FTS5 does."""
    if store.dialect != "postgres":
        return None
    from monitor.store.pg_online import accents_folded
    return SEARCH_NOTE if accents_folded(store) is False else None


@dataclass
class FeedRow:
    id: int
    collected_at: float
    source_id: str
    source_kind: str
    author: str | None
    title: str | None
    text: str
    url: str | None
    reach: int | None
    language: str | None
    brands: list[str]
    sentiment: str
    score: float | None
    drivers: list[dict[str, Any]]
    issue: str | None
    alert_id: int | None
    alert_state: str | None
    alert_resolution: str | None
    feedback: list[dict[str, Any]] = field(default_factory=list)


def feed(store: Store, w: Window, f: Filters) -> tuple[list[FeedRow], bool]:
    """One page of matched mentions in the period, newest first; and whether there is another page."""
    where = [f"m.collected_at >= :since AND m.collected_at < :until AND {MATCHED}"]
    p: dict[str, Any] = {**w.params(), "limit": PAGE + 1, "offset": max(0, f.page) * PAGE}
    brand = f.brand or w.brand
    if brand:
        where.append(BRAND_SQL)
        p["brand"] = brand
    search = search_sql(store, f.q)
    if search:
        where.append(search[0])
        p["match"] = search[1]
    for col, value in (("m.source_id", f.source), ("m.issue", f.issue), ("m.language", f.language)):
        if value:
            key = col.split(".")[1]
            where.append(f"{col} = :{key}")
            p[key] = value
    if f.sentiment:
        where.append(f"{SENTIMENT_SQL} = :sentiment")
        p["sentiment"] = f.sentiment
    alert = "(SELECT MAX(am.alert_id) FROM alert_mentions am WHERE am.mention_id = m.id)"
    if f.state == "none":
        where.append(f"{alert} IS NULL")
    elif f.state:
        where.append(f"(SELECT a.state FROM alerts a WHERE a.id = {alert}) = :state")
        p["state"] = f.state
    rows = store.query(
        f"SELECT m.*, {SENTIMENT_SQL} AS sentiment, {alert} AS alert_id FROM mentions m WHERE {' AND '.join(where)}"
        " ORDER BY m.collected_at DESC, m.id DESC LIMIT :limit OFFSET :offset", p)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    alerts = {a["id"]: a for a in store.query(
        f"SELECT id, state, resolution FROM alerts WHERE id IN ({','.join('?' * len(rows))})",
        tuple(r["alert_id"] for r in rows))} if rows else {}
    fb: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for r in store.query(f"SELECT mention_id, verdict, actor, at FROM feedback WHERE mention_id IN"
                             f" ({','.join('?' * len(rows))}) ORDER BY id", tuple(r["id"] for r in rows)):
            fb.setdefault(r["mention_id"], []).append(r)
    out = []
    for r in rows:
        a = alerts.get(r["alert_id"]) or {}
        out.append(FeedRow(r["id"], r["collected_at"], r["source_id"], r["source_kind"], r["author"], r["title"],
                           r["text"], r["url"], r["reach"], r["language"], loads(r["brands"], []) or [],
                           r["sentiment"], r["score"], loads(r["drivers"], []) or [], r["issue"], r["alert_id"],
                           a.get("state"), a.get("resolution"), fb.get(r["id"], [])))
    return out, more


def facets(store: Store, w: Window) -> dict[str, list[str]]:
    """The values the filter menus offer: what occurs in the period."""
    p = w.params()
    where = w.mention_where()
    out = {}
    for col in ("source_id", "issue", "language"):
        out[col] = [r["v"] for r in store.query(f"SELECT DISTINCT m.{col} AS v FROM mentions m WHERE {where}"
                                                f" AND m.{col} IS NOT NULL ORDER BY v LIMIT 200", p)]
    return out


@dataclass
class BoardAlert:
    id: int
    kind: str
    brand: str | None
    title: str | None
    column: str                       # open | held | acknowledged | resolved
    owners: list[str]
    level: int
    levels: int
    created_at: float
    mention_count: int
    issue: str | None
    held_until: float | None = None
    next_at: float | None = None
    next_what: str | None = None
    acked_by: str | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    snoozed_until: float | None = None


NEXT = {"escalate": "escalates", "repeat_level": "pings again", "remind": "reminder", "unsnooze": "snooze ends",
        "ack_timeout": "reopens (ack timeout)"}


# ties (alerts opened in one tick) broken by id: SQLite and PostgreSQL return tied rows in different orders
OPEN_ALERTS_SQL = "SELECT * FROM alerts WHERE state != 'resolved' ORDER BY created_at DESC, id DESC"


def open_alerts(store: Store) -> list[dict[str, Any]]:
    """Every alert not resolved, of every brand, latest first: the board's (filtered to its brand) and the status
    report's (its open alerts by owner), read once per request."""
    return store.query(OPEN_ALERTS_SQL)


def board(store: Store, rules: Rules | None, now: float, w: Window, resolved_limit: int = 20,
          open_rows: list[dict[str, Any]] | None = None) -> list[BoardAlert]:
    """Every alert not resolved, plus those resolved in the period (latest first), placed in their column.
    `open_rows`: `open_alerts()` as the caller read them (None: read here).

    "Held by quiet hours": `quiet.held_until` (the one definition, also counted by `monitor status` and the
    health strip): not resolved, not excepted by the current rules.yaml, its next message due before the
    current quiet window ends; it waits until the window ends, which is shown.
    """
    brand = " AND brand = :brand" if w.brand else ""
    rows = [a for a in (open_alerts(store) if open_rows is None else open_rows) if not w.brand or a["brand"] == w.brand]
    rows += store.query(f"SELECT * FROM alerts WHERE state = 'resolved' AND resolved_at >= :since{brand}"
                        " AND COALESCE(resolution, '') != 'folded' ORDER BY resolved_at DESC, id DESC LIMIT :n",
                        {**w.params(), "n": resolved_limit})
    out = []
    for a in rows:
        targets = loads(a["targets"], []) or []
        column = a["state"]
        held = held_until(rules, a, now)           # what `monitor status` and the health strip count
        if held is not None:
            column = "held"                         # an acknowledged alert keeps its "acknowledged by" line
        nxt, what = (a["flush_at"], "first message" if a["notified_at"] is None else "update") \
            if a["flush_at"] is not None else (a["next_action_at"], NEXT.get(a["next_action"] or "", a["next_action"]))
        out.append(BoardAlert(a["id"], a["kind"], a["brand"], a["title"] or a["story_text"], column,
                              list(dict.fromkeys(str(t.get("owner")) for t in targets)), a["level"],
                              len(levels_of(a)), a["created_at"], a["mention_count"], a["issue"], held,
                              None if a["state"] == "resolved" else nxt, what, a["acked_by"], a["resolved_by"],
                              a["resolution"], a["snoozed_until"]))
    return out
