"""Throughput of the sentiment scorer vs bare VADER on the same texts, in the same process.

``run()`` returns figures (texts/s and the speed ratio); it asserts nothing about timing.
"""

from __future__ import annotations

import time

from monitor.language import detect_language
from monitor.sentiment import Scorer
from monitor.sentiment.evaluate import DEFAULT_FILE, load_rows


def _rate(fn, texts: list[str]) -> float:
    start = time.perf_counter()
    for t in texts:
        fn(t)
    return len(texts) / (time.perf_counter() - start)


def run() -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = [r.text for r in load_rows(DEFAULT_FILE)]
    vader = SentimentIntensityAnalyzer()
    scorer = Scorer()
    scorer.score("warm up")
    vader_rate = _rate(vader.polarity_scores, texts)
    scorer_rate = _rate(scorer.score, texts)
    scorer_en_rate = _rate(lambda t: scorer.score(t, lang="en"), texts)
    detect_rate = _rate(detect_language.__wrapped__, texts)
    return {
        "texts": len(texts),
        "vader_per_s": round(vader_rate),
        "scorer_per_s": round(scorer_rate),
        "scorer_known_lang_per_s": round(scorer_en_rate),
        "detect_per_s": round(detect_rate),
        "ratio": round(scorer_rate / vader_rate, 3),
    }


if __name__ == "__main__":
    print(run())
