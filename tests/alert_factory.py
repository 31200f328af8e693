"""Real alerts for tests: a stored mention, opened through `alerts.open_alert`, root messages queued."""

from __future__ import annotations

import itertools

from monitor.alerts import open_alert
from monitor.model import Mention, Target
from monitor.routing import RouteHit
from monitor.sentiment import Sentiment
from monitor.storage import Store, dumps

COMMS = Target("comms-oncall", "#comms-alerts", "@here")
_ids = itertools.count(1)


def make_alert(store: Store, *, brand: str = "acme", text: str = "Acme support is terrible",
               targets: tuple[Target, ...] = (COMMS,), route: str = "any-negative", score: float = -0.8,
               unscored: bool = False, at: float | None = None) -> int:
    now = store.now() if at is None else at
    n = next(_ids)
    m = Mention("news", "rss", f"ext-{n}-{now}", text, url=f"https://news.example/{n}", author="Jane")
    sentiment = Sentiment(None if unscored else score, not unscored and score <= -0.05, unscored,
                          None if unscored else "en")
    with store.tx() as db:
        cur = db.execute("INSERT INTO mentions (source_id, source_kind, external_id, url, author, text, collected_at,"
                         " brands, score, negative, unscored, drivers, processed_at, language) VALUES"
                         " (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (m.source_id, m.source_kind, m.external_id, m.url, m.author, m.text, now, dumps([brand]),
                          sentiment.score, int(sentiment.negative), int(unscored), dumps([{"text": "terrible"}]),
                          now, sentiment.language))
        m.id = cur.lastrowid
        return open_alert(db, now, m, brand, sentiment, RouteHit(route, targets, None))
