"""Ironic praise and review wording: table-driven cases (tests/data/irony_review_cases.yaml) on the rules alone,
the irony table's validation, and the learned layer's veto on weak lexicon-only verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.analyse.sentiment import frames, learned
from monitor.analyse.sentiment.scorer import Scorer

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "irony_review_cases.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def rules() -> Scorer:
    return Scorer(brand_terms=["united"], model=None)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['lang']}:{c['text'][:40]}" for c in CASES])
def test_ironic_praise_and_review_wording(rules_scorer: Scorer, case: dict[str, Any]) -> None:
    result = rules_scorer.score(case["text"], lang=case["lang"])
    assert result.negative is (case["expect"] == "negative"), (case["why"], result.score, result.drivers)


def test_ironic_praise_counts_for_nothing_sincere_praise_still_counts(rules_scorer: Scorer) -> None:
    ironic = rules_scorer.score("Awesome, my parcel still hasn't arrived", lang="en").drivers
    assert not any(d.text.lower() == "awesome" and d.weight > 0 for d in ironic), ironic
    assert any(d.kind == "irony" and d.weight == 0 and "Awesome" in d.text for d in ironic), ironic  # explained
    sincere = rules_scorer.score("Awesome, my parcel arrived a day early", lang="en").drivers
    assert any(d.text.lower() == "awesome" and d.weight > 0 for d in sincere), sincere


def test_every_scored_language_has_irony_carriers() -> None:
    for code in frames.LANGUAGES:
        assert frames.irony(code), code
        assert frames.irony(code) == {w.lower() for w in frames.irony(code)}


def test_a_language_without_irony_carriers_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    frames.irony.cache_clear()
    monkeypatch.setattr(frames, "_load", lambda: {"irony": {"en": ["great"]}})
    try:
        with pytest.raises(frames.FrameError, match=r"irony\.de: missing"):
            frames.irony("de")
    finally:
        monkeypatch.undo()
        frames.irony.cache_clear()


def _veto_model(veto: float) -> learned.Model:
    """A toy English layer that reads "sick" next to "sauce" as praise (P(negative) small)."""
    m = learned.LangModel(bias=0.0, dense=(0.0,) * len(learned.DENSE), weights={"w:sauce": -6.0},
                          scope="silent", min_p=0.6, reach=0.0, veto=veto)
    return learned.Model({"en": m})


def test_the_layer_lifts_a_weak_lexicon_only_complaint_when_its_veto_allows() -> None:
    text = "this sauce is sick"
    assert Scorer(model=None).score(text, lang="en").negative            # the lexicon alone: "sick"
    assert Scorer(model=_veto_model(0.0)).score(text, lang="en").negative  # no veto: the rules' verdict stands
    lifted = Scorer(model=_veto_model(0.6)).score(text, lang="en")
    assert not lifted.negative and any(d.kind == "learned" and d.weight > 0 for d in lifted.drivers)


def test_the_veto_never_lifts_grammar() -> None:
    """Negation, phrase rules and frames are the rules' grammar: the veto reads lexicon-only verdicts only."""
    for text in ("the sauce is not good", "sauce still not arrived", "sauce: waste of money"):
        assert Scorer(model=_veto_model(0.6)).score(text, lang="en").negative, text


def test_veto_round_trips_through_the_model_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    _veto_model(0.35).save(path)
    assert learned.load(path).languages["en"].veto == 0.35


def test_regression_a_word_listed_twice_in_a_word_list_silently_replaced_its_first_value() -> None:
    """Round 5's review words relisted "pessimo", "meraviglioso", "encantado"… and lowered them unnoticed."""
    from monitor.analyse.sentiment.european_words import words

    assert words("bello:1.9 bella ottimo:2.6") == {"bello": 1.9, "bella": 1.9, "ottimo": 2.6}
    with pytest.raises(ValueError, match="'pessimo' is listed twice"):
        words("pessimo:-2.8 pessima pessimo:-2.6")
