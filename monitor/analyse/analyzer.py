"""The pure analyser: match brands, detect the language, score, route. No I/O.

`monitor explain`, `monitor replay` and the daemon all call `Analyzer.analyze`, so what the terminal shows is
exactly what the daemon decides. It holds everything compiled from config and rules (the brand matcher, the
scorer with per-brand overrides, the router); a reload builds a new one and swaps it atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from monitor.analyse.language import detect_language
from monitor.analyse.matcher import BrandMatch, BrandMatcher
from monitor.analyse.routing import Decision, Router, Subject
from monitor.analyse.sentiment import Scorer, Sentiment
from monitor.config.settings import Config
from monitor.core.model import Mention
from monitor.core.query import parse_query, positive_terms
from monitor.store.database import loads


@dataclass
class BrandVerdict:
    brand: str
    terms: tuple[str, ...]
    sentiment: Sentiment
    decision: Decision


@dataclass
class Analysis:
    language: str | None
    verdicts: list[BrandVerdict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)    # brand -> why its match was dropped

    @property
    def negative(self) -> bool:
        return any(v.sentiment.negative for v in self.verdicts)


class Analyzer:
    """Match, score and route one mention; holds everything compiled from config and rules."""

    def __init__(self, config: Config, router: Router, scorer: Scorer | None = None,
                 matcher: BrandMatcher | None = None):
        self.config = config
        self.router = router
        self.matcher = matcher or BrandMatcher({n: b.query for n, b in config.brands.items()})
        self.scorer = scorer or scorer_for(config)

    def analyze(self, m: Mention, only_brands: list[str] | None = None) -> Analysis:
        text = m.full_text
        lang = m.language or detect_language(text)
        out = Analysis(lang)
        matches: list[BrandMatch] = self.matcher.match(text)
        if only_brands is not None:
            matches = [b for b in matches if b.brand in only_brands]
            if not matches and not text.strip():
                # A mention without text (a review that is only a star rating) cannot name a brand. When its
                # source is configured for brands (`brands:` on the source: a review page, an app's store
                # listing), it is about them; the rating alone then decides its sentiment.
                matches = [BrandMatch(b, ()) for b in only_brands if b in self.config.brands]
        if not matches:
            return out
        terms = self.router.keywords_in(text)
        for bm in matches:
            wanted = self.config.brands[bm.brand].languages
            if wanted and lang and lang not in wanted:
                out.skipped[bm.brand] = f"language {lang!r} not in {wanted}"
                continue
            sentiment = self.scorer.score(text, lang=lang, rating=m.rating, brand=bm.brand)
            subject = Subject(bm.brand, m.source_kind, m.source_id, sentiment, terms, m.rating, m.reach,
                              sentiment.language or lang)
            out.verdicts.append(BrandVerdict(bm.brand, bm.terms, sentiment, self.router.route(subject)))
        return out



def scorer_for(config: Config) -> Scorer:
    """The scorer a config asks for: its threshold, brand overrides, brand words kept neutral, issue types, and
    the deployment's learned model when `monitor train` has written one (else the shipped one)."""
    s = config.sentiment
    model: str | None = None
    if s.learned:
        model = s.model_path() if os.path.exists(s.model_path()) else "shipped"
    terms = [t.text for b in config.brands.values() for t in positive_terms(parse_query(b.query))]
    return Scorer(s.threshold, {n: b.overrides for n, b in config.brands.items() if b.overrides},
                  brand_terms=terms, issue_types=s.issue_types, model=model)


def mention_from_row(row: dict[str, Any]) -> Mention:
    return Mention(source_id=row["source_id"], source_kind=row["source_kind"], external_id=row["external_id"],
                   text=row["text"], url=row["url"], author=row["author"], title=row["title"],
                   published=row["published"], language=row["language"], reach=row["reach"],
                   rating=row["rating"], raw=loads(row["raw"], {}), id=row["id"])
