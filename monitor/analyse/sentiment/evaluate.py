"""Precision/recall/F1 of the negative class per corpus, new scorer beside plain VADER, plus throughput.

    python -m monitor.analyse.sentiment.evaluate [--file tests/data/sentiment_dev.tsv] [--halves]

The file is the VADER paper's ground truth (tab-separated corpus/id/gold/text); a text counts as negative
when its mean human rating ``gold`` is below -0.5. Plain VADER is judged the way it is usually deployed
(``compound <= -0.05``). Both run in this process on the same texts so the throughput ratio is fair; the
scorer is timed with language detection (what ``score(text)`` does) and with the language already known
(what the pipeline does after its own detection), each as the best of three passes.

``--halves`` splits each corpus by a hash of the row id into a *tuning* half (the rows whose errors were
read while writing lexicon entries and rules) and a *check* half (not read); similar figures on both are the
evidence that the rules generalise rather than fit lines.
"""

from __future__ import annotations

import argparse
import csv
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parents[3] / "tests" / "data" / "sentiment_dev.tsv"
GOLD_NEGATIVE = -0.5
VADER_THRESHOLD = -0.05


@dataclass(frozen=True)
class Row:
    corpus: str
    id: str
    gold: float
    text: str

    @property
    def negative(self) -> bool:
        return self.gold < GOLD_NEGATIVE


def load_rows(path: Path) -> list[Row]:
    """Read the TSV without quote handling: texts contain bare quotes that csv would swallow."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(r["corpus"], r["id"], float(r["gold"]), r["text"]) for r in reader]


def prf(gold: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p and not g)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def half(row: Row) -> str:
    """Stable split of the dev set: "tuning" rows were read while writing rules, "check" rows were not."""
    return "check" if zlib.crc32(row.id.encode()) % 2 else "tuning"


def best_rate(fn: Callable[[str], object], texts: Sequence[str], passes: int = 3) -> float:
    """Texts per second, best of ``passes`` (the least disturbed by other load on the machine)."""
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def throughput(texts: Sequence[str]) -> dict[str, float]:
    """Scorer vs bare VADER on the same texts, with and without language detection (uncached)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from monitor.analyse.language import detect_language
    from monitor.analyse.sentiment.scorer import Scorer

    vader, scorer = SentimentIntensityAnalyzer(), Scorer()
    scorer.score("warm-up so lexicons and the language model are loaded before timing")
    detect = detect_language.__wrapped__  # uncached: repeated benchmark passes must not hit the cache
    vader_rate = best_rate(vader.polarity_scores, texts)
    known_rate = best_rate(lambda t: scorer.score(t, lang="en"), texts)
    detect_rate = best_rate(lambda t: scorer.score(t, lang=detect(t) or "en"), texts)
    return {
        "vader_per_s": vader_rate,
        "scorer_per_s": detect_rate,
        "scorer_known_lang_per_s": known_rate,
        "ratio": detect_rate / vader_rate,
        "ratio_known_lang": known_rate / vader_rate,
    }


def evaluate(rows: Sequence[Row], halves: bool = False) -> dict[str, dict[str, dict[str, float]]]:
    """Return {corpus[/half]: {"vader"|"scorer": {"p","r","f1"}}}."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from monitor.analyse.sentiment.scorer import Scorer

    vader, scorer = SentimentIntensityAnalyzer(), Scorer()
    vader_neg = [vader.polarity_scores(r.text)["compound"] <= VADER_THRESHOLD for r in rows]
    new_neg = [scorer.score(r.text).negative for r in rows]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.corpus, []).append(i)
        if halves:
            groups.setdefault(f"{r.corpus}/{half(r)}", []).append(i)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in sorted(groups):
        idx = groups[name]
        gold = [rows[i].negative for i in idx]
        out[name] = {}
        for system, pred in (("vader", vader_neg), ("scorer", new_neg)):
            p, rec, f = prf(gold, [pred[i] for i in idx])
            out[name][system] = {"p": p, "r": rec, "f1": f}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=str(DEFAULT_FILE))
    ap.add_argument("--halves", action="store_true", help="also report the tuning and check halves")
    args = ap.parse_args(argv)
    rows = load_rows(Path(args.file))
    result = evaluate(rows, halves=args.halves)
    print(f"{args.file}: {len(rows)} texts; negative = gold < {GOLD_NEGATIVE}")
    print(f"{'corpus':15s} {'system':7s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    for corpus, systems in result.items():
        for name in ("vader", "scorer"):
            m = systems[name]
            print(f"{corpus:15s} {name:7s} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f}")
    t = throughput([r.text for r in rows])
    print(
        f"throughput: vader {t['vader_per_s']:,.0f} texts/s; scorer {t['scorer_per_s']:,.0f} texts/s with language"
        f" detection ({t['ratio']:.2f}x vader), {t['scorer_known_lang_per_s']:,.0f} texts/s with the language"
        f" known ({t['ratio_known_lang']:.2f}x vader)"
    )


if __name__ == "__main__":
    main()
