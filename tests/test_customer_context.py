"""Customer context: where a text reads as a customer's mention of a company or product, the bolder variant of
the learned layer decides (English: scope "all" instead of the cautious "silent"); general talk keeps the
cautious one. The gate is learned from the two kinds of training rows and chosen out of fold."""

from __future__ import annotations

import pytest

from monitor.analyse.sentiment import choice, learned, train
from monitor.analyse.sentiment.scorer import Scorer

DENSE0 = (0.0,) * len(learned.DENSE)


def _model(threshold: float = 0.8) -> learned.LangModel:
    """A silent layer that never fires, an "all" reading of "pending" as a complaint, and a gate that knows
    "order" and "@"-addressed texts as customer talk."""
    gate = learned.Gate(-3.0, {"w:order": 5.0, "w:<handle>": 2.0}, threshold=threshold, variant="all")
    return learned.LangModel(-1.0, DENSE0, {"w:pending": 4.0}, scope="silent", min_p=0.99, gate=gate)


def test_the_gate_sends_customer_talk_to_the_bold_variant_and_says_so() -> None:
    s = Scorer(model=learned.Model({"en": _model()}))
    customer = s.score("@shop my order is pending", lang="en")
    assert customer.negative
    assert any(d.kind == "context" and d.text.startswith("customer context (P 0.9") for d in customer.drivers)
    assert any(d.kind == "learned" and d.text == "pending" for d in customer.drivers)
    general = s.score("the pending list at work", lang="en")     # the same word, no customer context
    assert not general.negative and not any(d.kind == "context" for d in general.drivers)


def test_below_its_threshold_the_gate_leaves_the_cautious_variant() -> None:
    m = _model(threshold=0.99)
    assert m.for_text(["my", "order", "is", "pending"]) == (m, None)
    bold, p = _model().for_text(["my", "order", "is", "pending"])
    assert bold.scope == "all" and bold.gate is None and p == pytest.approx(learned.probability(2.0))


def test_the_bold_variant_never_lifts_a_complaint_the_rules_found_through_grammar() -> None:
    """Regression: with scope "all", the French layer read "Je n'aime pas ce produit" as not a complaint
    (its words lean positive in film reviews); grammar verdicts stand in every scope."""
    lenient = learned.LangModel(5.0, DENSE0, {}, scope="all")     # P(negative) ~ 0: would lift anything
    s = Scorer(model=learned.Model({"fr": replace_bias(lenient, -8.0), "en": replace_bias(lenient, -8.0)}))
    assert s.score("Je n'aime pas ce produit", lang="fr").negative
    assert s.score("I am not happy with this", lang="en").negative
    assert s.score("still waiting for my refund", lang="en").negative
    assert not s.score("terrible", lang="en").negative       # a lexicon-only verdict is the layer's to give


@pytest.mark.parametrize(("bias", "negative"), [(0.2, False), (0.8, False), (1.4, True)])
def test_the_bold_variant_makes_a_complaint_of_a_grammar_denied_one_only_when_sure(bias: float, negative: bool) -> None:
    """Regression: round 7's English layer, through the customer-context gate (P 0.96), read "It is not broken,
    it just needed a restart" as a complaint at P(negative) 0.6 ("not", "broken", "it just" lean that way in
    customer mentions); the rules' negation said it is none. Now it takes P >= GRAMMAR_OVERRULE_P (0.8)."""
    # P(negative) = sigmoid(bias), rules aside; "pending" is a content word the layer leans on (LAYER_EVIDENCE_MIN)
    strict = learned.LangModel(bias, DENSE0, {"w:pending": 0.2, "w:broken": 0.2}, scope="all")
    s = Scorer(model=learned.Model({"en": strict}))
    got = s.score("It is not broken, it just needed a restart", lang="en")
    assert got.negative is negative
    assert any(d.kind == "negation" and d.weight > 0 for d in got.drivers)
    assert s.score("pending", lang="en").negative                   # no grammar: the layer's verdict at any P


def replace_bias(m: learned.LangModel, bias: float) -> learned.LangModel:
    return learned.LangModel(bias, m.dense, m.weights, m.scope)


def test_a_gate_round_trips_through_the_model_file_and_a_bad_variant_is_refused() -> None:
    model = learned.Model({"en": _model(0.95)})
    again = learned.from_json(model.to_json(), "x.json").languages["en"]
    assert again.gate == _model(0.95).gate
    bad = model.to_json().replace('"variant":"all"', '"variant":"bold"')
    with pytest.raises(ValueError, match=r"x\.json: not a sentiment model file: variant 'bold'"):
        learned.from_json(bad, "x.json")


def _fold(gated: dict[str, tuple[float, float]]) -> choice.Fold:
    base = choice.SHIPPED_SCOPES[0]
    return choice.Fold({base: 0.79, "rules": 0.66}, {base: 0.820, "rules": 0.819}, 0.3, 0.6, 10,
                      {f"{base}|{t}|{v}": {"mentions": f[0], "dev": f[1]}
                       for (t, v), f in zip(choice.GATE_OPTIONS, gated.values(), strict=False)})


@pytest.mark.parametrize(("mentions", "dev", "ships"), [
    (0.83, 0.819, True),                            # better by more than the margin, the dev set kept
    (0.795, 0.820, False),                          # within the 2-fold noise
    (0.90, 0.819 - choice.GATE_DEV_TOLERANCE - 0.001, False),   # costs the dev set more than allowed
])
def test_the_gate_ships_only_when_it_beats_the_cautious_variant_and_keeps_the_dev_set(
        mentions: float, dev: float, ships: bool) -> None:
    fold = _fold({"x": (mentions, dev)})
    assert (fold.gate(choice.SHIPPED_SCOPES[0]) is not None) is ships


def test_gated_figures_are_reported_for_each_corpus_of_the_dev_set() -> None:
    """Round 12: pooled, the dev set hid that the gate costs the general tweets and gains the Amazon snippets;
    training now prints (and the model file keeps) each corpus's figure beside the pooled one."""
    base, (threshold, bold) = choice.SHIPPED_SCOPES[0], choice.GATE_OPTIONS[0]
    rows = {key: [False, False] for key in choice.SHIPPED_SCOPES} | {"gold": [True, False], bold: [True, True]}
    verdicts = {"mentions": rows, "dev": {k: v * 2 for k, v in rows.items()},
                "dev/tweets": {k: v for k, v in rows.items()}, "dev/amazon": {k: v for k, v in rows.items()}}
    gate_p = {"mentions": [0.99, 0.1], "dev": [0.99, 0.99, 0.1, 0.1], "dev/tweets": [0.99, 0.99],
              "dev/amazon": [0.1, 0.1]}
    out = choice.gated(verdicts, gate_p)[f"{base}|{threshold}|{bold}"]
    assert out["dev/amazon"] == 0.0                   # the gate never fired: the cautious variant found nothing
    assert out["dev/tweets"] == pytest.approx(choice.prf([True, False], [True, True])[2])    # one found, one false
    assert set(out) == {"mentions", "dev", "dev/tweets", "dev/amazon"}


def test_gated_figures_take_the_bold_verdict_only_where_the_gate_is_sure() -> None:
    base, (threshold, bold) = choice.SHIPPED_SCOPES[0], choice.GATE_OPTIONS[0]
    mentions = {key: [False, False, False, False] for key in choice.SHIPPED_SCOPES} | {
        "gold": [True, True, False, False], bold: [True, True, True, False]}
    out = choice.gated({"mentions": mentions, "dev": {}}, {"mentions": [0.99, 0.2, 0.99, 0.99], "dev": []})
    # the gate takes the bold verdict on rows 1, 3, 4: one complaint found, one false alarm
    assert out[f"{base}|{threshold}|{bold}"]["mentions"] == pytest.approx(choice.prf([True, True, False, False],
                                                                           [True, False, True, False])[2])


def test_regression_english_mentions_outweighed_the_dev_rows_as_lines_were_added() -> None:
    """A floor of 3 a row made the English mentions weigh 2.8 times the general rows with round 6's lines,
    and no English layer kept the dev set out of fold; they weigh as much as the general rows together."""
    rows = train.shipped_examples()
    general = sum(e.weight for e in rows if e.lang == "en" and e.general)
    mentions = sum(e.weight for e in rows if e.lang == "en" and not e.general)
    assert mentions == pytest.approx(general)


def test_the_shipped_english_model_has_a_gate_and_general_tweets_stay_cautious() -> None:
    en = learned.load().languages["en"]
    assert en.gate is not None and en.gate.threshold >= 0.9 and en.scope == "silent"
    toks = learned.tokens
    assert en.gate.probability(toks("@acme my order has been stuck in processing for nine days")) >= en.gate.threshold
    assert en.gate.probability(toks("watching the game with my brother tonight, so tired")) < en.gate.threshold


def test_regression_the_context_driver_was_cut_with_the_weakest_drivers() -> None:
    """Weight 0 sorted it last, so a text with five or more drivers lost the one that says why the bolder
    variant decided; it is now always shown, after the cut."""
    weights = {f"w:{w}": 2.0 for w in ("pending", "again", "week", "third", "order", "still")}
    gate = learned.Gate(-3.0, {"w:order": 5.0}, threshold=0.8, variant="all")
    s = Scorer(model=learned.Model({"en": learned.LangModel(-1.0, DENSE0, weights, scope="silent", gate=gate)}))
    got = s.score("my order still pending again, third week", lang="en")
    assert got.drivers[-1].kind == "context" and len(got.drivers) == 6


def test_the_gate_reads_word_pairs() -> None:
    """A pair can say customer where neither word does: "my order" (round 8: the gate reads word pairs)."""
    gate = learned.Gate(-3.0, {"b:my order": 5.0})
    assert gate.probability(["my", "order", "is", "late"]) == pytest.approx(learned.probability(2.0))
    assert gate.probability(["order", "my", "pizza"]) == pytest.approx(learned.probability(-3.0))


def test_regression_a_customer_text_of_strong_complaint_words_stays_a_complaint() -> None:
    """Round 8 measured a bold variant with customer-side weights of its own; with the rule figures copied per
    kind of row it read this replica-test story, title and text, as no complaint (P 0.49): the shipped model
    must keep it one."""
    s = Scorer(brand_terms=["Acme"])
    words = "motor voucher firmware kettle checkout toaster blender timer boiler"
    got = s.score(f"Acme story-00051 {words}\nAcme {words} is terrible, awful and broken. story-00051")
    assert got.negative and got.language == "en"


def test_regression_a_gate_whose_prior_passes_its_threshold_sends_unknown_text_to_the_cautious_variant() -> None:
    """Round 19's French gate said P 0.71 for a text of unknown words, its threshold 0.7: every news headline and
    book review it knew nothing of went to the bold variant, which read complaints into them ("La quatrième main").
    Customer context is a claim the words must make (Gate.context)."""
    from dataclasses import replace

    from monitor.analyse.sentiment import learned
    from monitor.analyse.sentiment.scorer import Scorer

    model = Scorer().model
    assert model is not None
    french = model.languages["fr"]
    gate = learned.Gate(bias=0.9, weights={"w:commande": 1.5}, threshold=0.7, variant="all")
    lm = replace(french, gate=gate)
    assert gate.probability(["zzzq", "qqxx"]) > 0.7                 # the prior alone passes the threshold ...
    assert lm.for_text(["zzzq", "qqxx"]) == (lm, None)               # ... and decides nothing
    chosen, p = lm.for_text(["ma", "commande"])                       # words that lean customer still do
    assert chosen.scope == "all" and p is not None and p > 0.9
