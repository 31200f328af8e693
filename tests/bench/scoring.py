"""Scoring throughput vs bare VADER on the same texts (the dev set), in the same process.

The issue allows the scorer at most a 2x slowdown against bare VADER (ratio >= 0.5). ``ratio`` includes
language detection (what ``Scorer.score(text)`` does for a mention of unknown language, uncached);
``ratio_known_lang`` is the pipeline's case, where the language was detected once upstream; "as brand mentions"
is ``monitor run``'s exact call (a brand configured and given: the addressed reading, brand words neutral).
``run()`` returns figures; it asserts nothing about timing.
"""

from __future__ import annotations

from monitor.analyse.language import detect_language
from monitor.analyse.sentiment.evaluate import DEFAULT_FILE, best_rate, load_rows, throughput
from monitor.analyse.sentiment.scorer import Scorer


def run() -> dict:
    texts = [r.text for r in load_rows(DEFAULT_FILE)]
    figures = throughput(texts)
    branded = Scorer(brand_terms=["Acme", "Best Buy"])
    as_brand = best_rate(lambda t: branded.score(t, lang="en", brand="acme"), texts)
    return {
        "texts": len(texts),
        "vader_per_s": round(figures["vader_per_s"]),
        "scorer_per_s (with detection)": round(figures["scorer_per_s"]),
        "scorer_per_s (language known)": round(figures["scorer_known_lang_per_s"]),
        "scorer_per_s (as brand mentions, language known)": round(as_brand),
        "detect_per_s": round(best_rate(detect_language.__wrapped__, texts)),
        "ratio (with detection)": round(figures["ratio"], 3),
        "ratio (language known)": round(figures["ratio_known_lang"], 3),
        "ratio (as brand mentions)": round(as_brand / figures["vader_per_s"], 3),
    }


if __name__ == "__main__":
    print(run())
