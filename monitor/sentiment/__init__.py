"""Sentiment scoring (first version: VADER with a configurable threshold; the scoring issue extends it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@dataclass(frozen=True)
class Driver:
    text: str
    weight: float
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "weight": round(self.weight, 3), "kind": self.kind}


@dataclass(frozen=True)
class Sentiment:
    score: float | None
    negative: bool
    unscored: bool
    language: str | None
    drivers: tuple[Driver, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.language, "score": None if self.score is None else round(self.score, 4),
                "negative": self.negative, "unscored": self.unscored,
                "drivers": [d.to_dict() for d in self.drivers]}


class Scorer:
    supported_languages = frozenset({"en"})

    def __init__(self, threshold: float = -0.05, overrides: Mapping[str, Mapping[str, float]] | None = None,
                 languages: Iterable[str] | None = None):
        self.threshold = threshold
        self._vader = SentimentIntensityAnalyzer()

    def score(self, text: str, *, lang: str | None = None, rating: float | None = None,
              brand: str | None = None) -> Sentiment:
        compound = self._vader.polarity_scores(text)["compound"]
        drivers = tuple(Driver(w, self._vader.lexicon[w.lower()], "lexicon") for w in text.split()
                        if w.lower() in self._vader.lexicon)
        return Sentiment(compound, compound <= self.threshold, False, lang or "en", drivers)
