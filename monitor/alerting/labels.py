"""Labels: what the team said a mention is, kept for `monitor train`. Owns the `labels` table.

Where labels come from, and what they mean:
* a "Not negative" click (or `monitor` action ``not_negative``): every mention of the alert is *not negative*;
* an alert acknowledged or resolved: someone acted on it, so its mentions *are* negative;
* `monitor label ID negative|not-negative` (a mention, or with ``--alert`` every mention of an alert);
* a CSV import (``text,label[,language]``), for examples that never went through the daemon.

Every source has its own idempotent ``key``, so a second click or a re-imported file adds nothing; when a
mention has several labels the newest one counts (a hand label after an ack wins).

`train` refits the learned layer on the shipped data plus the deployment's labels, minus a held-out fifth
(chosen by a hash of each label's key, so it is the same fifth every run), compares the current scorer and
the new one on that held-out fifth, and writes the new model only when it is better (or when forced). The refit
keeps the variant each language ships with (:func:`monitor.analyse.sentiment.choice.carry_policy`).
"""

from __future__ import annotations

import csv
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from monitor.config.settings import Config
from monitor.core.errors import AlertError, ConfigError
from monitor.store.database import Store

#: What an alert action says about its mentions.
ACTION_LABEL = {"ack": True, "resolve": True, "not_negative": False}
VERDICTS = {"negative": True, "not-negative": False, "not_negative": False, "1": True, "0": False,
            "neg": True, "pos": False, "positive": False, "neutral": False}
HELD_OUT = 5            # one label in five is held out to judge a new model
DEPLOYMENT_WEIGHT = 2.0  # a label from the team counts twice a shipped example: it is this deployment's language
MAX_TEXT = 5000


@dataclass(frozen=True)
class Label:
    key: str
    text: str
    language: str | None
    negative: bool


def label_alert(db: sqlite_utils.Database, now: float, alert_id: int, action: str, actor: str) -> int:
    """Label every mention of the alert as the action implies; called inside the transition's transaction."""
    negative = ACTION_LABEL.get(action)
    if negative is None:
        return 0
    origin = "not_negative" if not negative else action
    mentions = db.execute("SELECT m.id, m.text, m.title, m.language FROM mentions m JOIN alert_mentions am"
                          " ON am.mention_id = m.id WHERE am.alert_id = ?", (alert_id,)).fetchall()
    n = 0
    for mid, text, title, lang in mentions:
        full = text if not title or title in (text or "") else f"{title}\n{text}"
        n += db.execute("INSERT OR IGNORE INTO labels (key, mention_id, text, language, negative, origin, actor, at)"
                        " VALUES (?,?,?,?,?,?,?,?)", (f"{origin}:{alert_id}:{mid}", mid, (full or "")[:MAX_TEXT],
                                                      lang, int(negative), origin, actor, now)).rowcount
    return n


def label_mentions(store: Store, ids: list[int], negative: bool, actor: str, *, alert: bool = False) -> int:
    """`monitor label`: label mentions by id (or every mention of alert ``ids[0]``); the newest label counts."""
    now = store.now()
    with store.tx() as db:
        if alert:
            found = db.execute("SELECT m.id, m.text, m.title, m.language FROM mentions m JOIN alert_mentions am"
                               " ON am.mention_id = m.id WHERE am.alert_id = ?", (ids[0],)).fetchall()
            if not found:
                raise AlertError(f"There is no alert #{ids[0]} with mentions.")
        else:
            found = db.execute(f"SELECT id, text, title, language FROM mentions WHERE id IN ({','.join('?' * len(ids))})",
                               tuple(ids)).fetchall()
            missing = sorted(set(ids) - {r[0] for r in found})
            if missing:
                raise AlertError(f"There is no mention #{missing[0]} (see `monitor ui` or `monitor alerts ID`).")
        for mid, text, title, lang in found:
            full = text if not title or title in (text or "") else f"{title}\n{text}"
            db.execute("INSERT INTO labels (key, mention_id, text, language, negative, origin, actor, at)"
                       " VALUES (?,?,?,?,?,'manual',?,?) ON CONFLICT (key) DO UPDATE SET negative = excluded.negative,"
                       " actor = excluded.actor, at = excluded.at",
                       (f"manual:{mid}", mid, (full or "")[:MAX_TEXT], lang, int(negative), actor, now))
    return len(found)


def import_csv(store: Store, path: str, actor: str) -> int:
    """Rows ``text,label[,language]`` with a header; a bad row is a ConfigError naming file, line and column."""
    rows: list[tuple[str, str, str | None, bool]] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
                raise ConfigError(f"{path}:1: the header must name the columns text and label (optional: language)")
            for row in reader:
                line = reader.line_num
                text = (row.get("text") or "").strip()
                verdict = (row.get("label") or "").strip().lower()
                if not text:
                    raise ConfigError(f"{path}:{line}: column text is empty")
                if verdict not in VERDICTS:
                    raise ConfigError(f"{path}:{line}: column label is {verdict!r}; expected negative or not-negative")
                lang = (row.get("language") or "").strip().lower() or None
                key = "csv:" + hashlib.sha1(f"{lang}\0{text}".encode()).hexdigest()
                rows.append((key, text[:MAX_TEXT], lang, VERDICTS[verdict]))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a UTF-8 CSV file: {exc}") from None
    now = store.now()
    with store.tx() as db:
        for key, text, lang, negative in rows:
            db.execute("INSERT INTO labels (key, text, language, negative, origin, actor, at) VALUES (?,?,?,?,'csv',?,?)"
                       " ON CONFLICT (key) DO UPDATE SET negative = excluded.negative, at = excluded.at",
                       (key, text, lang, int(negative), actor, now))
    return len(rows)


def current_labels(store: Store) -> list[Label]:
    """One label per mention (the newest), plus every mention-less (CSV) label."""
    found = store.query(
        "SELECT key, text, language, negative FROM labels l WHERE mention_id IS NULL OR id = (SELECT id FROM labels"
        " WHERE mention_id = l.mention_id ORDER BY at DESC, id DESC LIMIT 1) ORDER BY id")
    return [Label(r["key"], r["text"], r["language"], bool(r["negative"])) for r in found]


def held_out(label: Label) -> bool:
    return zlib.crc32(label.key.encode()) % HELD_OUT == 0


@dataclass
class TrainReport:
    labels: int
    trained_on: int
    held_out: int
    before: tuple[float, float, float]
    after: tuple[float, float, float]
    kept: bool
    reason: str
    path: str


def train(store: Store, config: Config, force: bool = False) -> TrainReport:
    """Refit on shipped data + the deployment's labels; keep the model only if better on the held-out labels."""
    # here, not at the top: every alert transition imports this module, and only training needs the scorer
    from monitor.analyse.analyzer import scorer_for
    from monitor.analyse.language import detect_language
    from monitor.analyse.sentiment import Scorer, choice, learned
    from monitor.analyse.sentiment import train as fitting

    labels = current_labels(store)
    examples = [(lb, lb.language or detect_language(lb.text) or "en") for lb in labels]
    test = [(lb, lang) for lb, lang in examples if held_out(lb)]
    fit_on = [fitting.Example(lb.text, lang, lb.negative, DEPLOYMENT_WEIGHT) for lb, lang in examples
              if not held_out(lb)]
    model = choice.carry_policy(fitting.fit(fitting.shipped_examples() + fit_on, {"deployment_labels": len(fit_on)}),
                                learned.load(None))
    before_scorer = scorer_for(config)
    after_scorer = Scorer(config.sentiment.threshold,
                          {n: b.overrides for n, b in config.brands.items() if b.overrides},
                          brand_terms=[t for t in before_scorer.neutral.words] +
                                      [" ".join(p) for p in before_scorer.neutral.phrases],
                          issue_types=config.sentiment.issue_types, model=model)
    gold = [lb.negative for lb, _ in test]
    # a label is on a mention a brand's query matched (or a CSV row of them): scored as `monitor run` scores it
    before = choice.prf(gold, [before_scorer.score(lb.text, lang=lang, addressed=True).negative for lb, lang in test])
    after = choice.prf(gold, [after_scorer.score(lb.text, lang=lang, addressed=True).negative for lb, lang in test])
    if not any(gold) or len(test) < 5:
        kept, reason = force, (f"only {len(test)} held-out label(s), {sum(gold)} negative: too few to judge"
                               f" (need 5, one negative)")
    elif after[2] > before[2]:
        kept, reason = True, "the new model is better on the held-out labels"
    else:
        kept, reason = force, "the new model is not better on the held-out labels"
    if kept and force and after[2] <= before[2]:
        reason += "; kept anyway (--force)"
    path = config.sentiment.model_path()
    if kept:
        model.save(path)
    return TrainReport(len(labels), len(fit_on), len(test), before, after, kept, reason, path)


def model_exists(config: Config) -> bool:
    return Path(config.sentiment.model_path()).exists()
