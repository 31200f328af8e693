"""Analyse: the pure judgement of one mention. Brand matching (one Aho-Corasick pass for all brands),
language detection, sentiment with the words that drove it, and routing against `rules.yaml`.

No I/O and no tables: `Analyzer.analyze` is what `monitor explain`, `monitor replay` and the daemon share.
"""

from __future__ import annotations

from monitor.analyse.analyzer import Analysis, Analyzer, BrandVerdict, mention_from_row
from monitor.analyse.language import detect_language
from monitor.analyse.matcher import BrandMatcher
from monitor.analyse.routing import Decision, Router, Subject
from monitor.analyse.sentiment import Scorer, Sentiment

__all__ = ["Analysis", "Analyzer", "BrandMatcher", "BrandVerdict", "Decision", "Router", "Scorer", "Sentiment",
           "Subject", "detect_language", "mention_from_row"]
