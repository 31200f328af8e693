"""Topic words: what a general lexicon scores but a brand's customers use as plain nouns or function words.

The lexicons underneath the packs were built for general text, some by translation, and a few of their
entries read wrong in mentions of a brand: function-word homographs (French "sur" is "on", scored as "sure";
Dutch "naar" is "to", scored as "nasty"; Portuguese "para" is "for", scored as "stop") and the things
customers write about (insurance, bank, credit, fees, energy), which a complaint names as often as praise
does. Those were found by listing, per language, the lexicon words that pushed the hand-written training
mentions' complaints towards praise (:func:`~monitor.analyse.sentiment.topic_report.report`), keeping only mistranslations and topics, in
``data/topic_words.yaml``; each pack scores them 0 (and so its fallback lookups never reach them).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import yaml

__all__ = ["drop_topics", "topic_words"]


@lru_cache(maxsize=1)
def _table() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(resources.files("monitor.analyse.sentiment").joinpath("data/topic_words.yaml")
                         .read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise ValueError("data/topic_words.yaml: a mapping of language code to a list of words")
    return {str(code): frozenset(str(w).lower() for w in words) for code, words in raw.items()}


def topic_words(code: str) -> frozenset[str]:
    return _table().get(code, frozenset())


def drop_topics(code: str, lexicon: Mapping[str, float]) -> dict[str, float]:
    """``lexicon`` with the language's topic words scored 0: known and neutral, so the inflection fallback
    does not find them a sentiment through a neighbour ("seguradora" → "segura", safe)."""
    return {**lexicon, **dict.fromkeys(topic_words(code), 0.0)}
