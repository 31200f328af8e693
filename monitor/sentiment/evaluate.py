"""Precision/recall/F1 of the negative class per corpus, new scorer beside plain VADER, plus throughput.

    python -m monitor.sentiment.evaluate [--file tests/data/sentiment_dev.tsv]

The file is the VADER paper's ground truth (tab-separated corpus/id/gold/text); a text counts as negative
when its mean human rating ``gold`` is below -0.5. Plain VADER is judged the way it is usually deployed
(``compound <= -0.05``). Both run in this process on the same texts so the throughput ratio is fair.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "sentiment_dev.tsv"
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


def evaluate(rows: Sequence[Row]) -> dict[str, dict[str, dict[str, float]]]:
    """Return {corpus: {"vader"|"scorer": {"p","r","f1"}}} plus {"throughput": {...}}."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from .scorer import Scorer

    vader = SentimentIntensityAnalyzer()
    scorer = Scorer()
    texts = [r.text for r in rows]
    scorer.score("warm-up so model loading is not timed")

    start = time.perf_counter()
    vader_neg = [vader.polarity_scores(t)["compound"] <= VADER_THRESHOLD for t in texts]
    vader_s = time.perf_counter() - start
    start = time.perf_counter()
    new_neg = [scorer.score(t).negative for t in texts]
    new_s = time.perf_counter() - start

    out: dict[str, dict[str, dict[str, float]]] = {}
    for corpus in sorted({r.corpus for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.corpus == corpus]
        gold = [rows[i].negative for i in idx]
        out[corpus] = {}
        for name, pred in (("vader", vader_neg), ("scorer", new_neg)):
            p, r, f = prf(gold, [pred[i] for i in idx])
            out[corpus][name] = {"p": p, "r": r, "f1": f}
    out["throughput"] = {
        "vader_per_s": {"value": len(texts) / vader_s},
        "scorer_per_s": {"value": len(texts) / new_s},
        "ratio": {"value": vader_s / new_s},
    }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=str(DEFAULT_FILE))
    args = ap.parse_args(argv)
    rows = load_rows(Path(args.file))
    result = evaluate(rows)
    print(f"{args.file}: {len(rows)} texts; negative = gold < {GOLD_NEGATIVE}")
    print(f"{'corpus':8s} {'system':7s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    for corpus, systems in result.items():
        if corpus == "throughput":
            continue
        for name in ("vader", "scorer"):
            m = systems[name]
            print(f"{corpus:8s} {name:7s} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f}")
    t = result["throughput"]
    print(
        f"throughput: vader {t['vader_per_s']['value']:,.0f} texts/s, scorer {t['scorer_per_s']['value']:,.0f}"
        f" texts/s (scorer/vader speed ratio {t['ratio']['value']:.2f}, includes language detection)"
    )


if __name__ == "__main__":
    main()
