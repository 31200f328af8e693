"""Which learned-layer variant a language ships (choice.Fold.scope): the most cautious one that beats the rules,
a bolder one (more reach, a veto, or scope "all") only when it is better by more than the 2-fold noise, and
never one that costs the general-sentiment dev set."""

from __future__ import annotations

from monitor.analyse.sentiment import choice, learned

CAUTIOUS = choice.SHIPPED_SCOPES[0]


def _fold(mentions: dict[str, float], dev: dict[str, float] | None = None) -> choice.Fold:
    base = {k: 0.70 for k in choice.SHIPPED_SCOPES} | {"rules": 0.65}
    return choice.Fold(base | mentions, dev or {}, 0.3, 0.6, 100)


def test_the_most_cautious_variant_that_beats_the_rules_ships() -> None:
    assert _fold({}).scope() == CAUTIOUS


def test_scope_all_ships_only_when_it_beats_the_silent_variants_by_more_than_the_margin() -> None:
    assert _fold({"all": 0.70 + choice.SCOPE_MARGIN / 2}).scope() == CAUTIOUS
    assert _fold({"all": 0.70 + choice.SCOPE_MARGIN * 2}).scope() == "all"


def test_a_variant_that_costs_the_dev_set_never_ships() -> None:
    dev = {k: 0.82 for k in choice.SHIPPED_SCOPES} | {"rules": 0.82, "all": 0.74}
    assert _fold({"all": 0.90}, dev).scope() == CAUTIOUS
    assert _fold({}, {k: 0.80 for k in choice.SHIPPED_SCOPES} | {"rules": 0.82}).scope() is None


def test_nothing_ships_when_no_variant_beats_the_rules() -> None:
    assert _fold({k: 0.60 for k in choice.SHIPPED_SCOPES}).scope() is None


def test_every_variant_name_builds_its_model() -> None:
    m = learned.LangModel(0.0, (0.0,) * len(learned.DENSE), {})
    for key in choice.SHIPPED_SCOPES:
        v = learned.variant(m, key)
        assert v.scope == ("all" if key == "all" else "silent"), key
    v = learned.variant(m, "silent@0.65~0.35^0.6")
    assert (v.min_p, v.reach, v.veto) == (0.65, 0.35, 0.6)


def test_within_the_noise_on_the_mentions_the_variant_kinder_to_general_sentiment_ships() -> None:
    """Regression (round 10): English shipped min_p 0.6, ahead of 0.65 by 0.005 on the mentions (noise), and
    that cost the dev set's whole tweets corpus 0.001, below plain VADER."""
    start, kind, bold = "silent@0.65~0.35^0.0", "silent@0.7~0.5^0.0", "silent@0.65~0.5^0.0"
    mentions = {start: 0.800, kind: 0.808, bold: 0.815}     # the chain: start, then bold (beats it by > 0.01)
    dev = {k: 0.81 for k in choice.SHIPPED_SCOPES} | {"rules": 0.80, kind: 0.8204, bold: 0.8195}
    assert _fold(mentions, dev).scope() == kind
    # without a dev set (every language but English) the chain's choice stands
    assert _fold(mentions).scope() == bold
    # and a variant kinder to the dev set but worse on the mentions by more than the margin is not taken
    assert _fold(mentions | {kind: 0.800}, dev).scope() == bold


def test_regression_the_surest_min_p_counts_as_the_most_cautious() -> None:
    """Until round 10 the variants were listed from min_p 0.6 up, so of two variants equal on the mentions the
    one calling complaints at P 0.6 counted as the cautious one; a higher min_p calls fewer."""
    assert choice.SHIPPED_SCOPES[0] == f"silent@{max(learned.MIN_P_CHOICES)}~0.0^0.0"
    tied = {f"silent@{p}~0.0^0.0": 0.75 for p in learned.MIN_P_CHOICES}
    assert _fold(tied).scope() == f"silent@{max(learned.MIN_P_CHOICES)}~0.0^0.0"


def test_regression_an_ngram_counts_once_however_often_it_occurs() -> None:
    """Training encodes presence; until round 14 scoring added a weight at each occurrence, and a long real text
    (a review with twenty quotation marks, a forum post with "die" fifty times) was decided by its count of
    function words."""
    from monitor.analyse.sentiment import learned

    model = learned.LangModel(0.0, (0.0,) * len(learned.DENSE), {"w:die": 0.4, "w:kaputt": 1.5}, scope="all")
    dense = [0.0] * len(learned.DENSE)
    once, _ = model.logit(["w:die", "w:kaputt"], dense)
    many, hits = model.logit(["w:die"] * 50 + ["w:kaputt"], dense)
    assert many == once == 1.9
    assert dict(hits) == {"w:die": 0.4, "w:kaputt": 1.5}


def test_regression_the_issue_model_counts_an_ngram_once_too() -> None:
    """Round 17: the issue model still added a weight at each occurrence, so a tweet to an airline saying "my"
    twice ("my account", "my email") was pushed to security twice as hard as training meant."""
    from monitor.analyse.sentiment import learned

    model = learned.IssueModel({"security": 0.0, "support": 0.0},
                               {"security": {"w:my": 1.0}, "support": {"w:email": 1.5}})
    once = model.probabilities(["w:my", "w:email"])
    assert model.probabilities(["w:my", "w:my", "w:my", "w:email"]) == once
    assert once["support"] > once["security"]


def test_the_shipped_variant_stays_while_it_is_within_the_noise_of_a_new_choice() -> None:
    """Regression (round 14): fixing two emoji moved English from min_p 0.6 to 0.65 and reach 0.35 to 0.5, the
    new variant best on the dev set by 0.0005 and equal on the mentions, and every real set lost 0.001-0.003."""
    old, new = "silent@0.6~0.35^0.0", "silent@0.65~0.5^0.0"
    mentions = {old: 0.850, new: 0.852}
    dev = {k: 0.88 for k in choice.SHIPPED_SCOPES} | {"rules": 0.87, old: 0.8900, new: 0.8905}
    assert _fold(mentions, dev).scope() == new
    assert _fold(mentions, dev).scope(incumbent=old) == old
    # past the noise on the dev set, or on the mentions, the new choice wins
    assert _fold(mentions, dev | {new: 0.8900 + 2 * choice.INCUMBENT_DEV_NOISE}).scope(incumbent=old) == new
    assert _fold(mentions | {old: 0.850 - 2 * choice.SCOPE_MARGIN}, dev).scope(incumbent=old) == new
    # an incumbent that no longer beats the rules, or costs the dev set, never stays
    assert _fold(mentions | {old: 0.60}, dev).scope(incumbent=old) == new
    assert _fold(mentions, dev | {old: 0.86}).scope(incumbent=old) == new
    # no incumbent, or one the policy does not know: the choice as before
    assert _fold(mentions, dev).scope(incumbent="silent@0.99~0.0^0.0") == new


def test_a_language_with_a_measured_variant_ships_it_with_the_gate_at_the_measured_threshold() -> None:
    """Round 16: de fr it pt ship the base measured on real tweets (choice.MEASURED_VARIANTS) whatever the out-of-fold
    choice. Round 21: the gate over it decides at MEASURED_GATE_THRESHOLD (0.95), measured on real tweets and reviews,
    however much closer to "all" a lower threshold comes on the writers' mentions out of fold (round 20 shipped
    fr 0.7, de 0.8, it 0.7 that way, and those sent everyday talk to the bold variant); without a gate that earns its
    place the out-of-fold choice stands."""
    base = choice.MEASURED_VARIANTS["fr"]
    assert base in choice.SHIPPED_SCOPES and choice.MEASURED_GATE_THRESHOLD == 0.95
    gated = {f"{base}|{t}|all": {"mentions": f1} for t, f1 in [(0.95, 0.85), (0.9, 0.86), (0.8, 0.876), (0.7, 0.881),
                                                                 (0.6, 0.883), (0.5, 0.886)]}
    fold = choice.Fold(_fold({"all": 0.889, base: 0.814}).mentions, {}, 0.3, 0.6, 100, gated)
    assert fold.scope() == "all"                                   # out of fold alone, "all" would ship
    assert choice.measured_choice("fr", fold) == base
    assert fold.measured_gate(base) == (0.95, "all")               # not 0.7, though 0.881 >= 0.889 - 0.01
    assert choice.measured_choice("es", fold) is None and choice.measured_choice("en", fold) is None
    assert choice.measured_choice("fr", choice.Fold(fold.mentions | {base: 0.60}, {}, 0.3, 0.6, 100, gated)) is None
    useless = {k: {"mentions": 0.80} for k in gated}               # the gate finds nothing the base does not
    assert choice.measured_choice("fr", choice.Fold(fold.mentions, {}, 0.3, 0.6, 100, useless)) is None
    fitted = learned.LangModel(0.0, (0.0,) * len(learned.DENSE), {"w:nul": 1.0},
                               gate=learned.Gate(0.0, {"w:commande": 1.0}, ()))
    shipped = choice.shipped_variant(fitted, fold, base, "fr")
    assert choice.variant_key(shipped) == base
    assert shipped.gate is not None and (shipped.gate.threshold, shipped.gate.variant) == (0.95, "all")


def test_the_shipped_model_carries_the_measured_variants() -> None:
    model = learned.load()
    for lang, base in choice.MEASURED_VARIANTS.items():
        m = model.languages[lang]
        assert choice.variant_key(m) == base, lang
        assert m.gate is not None and m.gate.variant == "all" and m.gate.threshold == choice.MEASURED_GATE_THRESHOLD
