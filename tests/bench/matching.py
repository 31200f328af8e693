"""Does matching slow down as brands are added? It should not: one automaton scan per text.

Run alone with ``python -m tests.bench.matching``. The same synthetic texts are matched against 10 brand
keywords and against 1,000 (the same 10 plus 990 synthetic brands whose keywords never occur in the
texts), so both runs find exactly the same mentions and any slowdown is the cost of the keyword count.
"""

from __future__ import annotations

import random
import time
from typing import Any

from monitor.analyse.matcher import BrandMatcher

_REAL_BRANDS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne", "tyrell",
                "cyberdyne"]


def _queries(n_keywords: int, rng: random.Random) -> dict[str, str]:
    queries = {name: f"{name} NOT {name}ville" for name in _REAL_BRANDS}  # 2 terms each, 1 positive
    while len(queries) < n_keywords:
        # consonant-only names cannot collide with the vowel-rich filler words of the texts
        name = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(5, 9)))
        queries.setdefault(name, f"{name} NOT {name}ville")
    return queries


def _texts(n_texts: int, rng: random.Random) -> list[str]:
    filler = ["".join(rng.choice("aeiou") + rng.choice("lmnrst") for _ in range(rng.randint(1, 4)))
              for _ in range(2000)]
    texts = []
    for _ in range(n_texts):
        words = rng.choices(filler, k=rng.randint(10, 60))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), rng.choice(["#", "@", ""]) + rng.choice(_REAL_BRANDS))
        texts.append(" ".join(words).capitalize() + "!")
    return texts


def _best_rate(matcher: BrandMatcher, texts: list[str], repeats: int) -> tuple[float, int]:
    best = float("inf")
    mentions = 0
    for _ in range(repeats):
        start = time.perf_counter()
        mentions = sum(len(matcher.match(t)) for t in texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best, mentions


def run(n_texts: int = 5000, repeats: int = 3, seed: int = 42) -> dict[str, Any]:
    """Texts/s with 10 and with 1,000 brand keywords; ``ratio`` = rate(10) / rate(1000), ideally ~1."""
    rng = random.Random(seed)
    texts = _texts(n_texts, rng)
    figures: dict[str, Any] = {"n_texts": n_texts}
    for n_keywords in (10, 1000):
        start = time.perf_counter()
        matcher = BrandMatcher(_queries(n_keywords, rng))
        figures[f"build_ms_{n_keywords}"] = round((time.perf_counter() - start) * 1000, 1)
        rate, mentions = _best_rate(matcher, texts, repeats)
        figures[f"texts_per_s_{n_keywords}"] = round(rate)
        figures[f"mentions_found_{n_keywords}"] = mentions
    figures["ratio"] = round(figures["texts_per_s_10"] / figures["texts_per_s_1000"], 3)
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:>22}: {value}")
