"""Denying idioms ("anything but helpful", "alles andere als hilfreich") and wishes ("I would have liked",
"j'aurais aimé", "ich hätte mir ... gewünscht") in every scored language, and the tables' checks (issue 12).

Regression: before round 20 "The staff were anything but friendly" scored +0.78 and "J'aurais aimé une meilleure
autonomie" +0.81 (the praise word counted; the idiom and the wish were not read)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.analyse.sentiment import Scorer, frames

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "denial_wish_cases.yaml").read_text("utf-8"))




@pytest.mark.parametrize("case", CASES, ids=[f"{c['lang']}:{c['text'][:40]}" for c in CASES])
def test_denials_and_wishes_by_the_rules(rules_scorer: Scorer, case: dict[str, Any]) -> None:
    result = rules_scorer.score(case["text"], lang=case["lang"])
    assert result.negative is (case["expect"] == "negative"), (result.score, result.drivers)


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("rules_only")],
                         ids=[f"{c['lang']}:{c['text'][:40]}" for c in CASES if not c.get("rules_only")])
def test_denials_and_wishes_with_the_shipped_model(shipped_scorer: Scorer, case: dict[str, Any]) -> None:
    result = shipped_scorer.score(case["text"], lang=case["lang"])
    assert result.negative is (case["expect"] == "negative"), (result.score, result.drivers)


def test_cases_cover_every_scored_language() -> None:
    assert {c["lang"] for c in CASES} == set(frames.LANGUAGES)


def test_the_denied_word_shows_as_negated_in_the_drivers(rules_scorer: Scorer) -> None:
    drivers = rules_scorer.score("Der Kundenservice war alles andere als hilfreich", lang="de").drivers
    assert [d.text for d in drivers if d.weight < 0] == ["not hilfreich"], drivers


def test_praise_after_a_wish_counts_for_nothing() -> None:
    from monitor.analyse.sentiment.engine import analyse
    from monitor.analyse.sentiment.french import pack
    score, contributions = analyse(pack(), "Si seulement le service était génial")
    assert score == 0.0 and [(c.text, c.kind) for c in contributions] == [("if génial", "irrealis")], contributions


def test_every_language_has_its_idioms_and_wishes() -> None:
    for code in frames.LANGUAGES:
        assert frames.irrealis(code), code
        assert frames.anything_but(code)("nothing to deny here") == "nothing to deny here", code


@pytest.mark.parametrize(("table", "call", "message"), [
    ({"irrealis": {}}, "irrealis", "irrealis.en: missing"),
    ({"irrealis": {"en": ["would have been so"]}}, "irrealis", "irrealis.en: missing (a list of one- or two-word"),
    ({"anything_but": {}}, "anything_but", "anything_but.en: missing"),
    ({"anything_but": {"en": {"negator": "not", "patterns": ["(x)"]}}}, "anything_but", "anything_but.en: keys missing"),
    ({"anything_but": {"en": {"negator": "not", "keys": ["x"], "patterns": ["(x"]}}}, "anything_but",
     "anything_but.en.patterns[0]: '(x' does not compile"),
    ({"anything_but": {"en": {"negator": "not", "keys": ["x"], "patterns": ["is x"]}}}, "anything_but",
     "anything_but.en.patterns[0]: 'is x' needs exactly one group"),
])
def test_a_malformed_idiom_or_wish_table_names_language_and_pattern(
    monkeypatch: pytest.MonkeyPatch, table: dict[str, Any], call: str, message: str
) -> None:
    loader = getattr(frames, call)
    monkeypatch.setattr(frames, "_load", lambda: table)
    loader.cache_clear()
    try:
        with pytest.raises(frames.FrameError, match=re.escape(message)):
            loader("en")
    finally:
        loader.cache_clear()
