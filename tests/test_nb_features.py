"""The learned layer's n-grams enter training as Naive-Bayes log-count ratios (NBSVM, Wang & Manning 2012).

What must hold: the ratio leans the right way and is smoothed; the shipped weight is the fitted coefficient
*times* the ratio, so the scorer, which reads each n-gram as present (1), gets the same log-odds the
regression computed; a praise word can never ship with a complaint's sign.
"""

from __future__ import annotations

import math

import pytest

from monitor.analyse.sentiment import learned, train

ROWS = [("the refund never came", True), ("still waiting for my refund", True), ("app crashed again", True),
        ("the parcel never came", True), ("love the new menu", False), ("great service today", False),
        ("thanks for the quick help", False), ("thanks, the parcel came today", False)]


def test_a_feature_leans_towards_the_class_it_occurs_in() -> None:
    rows = [["w:refund", "w:the"], ["w:refund"], ["w:thanks", "w:the"], ["w:thanks"]]
    ratio = train.nb_ratios(rows, [True, True, False, False], alpha=1.0)
    assert ratio["w:refund"] > 0 > ratio["w:thanks"]
    assert ratio["w:the"] == pytest.approx(0.0)
    # add-one smoothing: seen twice on one side, never on the other, among 3 features and 3 counts a side
    assert ratio["w:refund"] == pytest.approx(math.log(3 / 6) - math.log(1 / 6))


def test_a_text_counts_a_feature_once() -> None:
    once = train.nb_ratios([["w:no"], ["w:ok"]], [True, False])
    twice = train.nb_ratios([["w:no", "w:no"], ["w:ok"]], [True, False])
    assert once == twice


def test_shipped_weights_carry_the_ratio_so_words_keep_their_sign() -> None:
    model = train.fit([train.Example(t, "de", neg) for t, neg in ROWS * 6], vectors=False)
    weights = model.languages["de"].weights
    assert weights["w:refund"] > 0 and weights["w:never"] > 0
    assert weights["w:thanks"] < 0 and weights["w:great"] < 0


def test_the_fitted_layer_separates_its_training_texts() -> None:
    model = train.fit([train.Example(t, "de", neg) for t, neg in ROWS * 6], vectors=False)
    m = model.languages["de"]
    for text, negative in ROWS:
        toks = learned.tokens(text)
        z, _ = m.logit(learned.sparse_features(toks), [0.0] * len(learned.DENSE), toks)
        assert (learned.probability(z) > 0.5) == negative, text
