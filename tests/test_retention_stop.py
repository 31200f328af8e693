"""Retention stopped by a signal between two batches, on SQLite and PostgreSQL: what it pruned stays pruned and
counted once, nothing is half deleted (a mention goes with its daily count in one transaction; an alert, its
evidence, events and messages are never pruned), the run is not recorded, and the next run finishes it.

Pins round 23's stop in `retention.prune` (before it a first prune of a long-unpruned database ran every batch to
the end whatever the signal, past the drain bound), here on its own rather than through a stopped daemon or pass.
"""

from __future__ import annotations

import threading

from monitor.core.model import Target
from monitor.notify.queue import notify_plain
from monitor.store import retention
from monitor.store.database import Store
from tests.alert_factory import make_alert

DAY = 86400.0
OLD = 7                 # unlinked old mentions: four batches of BATCH
BATCH = 2


class SignalDuringFirstBatch(threading.Event):
    """The stop as a signal arriving while the first batch is being deleted: unset when retention first looks at
    it (before that batch), set from then on."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def is_set(self) -> bool:
        self.asked += 1
        if self.asked > 1:
            self.set()
        return super().is_set()


def _count(store: Store, sql: str) -> int:
    row = store.one(sql)
    assert row is not None
    return int(next(iter(row.values())) or 0)


def _seed(store: Store) -> dict[str, int]:
    """OLD routed mentions ten days old, an alert as old with its mention, messages and events, and an old notice
    already sent; returns the alert's rows, which retention must leave as they are."""
    then = store.now() - 10 * DAY
    with store.tx() as db:
        for i in range(OLD):
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at,"
                       " brands, status, negative) VALUES ('news', 'rss', ?, 'acme blender', ?, ?, '[\"acme\"]',"
                       " 'matched', 0)", (f"old-{i}", then, then))
    make_alert(store, at=then)
    notify_plain(store, "health:news:failing:1", "Source failing", [Target("comms-oncall", "#comms-alerts")])
    with store.tx() as db:
        db.execute("UPDATE deliveries SET state = 'sent', created_at = ? WHERE alert_id IS NULL", (then,))
    return _alert_rows(store)


def _alert_rows(store: Store) -> dict[str, int]:
    return {t: _count(store, f"SELECT COUNT(*) AS n FROM {t}")
            for t in ("alerts", "alert_mentions", "alert_events")} | {
        "alert messages": _count(store, "SELECT COUNT(*) AS n FROM deliveries WHERE alert_id IS NOT NULL"),
        "evidence": _count(store, "SELECT COUNT(*) AS n FROM mentions m WHERE EXISTS"
                                  " (SELECT 1 FROM alert_mentions am WHERE am.mention_id = m.id)")}


def _unlinked(store: Store) -> int:
    return _count(store, "SELECT COUNT(*) AS n FROM mentions m WHERE NOT EXISTS"
                         " (SELECT 1 FROM alert_mentions am WHERE am.mention_id = m.id)")


def _counted(store: Store) -> int:
    return _count(store, "SELECT SUM(mentions) AS n FROM mention_daily WHERE brand = ''")


def _notices(store: Store) -> int:
    return _count(store, "SELECT COUNT(*) AS n FROM deliveries WHERE alert_id IS NULL")


def test_retention_stopped_between_batches_is_left_whole_and_unrecorded_and_the_next_run_finishes_it(fresh_db,
                                                                                                      monkeypatch):
    store = fresh_db
    monkeypatch.setattr(retention, "prune", lambda s, r, *, stop=None, _prune=retention.prune: _prune(
        s, r, batch=BATCH, stop=stop))                          # small batches: a run of several
    kept = _seed(store)
    assert kept["alerts"] == 1 and kept["evidence"] == 1 and kept["alert messages"] >= 1, kept

    stop = SignalDuringFirstBatch()
    cut = retention.run_if_due(store, 7 * DAY, stop=stop)
    assert cut is not None and cut.cut and cut.mentions == BATCH, cut       # the first batch only, whole
    assert _unlinked(store) == OLD - BATCH
    assert _counted(store) == BATCH, "each pruned mention counted once, in its batch's transaction"
    assert _alert_rows(store) == kept, "an alert or one of its rows touched by retention"
    assert _notices(store) == 1, "notices are pruned only by a run that ended"
    assert retention.last_run(store) is None, "a run cut by the stop was recorded as done"

    done = retention.run_if_due(store, 7 * DAY, stop=threading.Event())     # the next start's run
    assert done is not None and not done.cut and done.mentions == OLD - BATCH, done
    assert _unlinked(store) == 0 and _counted(store) == OLD, "the rest pruned, nothing counted twice"
    assert _alert_rows(store) == kept
    assert _notices(store) == 0
    assert retention.last_run(store) is not None
    assert retention.run_if_due(store, 7 * DAY) is None, "recorded: not due again until a day has passed"
