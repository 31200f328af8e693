"""The learned layer makes a complaint only on evidence a reader can see: some content word it leans on.

Round 18: on real French tweets (the DEFT 2017 train split) the layer called 173 neutral lines complaints that the
rules left alone, 40 of them right. Headlines and announcements ("Montre Seiko ... fonctionnant à l'énergie solaire",
"« Prévision des énergies renouvelables » Colloque ...") were decided by quotation marks (French -2.4 logits: the
project's writers quote agents and slogans in their complaints) and by the bias, with no word to show in `drivers`.
"""

from __future__ import annotations

from monitor.analyse.sentiment import learned
from monitor.analyse.sentiment.scorer import Scorer


def _scorer(weights: dict[str, float], bias: float = 0.0, scope: str = "all") -> Scorer:
    m = learned.LangModel(bias, (0.0,) * len(learned.DENSE), weights, scope=scope, min_p=0.6)
    return Scorer(model=learned.Model({"fr": m}, {}, {}))


def test_the_layer_needs_a_content_word_to_make_a_complaint_in_scope_all() -> None:
    """Function words and the bias alone never make a complaint the rules did not find."""
    sc = _scorer({"w:le": 0.9, "w:de": 0.9, "b:de la": 0.9}, bias=1.0)
    verdict = sc.score("Inauguration de la centrale de Genève le 22 octobre", lang="fr")
    assert not verdict.negative
    assert not [d for d in verdict.drivers if d.kind == "learned" and d.weight < 0]


def test_a_content_word_the_layer_leans_on_still_makes_a_complaint() -> None:
    sc = _scorer({"w:le": 0.9, "w:colis": 1.5}, bias=1.0)
    verdict = sc.score("Toujours pas reçu le colis commandé en octobre", lang="fr")
    assert verdict.negative
    assert any(d.text == "colis" and d.kind == "learned" for d in verdict.drivers)


def test_punctuation_is_no_content_word_for_the_layer() -> None:
    """A mark the layer weighs (a quote, a colon, a digit) is never the evidence for a complaint, in any scope."""
    for scope in ("all", "silent"):
        sc = _scorer({"w::": 2.0, "w:3": 2.0, "w:2030": 2.0}, bias=0.5, scope=scope)
        assert not sc.score("Production : 3 centrales d'ici 2030", lang="fr").negative, scope


def test_the_rules_complaints_do_not_need_the_layers_evidence() -> None:
    """The requirement is for the layer's own complaints: "je n'aime pas ce produit" stays one."""
    sc = _scorer({"w:le": 0.9}, bias=-1.0)
    assert sc.score("Je n'aime pas ce produit", lang="fr").negative


def test_quotation_marks_are_no_feature_for_layers_trained_on_writers_lines() -> None:
    """The writers quote agents and slogans in complaints, so those layers learned quotes as complaint marks
    (round 17's French model: « and » at -2.4 logits each); English trains on real text too and keeps them."""
    text = "« Prévision des énergies » \"Colloque\" “demain” ‘ici’"
    assert not {'"', "«", "»", "“", "”", "‘", "’"} & set(learned.tokens(text, lang="fr"))
    assert {'"', "«"} <= set(learned.tokens(text, lang="en"))
    assert "l’eau" in learned.tokens("l’eau", lang="fr")


def _es(weights: dict[str, float], bias: float = 0.0) -> Scorer:
    """A Spanish layer that, like the trained ones, follows the rules' score (dense feature 0) unless n-grams
    outweigh it."""
    m = learned.LangModel(bias, (-3.0,) + (0.0,) * (len(learned.DENSE) - 1), weights, scope="all", min_p=0.6)
    return Scorer(model=learned.Model({"es": m}, {}, {}))


def test_function_words_alone_never_lift_a_complaint_the_rules_found() -> None:
    """Regression, round 19: the Spanish layer weighed "pero" +1.3 and "si" +0.8 towards praise (the writers'
    lines use them in polite praise), and on real tweets to airlines lifted complaints the rules had found on a
    word: "Si lo sentís mucho pero lo hacéis fatal". The layer lifts a complaint only when its content words
    alone (with the bias and the rules' features) say it is none."""
    sc = _es({"w:pero": -3.0, "w:si": -3.0, "w:lo": -2.0}, bias=0.0)
    verdict = sc.score("Si lo sentís mucho pero lo hacéis fatal", lang="es")
    assert verdict.negative
    assert Scorer(model=None).score("Si lo sentís mucho pero lo hacéis fatal", lang="es").negative


def test_a_content_word_still_lets_the_layer_lift_a_rules_complaint() -> None:
    """The layer keeps its say where a content word carries it ("perdió" in "nunca perdió una maleta" reads as
    loss to the rules' lexicon; a layer that learnt the phrase as praise may lift it)."""
    sc = _es({"w:maleta": -6.0}, bias=0.0)
    text = "fatal la maleta"
    assert Scorer(model=None).score(text, lang="es").negative
    assert not sc.score(text, lang="es").negative


def test_a_question_counts_as_content_for_a_lift() -> None:
    """An information-seeking question is evidence that a text is no complaint, so "?" may carry a lift."""
    sc = _es({"w:?": -6.0}, bias=0.0)
    assert not sc.score("¿Es fatal viajar con niños?", lang="es").negative
