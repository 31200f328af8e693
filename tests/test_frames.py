"""Complaint frames: complaints told as facts, in every scored language (issue 12), and the frame table's checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.analyse.sentiment import Scorer, frames
from monitor.analyse.sentiment.engine import analyse
from monitor.analyse.sentiment.lexicon_en import pack as english_pack

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "frame_cases.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(brand_terms=["acme", "united", "usairways", "jetblue"], model=None)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['lang']}:{c['text'][:40]}" for c in CASES])
def test_complaints_told_as_facts(scorer: Scorer, case: dict[str, Any]) -> None:
    result = scorer.score(case["text"], lang=case["lang"])
    assert result.negative is (case["expect"] == "negative"), (result.score, result.drivers)
    if case.get("issue"):
        assert result.issue == case["issue"], (result.issue, result.drivers)


def test_frame_cases_cover_every_scored_language() -> None:
    assert {c["lang"] for c in CASES} == set(frames.LANGUAGES)
    assert {c["expect"] for c in CASES} == {"negative", "not"}


def test_every_language_fills_every_frame() -> None:
    names = [f.name for f in frames.frames()]
    for code in frames.LANGUAGES:
        kinds = {r.label for r in frames.frame_rules(code)}
        assert kinds == {f"frame:{n}" for n in names}, code
        assert frames.asking(code)


def test_regression_on_hold_rule_never_matched() -> None:
    """The English rule was 'on hold (?:for )?': its trailing space can never sit before a word boundary."""
    score, contributions = analyse(english_pack(), "been on hold for 2 hours")
    assert score < -0.3 and any(c.text.startswith("on hold") for c in contributions)


def test_regression_rules_with_a_top_level_alternative_matched_only_their_last_branch() -> None:
    """The phrase matcher tagged a rule by a named group appended after its regex, so in "a|b" only "b" was
    tagged: German "(so|extrem) heiß|feuer gefangen|…" never fired on "feuer gefangen"."""
    from monitor.analyse.sentiment.european import pack
    score, contributions = analyse(pack("de"), "Das Ladegerät hat Feuer gefangen")
    assert score < -0.3 and [c.text for c in contributions] == ["feuer gefangen"]


def test_frame_drivers_name_the_frame(scorer: Scorer) -> None:
    result = scorer.score("Die Lieferung kam zwei Wochen zu spät", lang="de")
    assert any(d.kind == "frame:late" for d in result.drivers), result.drivers


def test_a_why_or_where_question_is_never_damped(scorer: Scorer) -> None:
    assert scorer.score("Is the app down again?", lang="en").negative
    assert scorer.score("Where is my refund?", lang="en").negative
    assert not scorer.score("Is the app available in Spain?", lang="en").negative


@pytest.mark.parametrize(("table", "message"), [
    ({"frames": {"late": {"valence": -1}}, "languages": {}}, "languages.en: missing"),
    ({"frames": {"late": {"valence": -1}}, "languages": {"en": {"NUM": "x", "UNIT": "y"}}},
     "languages.en.late: missing"),
    ({"frames": {"late": {"valence": -1}}, "languages": {"en": {"NUM": "x", "UNIT": "y", "late": ["(?:"]}}},
     "languages.en.late[0]: pattern '(?:' does not compile"),
    ({"frames": {"late": {"valence": -1}}, "languages": {"en": {"NUM": "x", "UNIT": "y", "late": ["{DAY} late"]}}},
     "unknown slot"),
    ({"frames": {"late": {"valence": -1}}, "languages": {"en": {"NUM": "x", "UNIT": "y", "late": ["a"], "lat": ["b"]}}},
     "languages.en.lat: unknown frame"),
    ({"frames": {"late": {}}, "languages": {}}, "frames.late: needs a numeric 'valence'"),
])
def test_a_malformed_frame_table_names_language_frame_and_pattern(
    monkeypatch: pytest.MonkeyPatch, table: dict[str, Any], message: str
) -> None:
    monkeypatch.setattr(frames, "_load", lambda: table)
    frames.frames.cache_clear()
    frames.frame_rules.cache_clear()
    try:
        with pytest.raises(frames.FrameError, match=re.escape(message)):
            frames.frame_rules("en")
    finally:
        frames.frames.cache_clear()
        frames.frame_rules.cache_clear()


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "Le colis est resté sur le palier"),          # "sur" (on) was scored as "sure"
    ("nl", "Ik ben naar de winkel gegaan"),               # "naar" (to) was scored as "nasty"
    ("pt", "Liguei para o banco ontem"),                  # "para" (for) and "banco" (bank) carried blame
    ("en", "Paid with my credit card at the support desk"),
])
def test_regression_function_word_homographs_and_topics_carry_no_sentiment(lang: str, text: str) -> None:
    rules = Scorer(model=None)
    result = rules.score(text, lang=lang)
    assert result.score == 0.0 and result.drivers == (), result.drivers


def test_topic_words_are_listed_for_every_scored_language() -> None:
    from monitor.analyse.sentiment import topic_report, topics
    assert all(topics.topic_words(code) for code in frames.LANGUAGES)
    assert set(topic_report.report(5)) <= set(frames.LANGUAGES)
