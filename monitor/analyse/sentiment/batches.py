"""Is a batch of new training mentions worth keeping? Judged like for like, on the lines that were there before.

    python -m monitor.analyse.sentiment.batches --baseline OLD_train_mentions.tsv [--lang de,fr]
    python -m monitor.analyse.sentiment.batches --probe WRITER_FILE.tsv [...]

run in a tree whose ``data/train_mentions.tsv`` has the batch added. Why a tool of its own: the training
command's out-of-fold figure is measured on *all* the lines, so adding lines changes the lines it is measured
on (the new authors' among them), and in round 10 the check sets, the only other like-for-like measure, were
spent dropping a batch. Here the baseline's lines keep their folds (by author, :func:`train.fold_of` on the
baseline alone), the batch's authors are split into two folds of their own, and for each fold the layer is
fitted twice, on the baseline's other fold and on that plus the batch's other fold, then scored on the same
held-out baseline lines: the difference is what the batch teaches about other authors' mentions, and nothing
else. Each language is scored in the variant it ships (scope, min_p, the customer-context gate; as
``monitor train`` carries them, :func:`choice.carry_policy`) so the figure is the one users get. Round 11 used it with the yardstick set (``tests/data/judgement_yardstick.tsv``), which is
too small (420 lines) to tell a batch's effect from noise on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.analyse.sentiment import learned, train
from monitor.analyse.sentiment.choice import carry_policy, prf
from monitor.core.args import OneLineParser
from monitor.core.errors import MonitorError

__all__ = ["Comparison", "Probe", "baseline_texts", "like_for_like", "main", "probe"]


@dataclass(frozen=True)
class Comparison:
    """One language: the baseline's mention lines scored out of fold without and with the batch."""
    lang: str
    lines: int
    batch_lines: int
    right_before: int
    right_after: int
    f1_before: float
    f1_after: float
    typed: int                 # typed complaints among the lines
    typed_before: int
    typed_after: int

    def line(self) -> str:
        return (f"{self.lang}: {self.lines} baseline lines, {self.batch_lines} new: right {self.right_before} ->"
                f" {self.right_after} ({self.right_after - self.right_before:+d}), F1 {self.f1_before:.4f} ->"
                f" {self.f1_after:.4f}; issue type {self.typed_before} -> {self.typed_after} of {self.typed}")


@dataclass(frozen=True)
class Probe:
    """A writer's file judged by the scorer in use before it is trained on: share right per language, and the typed
    complaints typed right (a missed complaint has no type). Where the scorer is weakest is what a batch can teach;
    round 11 and 12 notes quote these figures ("English product-review sentences: 79%")."""

    path: str
    right: dict[str, int]
    lines: dict[str, int]
    typed_right: int
    typed: int

    def line(self) -> str:
        n, r = sum(self.lines.values()), sum(self.right.values())
        langs = " ".join(f"{k} {self.right[k] / self.lines[k]:.0%}" for k in sorted(self.lines))
        return (f"{self.path}: {r}/{n} right ({r / max(n, 1):.1%}; {langs}); issue type {self.typed_right}/"
                f"{self.typed}")


def probe(path: str | Path, model: learned.Model | str | None = "shipped") -> Probe:
    """Score a writer's file (``lang<TAB>expect<TAB>issue<TAB>text``, the columns of the training mentions without
    the author) with the shipped model, or ``model`` (None: the rules alone). A malformed line is a
    :class:`MonitorError` naming it."""
    from monitor.analyse.sentiment.scorer import Scorer

    scorer = Scorer(model=model)
    right: dict[str, int] = {}
    lines: dict[str, int] = {}
    typed = typed_right = 0
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.split("\t")
        if len(cols) != 4 or cols[1] not in ("negative", "not") or cols[0] not in scorer.supported_languages:
            raise MonitorError(f"{path}:{number}: expected lang, negative|not, issue, text separated by tabs")
        lang, expect, issue, text = cols
        got = scorer.score(text, lang=lang)
        lines[lang] = lines.get(lang, 0) + 1
        right[lang] = right.get(lang, 0) + (got.negative == (expect == "negative"))
        if expect == "negative" and issue:
            typed += 1
            typed_right += got.issue == issue
    return Probe(str(path), right, lines, typed_right, typed)


def baseline_texts(path: str | Path) -> set[tuple[str, str]]:
    """(lang, text) of every mention in a training-mentions file (the shipped format)."""
    return {(e.lang, e.text) for e in train.mention_examples(path)}


def like_for_like(examples: Sequence[train.Example], baseline: set[tuple[str, str]],
                  langs: Iterable[str] | None = None, shipped: learned.Model | None = None) -> list[Comparison]:
    """Per language, the baseline's mention lines out of fold, fitted without and with the lines not in it.

    General-sentiment rows (the dev set) always count as baseline and are trained on, never scored here."""
    from monitor.analyse.sentiment.scorer import Scorer

    out: list[Comparison] = []
    for lang in sorted(set(langs) if langs is not None else {e.lang for e in examples}):
        exs = [e for e in examples if e.lang == lang]
        old = [e for e in exs if e.general or (e.lang, e.text) in baseline]
        new = [e for e in exs if not (e.general or (e.lang, e.text) in baseline)]
        fold_old, fold_new = train.fold_of(old), train.fold_of(new)
        gold: list[bool] = []
        said: dict[str, list[bool]] = {"before": [], "after": []}
        typed = {"before": 0, "after": 0, "n": 0}
        for k in range(2):
            test = [e for e, f in zip(old, fold_old, strict=True) if f == k and not e.general]
            fitted_on = [e for e, f in zip(old, fold_old, strict=True) if f != k]
            batch = [e for e, f in zip(new, fold_new, strict=True) if f != k]
            gold += [e.negative for e in test]
            typed["n"] += sum(1 for e in test if e.negative and e.issue)
            for when, rows in (("before", fitted_on), ("after", fitted_on + batch)):
                model = train.fit(rows)
                if shipped is not None:
                    model = carry_policy(model, shipped)       # the variant users get, as `monitor train` does
                scorer = Scorer(model=learned.Model({c: m for c, m in model.languages.items() if c == lang},
                                                    {}, model.issues))
                for e in test:
                    got = scorer.score(e.text, lang=lang)
                    said[when].append(got.negative)
                    typed[when] += bool(e.negative and e.issue and got.issue == e.issue)
        right = {w: sum(g == s for g, s in zip(gold, said[w], strict=True)) for w in said}
        out.append(Comparison(lang, len(gold), len(new), right["before"], right["after"], prf(gold, said["before"])[2],
                              prf(gold, said["after"])[2], typed["n"], typed["before"], typed["after"]))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = OneLineParser(prog="python -m monitor.analyse.sentiment.batches", description=__doc__.splitlines()[0])
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--baseline", help="the training-mentions file before the batch was added")
    how.add_argument("--probe", nargs="+", metavar="FILE",
                     help="writers' files (lang, expect, issue, text) to judge with the shipped model, unseen")
    ap.add_argument("--lang", help="comma-separated languages (default: all)")
    args = ap.parse_args(argv)
    if args.probe:
        for path in args.probe:
            if not Path(path).is_file():
                ap.error(f"--probe: no such file: {path}")
        try:
            for path in args.probe:
                print(probe(path).line(), flush=True)
        except MonitorError as exc:
            ap.error(str(exc))
        return
    if not Path(args.baseline).is_file():
        ap.error(f"--baseline: no such file: {args.baseline}")
    langs = args.lang.split(",") if args.lang else None
    for comparison in like_for_like(train.shipped_examples(), baseline_texts(args.baseline), langs, learned.load()):
        print(comparison.line(), flush=True)


if __name__ == "__main__":
    main()
