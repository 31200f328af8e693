"""Measure the scorer on a labelled file from elsewhere: a published corpus, or a deployment's own export.

    python -m monitor.analyse.sentiment.external FILE --text COLUMN --label COLUMN --negative VALUE
        [--negative VALUE ...] [--group COLUMN] [--lang en] [--brand TERM ...] [--rules-only] [--no-header]

FILE is CSV (``.csv``), tab-separated (``.tsv``), a JSON list of objects (``.json``) or JSON lines (``.jsonl``).
A row is a complaint when its label is one of the ``--negative`` values; everything else is not. Printed: the
rows, the complaints, and the scorer's precision, recall and F1 on them beside plain VADER's (``compound <=
-0.05``), overall and per ``--group`` value. With ``--no-header`` a CSV/TSV's columns are named by number (1 is
the first).

Why a tool and not a test: the third-party sets the judgement is measured on (the airline-customer tweets, the
complaints-to-brands corpus, the UCI review sentences; README, "Third-party measurement") cannot ship in this
repository (their licences do not allow it, or say nothing), so their figures are reproduced by fetching the
file and running this. Nothing here trains or chooses: the scorer and its model are the shipped ones unless
``--rules-only``. A missing file, column or value is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from monitor.analyse.sentiment.choice import prf

__all__ = ["Labelled", "LabelledFileError", "load", "measure", "main"]

VADER_THRESHOLD = -0.05


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line on stderr and exit 2, no usage dump (like the `monitor` commands)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"external: {message}\n")


class LabelledFileError(ValueError):
    """The file cannot be read as asked; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Labelled:
    text: str
    negative: bool
    group: str = ""


def _records(path: Path, header: bool) -> list[dict[str, str]]:
    suffix = path.suffix.lower()
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LabelledFileError(f"{path}: {exc.strerror or exc}") from None
    if suffix in (".json", ".jsonl"):
        try:
            data = [json.loads(line) for line in raw.splitlines() if line.strip()] if suffix == ".jsonl" else json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LabelledFileError(f"{path}: not JSON: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise LabelledFileError(f"{path}: expected a list of objects")
        return [{str(k): "" if v is None else str(v) for k, v in d.items()} for d in data]
    if suffix not in (".csv", ".tsv"):
        raise LabelledFileError(f"{path}: unknown format {suffix or '(none)'}; use .csv, .tsv, .json or .jsonl")
    delimiter = "\t" if suffix == ".tsv" else ","
    rows = list(csv.reader(raw.splitlines(), delimiter=delimiter))
    if not header:
        return [{str(i + 1): v for i, v in enumerate(r)} for r in rows if r]
    if not rows:
        raise LabelledFileError(f"{path}: empty")
    names = rows[0]
    return [dict(zip(names, r, strict=False)) for r in rows[1:] if r]


def load(path: Path, text: str, label: str, negative: Sequence[str], group: str | None = None,
         header: bool = True) -> list[Labelled]:
    """The file's rows as (text, is a complaint, group); a column no row has is an error naming it."""
    records = _records(path, header)
    if not records:
        raise LabelledFileError(f"{path}: no rows")
    for column in (text, label, group):
        if column is not None and not any(column in r for r in records):
            have = ", ".join(sorted(records[0]))[:200]
            raise LabelledFileError(f"{path}: no column {column!r} (columns: {have})")
    wanted = {v.strip().lower() for v in negative}
    out = [Labelled(r.get(text, ""), r.get(label, "").strip().lower() in wanted, r.get(group, "") if group else "")
           for r in records if r.get(text, "").strip()]
    if not any(x.negative for x in out):
        values = sorted({r.get(label, "") for r in records})[:10]
        raise LabelledFileError(f"{path}: no row has a label in {sorted(wanted)} (labels seen: {values})")
    return out


def measure(rows: Sequence[Labelled], scorer: object, lang: str | None = "en") -> dict[str, dict[str, float]]:
    """{group or "all": {"n", "negative", "p", "r", "f1", "vader_p", "vader_r", "vader_f1", "unscored"}}."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    results = [scorer.score(r.text, lang=lang) for r in rows]  # type: ignore[attr-defined]
    ours = [s.negative for s in results]
    theirs = [vader.polarity_scores(r.text)["compound"] <= VADER_THRESHOLD for r in rows]
    groups: dict[str, list[int]] = {"all": list(range(len(rows)))}
    for i, r in enumerate(rows):
        if r.group:
            groups.setdefault(r.group, []).append(i)
    out: dict[str, dict[str, float]] = {}
    for name, idx in groups.items():
        gold = [rows[i].negative for i in idx]
        p, rec, f1 = prf(gold, [ours[i] for i in idx])
        vp, vr, vf1 = prf(gold, [theirs[i] for i in idx])
        out[name] = {"n": len(idx), "negative": sum(gold), "p": p, "r": rec, "f1": f1, "vader_p": vp, "vader_r": vr,
                     "vader_f1": vf1, "unscored": sum(results[i].unscored for i in idx)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = _Parser(prog="python -m monitor.analyse.sentiment.external",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--text", required=True, help="the column holding the text")
    ap.add_argument("--label", required=True, help="the column holding the label")
    ap.add_argument("--negative", action="append", required=True, help="a label value meaning complaint (repeatable)")
    ap.add_argument("--group", help="a column to report apart (domain, airline, source)")
    ap.add_argument("--lang", default="en", help="the texts' language (default en; 'detect' to detect each)")
    ap.add_argument("--brand", action="append", default=[], help="a brand query's words, neutral like in rules.yaml")
    ap.add_argument("--rules-only", action="store_true", help="without the learned layer")
    ap.add_argument("--no-header", dest="header", action="store_false", help="CSV/TSV without a header row")
    args = ap.parse_args(argv)
    from monitor.analyse.sentiment.scorer import Scorer

    try:
        rows = load(args.file, args.text, args.label, args.negative, args.group, args.header)
    except LabelledFileError as exc:
        ap.error(str(exc))
    lang = None if args.lang == "detect" else args.lang
    try:
        scorer = Scorer(brand_terms=args.brand, model=None) if args.rules_only else Scorer(brand_terms=args.brand)
        result = measure(rows, scorer, lang)
    except ValueError as exc:
        ap.error(str(exc))
    print(f"{args.file}: {len(rows)} texts, {result['all']['negative']:.0f} complaints"
          f" ({'rules only' if args.rules_only else 'shipped model'}; language {args.lang})")
    print(f"{'group':28s} {'n':>6s} {'neg':>6s} {'P':>6s} {'R':>6s} {'F1':>6s}   {'VADER P':>7s} {'R':>6s} {'F1':>6s}")
    for name, m in sorted(result.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        print(f"{name[:28]:28s} {m['n']:6.0f} {m['negative']:6.0f} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f}"
              f"   {m['vader_p']:7.3f} {m['vader_r']:6.3f} {m['vader_f1']:6.3f}"
              + (f"   unscored {m['unscored']:.0f}" if m["unscored"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
