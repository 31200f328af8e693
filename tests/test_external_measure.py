"""`python -m monitor.analyse.sentiment.external`: the scorer measured on a labelled file from elsewhere (the
third-party sets the README reports, or a deployment's own export), beside plain VADER."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.analyse.sentiment.external import Labelled, LabelledFileError, load, main, measure


@dataclass
class _Verdict:
    negative: bool
    unscored: bool = False


class _Fake:
    """Calls a text a complaint when it contains "bad": the figures below are then known by hand."""

    def score(self, text: str, *, lang: str | None = None, addressed: bool | None = None) -> _Verdict:
        return _Verdict("bad" in text or bool(addressed) and "meh" in text)


def test_precision_recall_and_f1_per_group_beside_vader() -> None:
    rows = [Labelled("bad service", True, "a"), Labelled("bad day but fine", False, "a"),
            Labelled("refund never came", True, "b"), Labelled("lovely staff", False, "b")]
    result = measure(rows, _Fake())
    assert result["all"]["n"] == 4 and result["all"]["negative"] == 2
    assert (result["all"]["p"], result["all"]["r"]) == (0.5, 0.5)
    assert (result["a"]["p"], result["a"]["r"], result["b"]["r"]) == (0.5, 1.0, 0.0)
    assert "vader_f1" in result["all"] and result["all"]["unscored"] == 0


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl"])
def test_every_format_reads_the_same_rows(tmp_path: Path, suffix: str) -> None:
    records = [{"t": "it broke", "y": "neg", "g": "x"}, {"t": "works great", "y": "pos", "g": "y"}]
    path = tmp_path / f"set{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(records), encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    else:
        sep = "\t" if suffix == ".tsv" else ","
        path.write_text(f"t{sep}y{sep}g\n" + "\n".join(sep.join(r.values()) for r in records), encoding="utf-8")
    assert load(path, "t", "y", ["NEG"], "g") == [Labelled("it broke", True, "x"), Labelled("works great", False, "y")]


def test_a_file_without_a_header_names_its_columns_by_number(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('1,"@acme where is my order, 2 weeks now",1,retail\n2,@acme hi,0,retail\n', encoding="utf-8")
    rows = load(path, "2", "3", ["1"], "4", header=False)
    assert rows[0] == Labelled("@acme where is my order, 2 weeks now", True, "retail") and not rows[1].negative


@pytest.mark.parametrize(("content", "args", "message"), [
    (None, ["--text", "t", "--label", "y", "--negative", "1"], "No such file"),
    ("t,y\nhello,1\n", ["--text", "text", "--label", "y", "--negative", "1"], "no column 'text'"),
    ("t,y\nhello,0\n", ["--text", "t", "--label", "y", "--negative", "1"], "no row has a label in ['1']"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                                          args: list[str], message: str) -> None:
    path = tmp_path / "set.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main([str(path), *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "set.xlsx").write_bytes(b"PK")
    with pytest.raises(LabelledFileError, match="unknown format .xlsx"):
        load(tmp_path / "set.xlsx", "t", "y", ["1"])


def test_the_command_prints_the_shipped_scorer_beside_vader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "set.csv"
    path.write_text("text,label\n@acme my parcel never arrived and nobody answers,neg\n"
                    "@acme thanks for the quick delivery!,pos\n", encoding="utf-8")
    assert main([str(path), "--text", "text", "--label", "label", "--negative", "neg", "--rules-only"]) == 0
    out = capsys.readouterr().out
    assert "2 texts, 1 complaints (rules only" in out
    assert out.splitlines()[-1].split()[:6] == ["all", "2", "1", "1.000", "1.000", "1.000"]


def test_the_shipped_manifest_names_source_licence_and_columns_of_every_set() -> None:
    from monitor.analyse.sentiment.external import manifest

    sets = manifest(Path(__file__).resolve().parents[1] / "docs" / "third-party-sets.yaml")
    assert len(sets) >= 5 and all(s.source and s.licence and s.negative for s in sets)
    assert len({s.name for s in sets}) == len(sets)


def test_a_manifest_measures_what_is_there_and_names_what_is_not(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.yaml").write_text(
        "sets:\n"
        "  - {name: here, file: a.csv, source: s, licence: l, text: t, label: y, negative: [neg], group: g,"
        " skip_groups: [noise]}\n"
        "  - {name: elsewhere, file: b.csv, source: 'example.org/b', licence: l, text: t, label: y, negative: [neg]}\n",
        encoding="utf-8")
    (tmp_path / "a.csv").write_text("t,y,g\n@acme my parcel never arrived and nobody answers,neg,x\n"
                                    "@acme thanks for the quick delivery!,pos,x\nI hate mondays,pos,noise\n",
                                    encoding="utf-8")
    assert main(["--manifest", str(tmp_path / "m.yaml"), "--dir", str(tmp_path), "--rules-only"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("here: 2 texts, 1 complaints: P 1.000 R 1.000 F1 1.000")
    assert out[1] == f"elsewhere: b.csv is not in {tmp_path} (from example.org/b; l)"


def test_a_malformed_manifest_names_the_entry_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.yaml").write_text("sets:\n  - {name: a, file: a.csv, source: s, licence: l, text: t}\n",
                                     encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["--manifest", str(tmp_path / "m.yaml"), "--dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "m.yaml: sets[0].label: missing" in err and err.count("\n") == 1


def test_a_quoted_text_with_a_line_break_stays_one_row(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text('text,label\n"first line\nsecond line of the same tweet",neg\nnext,pos\n', encoding="utf-8")
    rows = load(path, "text", "label", ["neg"])
    assert [r.text for r in rows] == ["first line\nsecond line of the same tweet", "next"]


def test_addressed_scores_every_text_as_a_brand_mention(tmp_path: Path) -> None:
    rows = [Labelled("meh, the refund", True), Labelled("lovely staff", False)]
    assert measure(rows, _Fake())["all"]["r"] == 0.0
    assert measure(rows, _Fake(), addressed=True)["all"]["r"] == 1.0
    from monitor.analyse.sentiment.external import manifest

    (tmp_path / "m.yaml").write_text(
        "sets:\n  - {name: a, file: a.csv, source: s, licence: l, text: t, label: y, negative: [n], addressed: true}\n"
        "  - {name: b, file: a.csv, source: s, licence: l, text: t, label: y, negative: [n]}\n", encoding="utf-8")
    assert [s.addressed for s in manifest(tmp_path / "m.yaml")] == [True, False]


def test_the_command_reads_mixed_words_as_a_complaint_with_addressed(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "set.csv"
    path.write_text("text,label\n@acme the lack of customer service is astounding,neg\n"
                    "@acme thanks for the quick delivery!,pos\n", encoding="utf-8")
    args = [str(path), "--text", "text", "--label", "label", "--negative", "neg", "--rules-only"]
    assert main(args) == 0 and capsys.readouterr().out.splitlines()[-1].split()[4] == "0.000"
    assert main([*args, "--addressed"]) == 0
    out = capsys.readouterr().out
    assert "as brand mentions" in out and out.splitlines()[-1].split()[:6] == ["all", "2", "1", "1.000", "1.000", "1.000"]


def test_a_manifest_set_names_the_brand_words_a_deployment_would_configure(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("t,y\nBest Buy support is slow,neg\nlovely staff,pos\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "sets:\n"
        "  - {name: plain, file: a.csv, source: s, licence: l, text: t, label: y, negative: [neg]}\n"
        "  - {name: branded, file: a.csv, source: s, licence: l, text: t, label: y, negative: [neg],"
        " brands: [Best Buy]}\n", encoding="utf-8")
    assert main(["--manifest", str(tmp_path / "m.yaml"), "--dir", str(tmp_path), "--rules-only"]) == 0
    plain, branded = capsys.readouterr().out.splitlines()
    assert "R 0.000" in plain                     # "Best" praised the brand's own name
    assert "R 1.000" in branded
