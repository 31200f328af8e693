"""Analyse: the pure judgement of one mention. Brand matching (one Aho-Corasick pass for all brands),
language detection, sentiment with the words that drove it, and routing against `rules.yaml`.

No I/O and no tables: `Analyzer.analyze` is what `monitor explain`, `monitor replay` and the daemon share.

The names below are loaded on first use (PEP 562): importing `monitor.analyse.routing` (as alert timers and
`monitor status` do) used to import the scorer and its seven languages' lexicons through this file, ≈0.2 s of
every process that never scores a text.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.analyse.analyzer import Analysis, Analyzer, BrandVerdict, mention_from_row
    from monitor.analyse.language import detect_language
    from monitor.analyse.matcher import BrandMatcher
    from monitor.analyse.routing import Decision, Router, Subject
    from monitor.analyse.sentiment import Scorer, Sentiment

_WHERE = {
    "Analysis": "analyzer", "Analyzer": "analyzer", "BrandVerdict": "analyzer", "mention_from_row": "analyzer",
    "detect_language": "language", "BrandMatcher": "matcher", "Decision": "routing", "Router": "routing",
    "Subject": "routing", "Scorer": "sentiment", "Sentiment": "sentiment",
}

__all__ = ["Analysis", "Analyzer", "BrandMatcher", "BrandVerdict", "Decision", "Router", "Scorer", "Sentiment",
           "Subject", "detect_language", "mention_from_row"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
