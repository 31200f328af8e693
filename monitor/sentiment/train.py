"""Train the English logistic-regression layer from the dev set and report cross-validated figures.

    python -m monitor.sentiment.train [--file tests/data/sentiment_dev.tsv] [--folds 5] [--no-write]

Why these choices: L2-regularised logistic regression (full-batch gradient descent in numpy, no sklearn)
over the rule engine's valence sums plus unigrams/bigrams seen in at least ``MIN_COUNT`` texts — rare
n-grams would only memorise individual lines. Cross-validation trains on k-1 folds and scores the held-out
fold, which is what tells us whether it generalises to unseen mentions; the shipped weights are then fit on
all rows. Deterministic: fixed fold assignment, no random initialisation.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import engine, lexicon_en
from .evaluate import DEFAULT_FILE, load_rows, prf
from .model import DECISION_LOGIT, LinearModel, dense_features, token_features

MIN_COUNT = 3
L2 = 3e-3
EPOCHS = 400
LEARNING_RATE = 0.1
MODEL_PATH = Path(__file__).parent / "data" / "model_en.json"


def featurize(texts: Sequence[str]) -> tuple[list[dict[str, float]], list[list[str]]]:
    pack = lexicon_en.pack()
    dense, tokens = [], []
    for text in texts:
        total, contributions = engine.analyse_raw(pack, text)
        dense.append(dense_features(total, contributions))
        tokens.append(sorted(set(token_features(text))))
    return dense, tokens


def fit(dense: list[dict[str, float]], tokens: list[list[str]], y: np.ndarray) -> LinearModel:
    counts = Counter(t for toks in tokens for t in toks)
    vocab = sorted(k for k in dense[0]) + sorted(t for t, c in counts.items() if c >= MIN_COUNT)
    index = {name: i for i, name in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, (d, toks) in enumerate(zip(dense, tokens, strict=True)):
        for k, v in d.items():
            rows.append(r), cols.append(index[k]), vals.append(v)
        for t in toks:
            if t in index:
                rows.append(r), cols.append(index[t]), vals.append(1.0)
    R, C, V = np.array(rows), np.array(cols), np.array(vals, dtype=np.float64)
    n, m = len(y), len(vocab)
    w, b = np.zeros(m), 0.0
    n_dense = len(dense[0])
    penalty = np.full(m, L2)
    penalty[:n_dense] = 0.0  # the engine's own sums are few and general: leave them unregularised
    mw, vw, mb, vb = np.zeros(m), np.zeros(m), 0.0, 0.0
    for step in range(1, EPOCHS + 1):  # Adam, full batch
        z = np.bincount(R, weights=V * w[C], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-z))
        err = p - y
        gw = np.bincount(C, weights=V * err[R], minlength=m) / n + penalty * w
        gb = float(err.mean())
        mw, vw = 0.9 * mw + 0.1 * gw, 0.999 * vw + 0.001 * gw * gw
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        c1, c2 = 1 - 0.9**step, 1 - 0.999**step
        w -= LEARNING_RATE * (mw / c1) / (np.sqrt(vw / c2) + 1e-8)
        b -= LEARNING_RATE * (mb / c1) / (np.sqrt(vb / c2) + 1e-8)
    weights = {name: float(w[i]) for name, i in index.items() if abs(w[i]) >= 1e-3}
    return LinearModel(weights=weights, bias=b)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=str(DEFAULT_FILE))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    rows = load_rows(Path(args.file))
    y = np.array([1.0 if r.negative else 0.0 for r in rows])
    dense, tokens = featurize([r.text for r in rows])

    predicted = [False] * len(rows)
    for fold in range(args.folds):
        train = [i for i in range(len(rows)) if i % args.folds != fold]
        test = [i for i in range(len(rows)) if i % args.folds == fold]
        model = fit([dense[i] for i in train], [tokens[i] for i in train], y[train])
        for i in test:
            predicted[i] = model.logit(dense[i], tokens[i]) >= DECISION_LOGIT
    print(f"{args.folds}-fold cross-validation, held-out folds (negative class):")
    for corpus in sorted({r.corpus for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.corpus == corpus]
        p, r_, f = prf([rows[i].negative for i in idx], [predicted[i] for i in idx])
        print(f"  {corpus:8s} P {p:.3f}  R {r_:.3f}  F1 {f:.3f}")
    if not args.no_write:
        model = fit(dense, tokens, y)
        MODEL_PATH.write_text(model.to_json(), encoding="utf-8")
        print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB, {len(model.weights)} weights)")


if __name__ == "__main__":
    main()
