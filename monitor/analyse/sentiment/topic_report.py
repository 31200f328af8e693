"""The review list behind ``data/topic_words.yaml``: per language, the lexicon words that most often pushed a
hand-written training complaint towards praise (``python -m monitor.analyse.sentiment.topic_report``).

Apart from :mod:`~monitor.analyse.sentiment.topics`, which every language pack imports: this reads the scorer and
the training data, which import the packs, so in ``topics`` it made a circle of imports.
"""

from __future__ import annotations

from collections import Counter

from monitor.analyse.sentiment.scorer import Scorer
from monitor.analyse.sentiment.train import mention_examples

__all__ = ["report"]


def report(top: int = 25) -> dict[str, list[tuple[str, int]]]:
    """Per language, the lexicon words that most often pushed a training complaint towards praise: the list
    the topic table is reviewed from (``python -m monitor.analyse.sentiment.topic_report``)."""
    rules = Scorer(model=None)
    counts: dict[str, Counter[str]] = {}
    for ex in mention_examples():
        if not ex.negative or ex.lang not in rules.supported_languages:
            continue
        for d in rules.score(ex.text, lang=ex.lang).drivers:
            if d.kind == "lexicon" and d.weight > 0:
                counts.setdefault(ex.lang, Counter())[d.text.lower()] += 1
    return {lang: c.most_common(top) for lang, c in sorted(counts.items())}


if __name__ == "__main__":
    for lang, words in report().items():
        print(lang, ", ".join(f"{w} ({n})" for w, n in words))
