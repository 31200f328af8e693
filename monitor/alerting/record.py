"""The typed alert record and the only SQL that writes the `alerts`, `alert_mentions`, `alert_stories`,
`alert_events` and `feedback` tables.

Every stage that changes an alert (grouping, spikes, timers, the lifecycle) does it through these functions
and the `Alert` dataclass, so a column's meaning lives in one place and a write cannot name a column that
does not exist (`update` refuses unknown fields before any SQL is built). Reads may stay plain SQL anywhere.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import sqlite_utils

from monitor.core.model import Target
from monitor.store.database import dumps, loads

Db = sqlite_utils.Database | sqlite3.Connection


@dataclass(slots=True)
class Alert:
    """One row of `alerts`. JSON columns (targets, policy_levels, timing, spike_stats) hold text."""

    kind: str
    group_key: str
    targets: str
    created_at: float
    updated_at: float
    id: int | None = None
    brand: str | None = None
    route: str | None = None
    policy: str | None = None
    state: str = "open"
    title: str | None = None
    mention_count: int = 0
    acked_at: float | None = None
    acked_by: str | None = None
    resolved_at: float | None = None
    resolved_by: str | None = None
    level: int = 0
    next_action_at: float | None = None
    snoozed_until: float | None = None
    policy_levels: str | None = None
    timing: str | None = None
    quiet_exempt: int = 0           # as at creation, kept for the record; "held now" is quiet.held_until
    flush_at: float | None = None
    flushed_at: float | None = None
    notified_at: float | None = None
    notified_count: int = 0
    last_notified_at: float | None = None
    esc_base: float | None = None
    level_fired_at: float | None = None
    level_repeats: int = 0
    next_action: str | None = None
    last_ack_at: float | None = None
    resolution: str | None = None
    folded_into: int | None = None
    story_text: str | None = None
    spike_firing: int = 0
    spike_last: float | None = None
    spike_stats: str | None = None
    issue: str | None = None
    first_response_at: float | None = None
    first_response_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # columns added by later migrations, read-only here

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Alert:
        known = {k: v for k, v in row.items() if k in FIELDS}
        return cls(**known, extra={k: v for k, v in row.items() if k not in FIELDS})

    @property
    def target_list(self) -> list[Target]:
        return [Target(**t) for t in loads(self.targets, [])]

    @property
    def levels(self) -> list[dict[str, Any]]:
        return loads(self.policy_levels, []) or []

    @property
    def timing_dict(self) -> dict[str, Any]:
        return loads(self.timing, {}) or {}


FIELDS = frozenset(f.name for f in fields(Alert)) - {"extra"}
_WRITABLE = FIELDS - {"id"}


def load(db: Db, alert_id: int) -> Alert | None:
    cur = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,))
    row = cur.fetchone()
    if row is None:
        return None
    return Alert.from_row(dict(zip([c[0] for c in cur.description], row, strict=True)))


def insert(db: Db, alert: Alert) -> int:
    """Store a new alert; returns its id."""
    values = {k: v for k, v in asdict(alert).items() if k in _WRITABLE}
    cols = sorted(values)
    cur = db.execute(f"INSERT INTO alerts ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                     tuple(values[c] for c in cols))
    return int(cur.lastrowid or 0)


def update(db: Db, alert_id: int, *, expect: Mapping[str, Any] | None = None, **changes: Any) -> bool:
    """Set the given fields of one alert; with `expect`, only while those fields still hold those values
    (a compare-and-set, for steps two processes may race on). Returns whether a row changed."""
    unknown = (set(changes) | set(expect or {})) - _WRITABLE
    if unknown:
        raise ValueError(f"not alert fields: {sorted(unknown)}")
    if not changes:
        return False
    sets = ", ".join(f"{k} = ?" for k in changes)
    where = "".join(f" AND {k} IS ?" for k in (expect or {}))
    params = (*(dumps(v) if isinstance(v, list | dict) else v for v in changes.values()), alert_id,
              *(expect or {}).values())
    return bool(db.execute(f"UPDATE alerts SET {sets} WHERE id = ?{where}", params).rowcount)


def recount(db: Db, alert_id: int, now: float | None = None) -> None:
    """mention_count from the links themselves (after a bulk link)."""
    if now is None:
        db.execute("UPDATE alerts SET mention_count = (SELECT COUNT(*) FROM alert_mentions WHERE alert_id = ?)"
                   " WHERE id = ?", (alert_id, alert_id))
    else:
        db.execute("UPDATE alerts SET mention_count = (SELECT COUNT(*) FROM alert_mentions WHERE alert_id = ?),"
                   " updated_at = ? WHERE id = ?", (alert_id, now, alert_id))


def link_mention(db: Db, alert_id: int, mention_id: int | None, story_keys: list[str], now: float) -> bool:
    """Attach one mention (and its story keys) to an alert; False when it was attached already."""
    if not db.execute("INSERT OR IGNORE INTO alert_mentions (alert_id, mention_id) VALUES (?, ?)",
                      (alert_id, mention_id)).rowcount:
        return False
    for k in story_keys:
        db.execute("INSERT OR IGNORE INTO alert_stories (alert_id, key) VALUES (?, ?)", (alert_id, k))
    db.execute("UPDATE alerts SET mention_count = mention_count + 1, updated_at = ? WHERE id = ?", (now, alert_id))
    return True


def link_mentions_of(db: Db, alert_id: int, other_alert_id: int) -> None:
    """Attach every mention of another alert (a group folded into a spike)."""
    db.execute("INSERT OR IGNORE INTO alert_mentions (alert_id, mention_id) SELECT ?, mention_id"
               " FROM alert_mentions WHERE alert_id = ?", (alert_id, other_alert_id))


def link_selected(db: Db, alert_id: int, mentions_sql: str, params: tuple[Any, ...]) -> None:
    """Attach the mentions a trusted `SELECT id FROM mentions ...` (written in this package) returns."""
    if not mentions_sql.lstrip().upper().startswith("FROM MENTIONS"):
        raise ValueError("link_selected takes a 'FROM mentions ...' clause")
    db.execute(f"INSERT OR IGNORE INTO alert_mentions (alert_id, mention_id) SELECT ?, id {mentions_sql}",
               (alert_id, *params))


def add_event(db: Db, alert_id: int, now: float, kind: str, actor: str | None, detail: str | None = None) -> int:
    cur = db.execute("INSERT INTO alert_events (alert_id, at, kind, actor, detail) VALUES (?,?,?,?,?)",
                     (alert_id, now, kind, actor, detail))
    return int(cur.lastrowid or 0)


@dataclass(slots=True, frozen=True)
class Feedback:
    """A verdict on a mention from the team (a Not negative click, for now), kept for the scorer."""

    mention_id: int | None
    alert_id: int | None
    brand: str | None
    verdict: str
    actor: str | None
    at: float
    text: str | None = None


def add_feedback(db: Db, fb: Feedback) -> int:
    cur = db.execute("INSERT INTO feedback (mention_id, alert_id, brand, verdict, actor, at, text)"
                     " VALUES (?,?,?,?,?,?,?)", (fb.mention_id, fb.alert_id, fb.brand, fb.verdict, fb.actor,
                                                  fb.at, fb.text))
    return int(cur.lastrowid or 0)
