"""Real alerts for tests: a stored mention, opened through the grouping stage, root messages queued at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from monitor.alerting.grouping import _flush, open_mention_alert
from monitor.analyse.routing import RouteHit
from monitor.analyse.sentiment import Sentiment
from monitor.config.rules import Rules, rules_from
from monitor.core.model import Mention, Target
from monitor.core.yamlfile import parse_yaml
from monitor.store.database import Store, dumps

COMMS = Target("comms-oncall", "#comms-alerts", "@here")
_ids = itertools.count(1)


def make_alert(store: Store, *, brand: str = "acme", text: str = "Acme support is terrible",
               targets: tuple[Target, ...] = (COMMS,), route: str = "any-negative", score: float = -0.8,
               unscored: bool = False, at: float | None = None, source: tuple[str, str] = ("news", "rss"),
               raw: dict[str, object] | None = None) -> int:
    now = store.now() if at is None else at
    n = next(_ids)
    m = Mention(source[0], source[1], f"ext-{n}-{now}", text, url=f"https://news.example/{n}", author="Jane",
                raw=raw or {})
    sentiment = Sentiment(None if unscored else score, not unscored and score <= -0.05, unscored,
                          None if unscored else "en")
    with store.tx() as db:
        cur = db.execute("INSERT INTO mentions (source_id, source_kind, external_id, url, author, text, collected_at,"
                         " brands, score, negative, unscored, drivers, processed_at, language, raw) VALUES"
                         " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (m.source_id, m.source_kind, m.external_id, m.url, m.author, m.text, now, dumps([brand]),
                          sentiment.score, int(sentiment.negative), int(unscored), dumps([{"text": "terrible"}]),
                          now, sentiment.language, dumps(m.raw)))
        m.id = cur.lastrowid
        rules = _rules()
        alert_id = open_mention_alert(db, now, m, brand, RouteHit(route, targets, None), rules,
                                      f"{route}|{brand}|{m.id}", [], "")
        _flush(db, now, alert_id, rules, waiting_too=True)      # no group_wait: the root messages are queued now
        return alert_id


def _rules() -> Rules:
    from tests.conftest import RULES
    return rules_from(parse_yaml(RULES, "rules.yaml"))


class StopAfter:
    """A `stopping` for the responders' run_once: the stop arrives once `done()` (tickets made, replies posted)
    reaches `n`, i.e. while the n-th is in progress; `asked` is what `done()` was each time it was asked."""

    def __init__(self, done: Callable[[], int], n: int = 1):
        self.done, self.n = done, n
        self.asked: list[int] = []

    def __call__(self) -> bool:
        self.asked.append(self.done())
        return self.asked[-1] >= self.n
