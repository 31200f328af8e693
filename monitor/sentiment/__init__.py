"""Sentiment scoring of brand mentions (English and French), with the words and rules that drove it.

Public API (others code against exactly this)::

    Scorer(threshold=-0.05, overrides=None, languages=None).score(text, lang=None, rating=None, brand=None)
    -> Sentiment(score, negative, unscored, language, drivers)

See :mod:`monitor.sentiment.scorer` for routing, :mod:`monitor.sentiment.engine` for the VADER-style
engine, and ``python -m monitor.sentiment.evaluate`` for the dev-set figures.
"""

from __future__ import annotations

from .scorer import Driver, Scorer, Sentiment

__all__ = ["Driver", "Scorer", "Sentiment"]
