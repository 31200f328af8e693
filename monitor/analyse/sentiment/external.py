"""Measure the scorer on a labelled file from elsewhere: a published corpus, or a deployment's own export.

    python -m monitor.analyse.sentiment.external FILE --text COLUMN --label COLUMN --negative VALUE
        [--negative VALUE ...] [--group COLUMN] [--skip-group VALUE ...] [--lang en] [--brand TERM ...]
        [--addressed] [--rules-only] [--no-header]
    python -m monitor.analyse.sentiment.external --manifest docs/third-party-sets.yaml --dir FOLDER

FILE is CSV (``.csv``), tab-separated (``.tsv``), a JSON list of objects (``.json``) or JSON lines (``.jsonl``).
A row is a complaint when its label is one of the ``--negative`` values; everything else is not. Printed: the
rows, the complaints, and the scorer's precision, recall and F1 on them beside plain VADER's (``compound <=
-0.05``), overall and per ``--group`` value (``--skip-group`` leaves a group's rows out). With ``--no-header`` a
CSV/TSV's columns are named by number (1 is the first). ``--manifest`` measures every set a YAML manifest lists
(``docs/third-party-sets.yaml``: where each set comes from, its licence and its columns) that is present in
``--dir``, one line each, and names the ones that are not there and where to fetch them.

Why a tool and not a test: the third-party sets the judgement is measured on (the airline-customer tweets, the
complaints-to-brands corpus, the UCI review sentences; README, "Third-party measurement") cannot ship in this
repository (their licences do not allow it, or say nothing), so their figures are reproduced by fetching the
file and running this. Nothing here trains or chooses: the scorer and its model are the shipped ones unless
``--rules-only``. ``--addressed`` (a manifest's ``addressed: true``) scores every text as a mention of a monitored
brand, as ``monitor run`` does with what a brand's query matched; ``--brand`` (a manifest's ``brands``) names the
brand words a deployment would configure, neutral as there. A missing file, column or value is one line on stderr
and exit 2.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from monitor.analyse.sentiment.choice import prf
from monitor.core.args import OneLineParser

__all__ = ["Labelled", "LabelledFileError", "ThirdPartySet", "load", "main", "manifest", "measure"]

VADER_THRESHOLD = -0.05


class _Scores(Protocol):
    """What is measured: :class:`~monitor.analyse.sentiment.scorer.Scorer`, or a stand-in in the tests."""

    def score(self, text: str, *, lang: str | None = None, addressed: bool | None = None) -> Any: ...



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
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter))   # a quoted text may hold line breaks
    if not header:
        return [{str(i + 1): v for i, v in enumerate(r)} for r in rows if r]
    if not rows:
        raise LabelledFileError(f"{path}: empty")
    names = rows[0]
    return [dict(zip(names, r, strict=False)) for r in rows[1:] if r]


def load(path: Path, text: str, label: str, negative: Sequence[str], group: str | None = None,
         header: bool = True, skip_groups: Sequence[str] = ()) -> list[Labelled]:
    """The file's rows as (text, is a complaint, group); a column no row has is an error naming it."""
    records = _records(path, header)
    if skip_groups and group is not None:
        skipped = set(skip_groups)
        records = [r for r in records if r.get(group, "") not in skipped]
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


@dataclass(frozen=True)
class ThirdPartySet:
    """One entry of a manifest: a labelled file from elsewhere and how to read it."""

    name: str
    file: str
    source: str
    licence: str
    text: str
    label: str
    negative: tuple[str, ...]
    group: str | None = None
    header: bool = True
    skip_groups: tuple[str, ...] = ()
    lang: str = "en"
    addressed: bool = False
    brands: tuple[str, ...] = ()   # the brand queries' words a deployment watching these texts would configure


def _listed(value: object) -> tuple[str, ...]:
    """A manifest value that may be one item or a list of them, as strings."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(str(v) for v in items)


def manifest(path: Path) -> list[ThirdPartySet]:
    """The sets a YAML manifest lists; a malformed entry is an error naming the file, entry and key."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelledFileError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise LabelledFileError(f"{path}: not YAML: {exc}".splitlines()[0]) from None
    entries = doc.get("sets") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise LabelledFileError(f"{path}: needs a top-level 'sets' list")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: sets[{i}]"
        if not isinstance(e, dict):
            raise LabelledFileError(f"{where}: must be a mapping")
        for key in ("name", "file", "source", "licence", "text", "label", "negative"):
            if not e.get(key):
                raise LabelledFileError(f"{where}.{key}: missing")
        unknown = set(e) - {f.name for f in ThirdPartySet.__dataclass_fields__.values()}
        if unknown:
            raise LabelledFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        out.append(ThirdPartySet(str(e["name"]), str(e["file"]), str(e["source"]), str(e["licence"]), str(e["text"]),
                                 str(e["label"]), _listed(e.get("negative")), str(e["group"]) if e.get("group") else None,
                                 bool(e.get("header", True)), _listed(e.get("skip_groups")), str(e.get("lang", "en")),
                                 bool(e.get("addressed", False)), _listed(e.get("brands"))))
    return out


def measure(rows: Sequence[Labelled], scorer: _Scores, lang: str | None = "en",
            addressed: bool = False) -> dict[str, dict[str, float]]:
    """{group or "all": {"n", "negative", "p", "r", "f1", "vader_p", "vader_r", "vader_f1", "unscored"}}.
    ``addressed``: each text is scored as a mention of a monitored brand, the way ``monitor run`` scores what a
    brand's query matched (None otherwise: a text is addressed only when it names a ``--brand``)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    results = [scorer.score(r.text, lang=lang, addressed=True if addressed else None) for r in rows]
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
    ap = OneLineParser(prog="python -m monitor.analyse.sentiment.external", description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path, nargs="?")
    ap.add_argument("--text", help="the column holding the text")
    ap.add_argument("--label", help="the column holding the label")
    ap.add_argument("--negative", action="append", help="a label value meaning complaint (repeatable)")
    ap.add_argument("--group", help="a column to report apart (domain, airline, source)")
    ap.add_argument("--skip-group", action="append", default=[], help="leave this group's rows out (repeatable)")
    ap.add_argument("--manifest", type=Path, help="measure every set this YAML manifest lists that --dir holds")
    ap.add_argument("--dir", type=Path, help="the folder the manifest's files were fetched into")
    ap.add_argument("--lang", default="en", help="the texts' language (default en; 'detect' to detect each)")
    ap.add_argument("--brand", action="append", default=[], help="a brand query's words, neutral like in rules.yaml")
    ap.add_argument("--addressed", action="store_true",
                    help="score each text as a mention of a monitored brand, as `monitor run` does")
    ap.add_argument("--rules-only", action="store_true", help="without the learned layer")
    ap.add_argument("--no-header", dest="header", action="store_false", help="CSV/TSV without a header row")
    args = ap.parse_args(argv)
    from monitor.analyse.sentiment.scorer import Scorer


    def scorer(brands: Sequence[str] = ()) -> Scorer:   # built once the input is readable: it takes a second or two
        terms = [*args.brand, *brands]
        return Scorer(brand_terms=terms, model=None) if args.rules_only else Scorer(brand_terms=terms)

    if args.manifest is not None:
        if args.dir is None or args.file is not None:
            ap.error("--manifest needs --dir and no FILE")
        try:
            sets = manifest(args.manifest)
        except LabelledFileError as exc:
            ap.error(str(exc))
        built: dict[tuple[str, ...], Scorer] = {}
        for ts in sets:
            if ts.brands not in built:
                built[ts.brands] = scorer(ts.brands)
            print(_manifest_line(ts, args.dir, built[ts.brands]), flush=True)
        return 0
    if args.file is None or not (args.text and args.label and args.negative):
        ap.error("FILE, --text, --label and --negative are required (or --manifest and --dir)")
    try:
        rows = load(args.file, args.text, args.label, args.negative, args.group, args.header, args.skip_group)
        result = measure(rows, scorer(), None if args.lang == "detect" else args.lang, args.addressed)
    except ValueError as exc:          # LabelledFileError included
        ap.error(str(exc))
    print(f"{args.file}: {len(rows)} texts, {result['all']['negative']:.0f} complaints"
          f" ({'rules only' if args.rules_only else 'shipped model'}; language {args.lang}"
          f"{'; as brand mentions' if args.addressed else ''})")
    print(f"{'group':28s} {'n':>6s} {'neg':>6s} {'P':>6s} {'R':>6s} {'F1':>6s}   {'VADER P':>7s} {'R':>6s} {'F1':>6s}")
    for name, m in sorted(result.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        print(f"{name[:28]:28s} {m['n']:6.0f} {m['negative']:6.0f} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f}"
              f"   {m['vader_p']:7.3f} {m['vader_r']:6.3f} {m['vader_f1']:6.3f}"
              + (f"   unscored {m['unscored']:.0f}" if m["unscored"] else ""))
    return 0


def _manifest_line(ts: ThirdPartySet, folder: Path, scorer: _Scores) -> str:
    """One set's figures, or why it was not measured (not fetched; unreadable as the manifest says)."""
    path = folder / ts.file
    if not path.is_file():
        return f"{ts.name}: {ts.file} is not in {folder} (from {ts.source}; {ts.licence})"
    try:
        rows = load(path, ts.text, ts.label, ts.negative, ts.group, ts.header, ts.skip_groups)
    except LabelledFileError as exc:
        return f"{ts.name}: not measured: {exc}"
    m = measure(rows, scorer, None if ts.lang == "detect" else ts.lang, ts.addressed)["all"]
    return (f"{ts.name}: {m['n']:.0f} texts, {m['negative']:.0f} complaints: P {m['p']:.3f} R {m['r']:.3f}"
            f" F1 {m['f1']:.3f} (VADER F1 {m['vader_f1']:.3f})")


if __name__ == "__main__":
    raise SystemExit(main())
