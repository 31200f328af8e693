"""Sentiment scoring of brand mentions (English and French), with the words and rules that drove it.

Public API (others code against exactly this)::

    Scorer(threshold=-0.05, overrides=None, languages=None).score(text, lang=None, rating=None, brand=None, addressed=None)
    -> Sentiment(score, negative, unscored, language, drivers)

See :mod:`monitor.analyse.sentiment.scorer` for routing, :mod:`monitor.analyse.sentiment.engine` for the VADER-style
engine, and ``python -m monitor.analyse.sentiment.evaluate`` for the dev-set figures.
"""

from __future__ import annotations

from monitor.analyse.sentiment.scorer import Driver, Scorer, Sentiment

__all__ = ["Driver", "Scorer", "Sentiment"]
