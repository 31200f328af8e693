"""Judging a batch of training mentions like for like (`python -m monitor.analyse.sentiment.batches`): the
baseline's lines are scored out of fold without and with the batch, on the same lines and folds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.analyse.sentiment import batches
from monitor.analyse.sentiment.train import Example

pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parent.parent


def _lines(author: str, complaint_word: str, fine_word: str, n: int = 12) -> list[Example]:
    """Made-up words the rules cannot know: only training can tell which one marks a complaint."""
    out = []
    for i in range(n):
        out.append(Example(f"Bestellung {i} von {author} war {complaint_word} heute", "de", True, 3.0,
                           "delivery", author=author))
        out.append(Example(f"Bestellung {i} von {author} war {fine_word} heute", "de", False, 3.0, author=author))
    return out


def test_a_batch_that_teaches_the_baseline_authors_words_scores_better_on_their_lines() -> None:
    """Each baseline author uses words the other never does, so out of fold the baseline alone cannot learn them;
    a batch by two more authors using both pairs teaches them. The figures are on the baseline's lines only."""
    baseline = _lines("anna", "zorpig", "blimig") + _lines("bert", "quaxig", "flenig")
    batch = [e for author in ("carl", "dora") for words in (("zorpig", "blimig"), ("quaxig", "flenig"))
             for e in _lines(author, *words, n=6)]
    [result] = batches.like_for_like(baseline + batch, {(e.lang, e.text) for e in baseline})
    assert (result.lang, result.lines, result.batch_lines) == ("de", len(baseline), len(batch))
    assert result.right_after > result.right_before
    assert result.f1_after > result.f1_before
    assert result.typed == len(baseline) // 2
    assert "baseline lines" in result.line()


def test_no_batch_means_no_change() -> None:
    baseline = _lines("anna", "zorpig", "blimig") + _lines("bert", "quaxig", "flenig")
    [result] = batches.like_for_like(baseline, {(e.lang, e.text) for e in baseline})
    assert result.batch_lines == 0
    assert (result.right_before, result.typed_before) == (result.right_after, result.typed_after)


def test_a_missing_baseline_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "monitor.analyse.sentiment.batches", "--baseline",
                           str(tmp_path / "nope.tsv")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_baseline_texts_reads_the_shipped_format(tmp_path: Path) -> None:
    path = tmp_path / "old.tsv"
    path.write_text("# a comment\nlang\texpect\tissue\tauthor\ttext\nde\tnegative\tbilling\tw1\tZu teuer.\n"
                    "fr\tnot\t\tw2\tTrès bien\n", encoding="utf-8")
    assert batches.baseline_texts(path) == {("de", "Zu teuer."), ("fr", "Très bien")}


def test_a_probe_judges_a_writers_file_unseen_per_language_and_issue(tmp_path: Path) -> None:
    """The probe scores a writer's lines with the scorer in use before they are trained on: where it is weakest."""
    path = tmp_path / "w99_probe.tsv"
    path.write_text("en\tnegative\tdelivery\tMy parcel never arrived and nobody answers\n"
                    "en\tnot\t\tLove it, works perfectly\n"
                    "de\tnegative\tdefect\tDas Gerät ist nach zwei Tagen kaputt gegangen\n", encoding="utf-8")
    result = batches.probe(path, model=None)          # the rules alone: a known, stable judgement
    assert result.lines == {"en": 2, "de": 1}
    assert result.right == {"en": 2, "de": 1}
    assert (result.typed_right, result.typed) == (2, 2)
    assert "3/3 right" in result.line()


def test_a_malformed_probe_line_names_file_and_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("en\tnot\t\tfine\nen\tmaybe\t\tunsure\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "monitor.analyse.sentiment.batches", "--probe", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"{path}:2:" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
