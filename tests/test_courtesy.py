"""Courtesy is not praise: the formulas of a request ("please", "can you help", "thanks in advance", "s'il vous
plaît", "por favor", "bitte") weigh nothing, a thank-you that closes a request thanks for nothing done yet, and
English "like" counts only as a verb. Before this, "@acme my package says delivered but it's not here. please
advise" scored +0.38: "please" outweighed the complaint (VADER gives it +1.3, "help" +1.7, Portuguese "favor"
+1.9), and a customer who asks politely was the one the scorer missed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.analyse.sentiment import Scorer, frames
from monitor.analyse.sentiment.engine import analyse

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "courtesy_cases.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(brand_terms=["acme"], model=None)


def _weights(scorer: Scorer, case: dict[str, Any]) -> dict[str, float]:
    _, contributions = analyse(scorer._packs[case["lang"]], case["text"])
    return {c.text.lower(): c.valence for c in contributions}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['lang']}:{c['text'][:40]}" for c in CASES])
def test_courtesy_weighs_nothing_and_gratitude_still_counts(scorer: Scorer, case: dict[str, Any]) -> None:
    weights = _weights(scorer, case)
    for word in case.get("silent", []):
        assert not [w for w, v in weights.items() if word in w.split() and v], (word, weights)
    for word in case.get("counts", []):
        assert [w for w, v in weights.items() if w == word and v], (word, weights)


def test_courtesy_cases_cover_every_scored_language() -> None:
    assert {c["lang"] for c in CASES} == set(frames.LANGUAGES)
    assert all("silent" in c or "counts" in c for c in CASES)


def test_courtesy_is_a_frame_of_weight_zero_in_every_language() -> None:
    courtesy = next(f for f in frames.frames() if f.name == "courtesy")
    assert courtesy.valence == 0.0 and courtesy.issue is None
    assert all(any(r.label == "frame:courtesy" for r in frames.frame_rules(code)) for code in frames.LANGUAGES)


def test_regression_a_polite_complaint_read_as_praise(scorer: Scorer) -> None:
    """"please" (+1.3) and "help" (+1.7) outweighed "still hasn't arrived"; the polite customer was missed."""
    text = "@acme hi, I ordered a jacket on the 3rd and it still hasn't arrived. Can you help please? Thanks"
    result = scorer.score(text, lang="en")
    assert result.negative and result.issue == "delivery", (result.score, result.drivers)
    assert not {"please", "help", "thanks"} & {d.text.lower() for d in result.drivers if d.weight}


def test_a_plain_request_is_no_complaint(scorer: Scorer) -> None:
    """Courtesy turns nothing into a complaint: a question with nothing wrong in it stays neutral."""
    for text, lang in [("@acme can you help me find the store hours? thanks", "en"),
                       ("Pouvez-vous m'indiquer vos horaires svp ? Merci", "fr"),
                       ("Por favor, qual é o horário da loja?", "pt")]:
        result = scorer.score(text, lang=lang)
        assert not result.negative and abs(result.score) < 0.05, (text, result.score, result.drivers)


def test_gratitude_for_something_done_stays_praise(scorer: Scorer) -> None:
    for text, lang in [("Thanks for the quick reply, sorted!", "en"), ("Danke für die schnelle Hilfe!", "de"),
                       ("Merci pour votre aide, c'est réglé", "fr")]:
        assert scorer.score(text, lang=lang).score > 0.3, text
