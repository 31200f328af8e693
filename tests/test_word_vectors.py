"""Word vectors in the learned layer: English words no training line used still move the verdict and the
issue type, through static vectors distilled from a sentence encoder (monitor/analyse/sentiment/distil.py),
and the drivers still name words."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from monitor.analyse.sentiment import distil, learned, train
from monitor.analyse.sentiment.scorer import Scorer
from monitor.analyse.sentiment.wordvectors import WordVectors

DENSE0 = (0.0,) * len(learned.DENSE)


def _vectors(table: dict[str, list[float]], tmp_path: Path) -> WordVectors:
    """A tiny vectors file written by the same packer as the shipped one (no PCA loss: dims = words)."""
    words = sorted(table)
    target = tmp_path / "vectors.npz"
    distil.pack(words, np.asarray([table[w] for w in words]), len(words), target)
    return WordVectors.read(target)


def test_a_vectors_file_round_trips_through_the_packer(tmp_path: Path) -> None:
    vecs = _vectors({"refund": [1.0, 0.0, 0.0], "parcel": [0.0, 1.0, 0.0], "lovely": [0.0, 0.0, 1.0]}, tmp_path)
    assert vecs.words == ["lovely", "parcel", "refund"] and vecs.dims == 3
    assert np.isfinite(vecs.rows).all() and (vecs.scale > 0).all()   # three words: the third axis has no spread
    assert vecs.mean(["unknown", "words"]) == [0.0, 0.0, 0.0]
    one = vecs.mean(["refund"])
    assert vecs.mean(["refund", "unknown"]) == pytest.approx(one)           # unknown words do not dilute
    assert vecs.mean(["refund", "parcel"]) == pytest.approx((np.asarray(one) + vecs.mean(["parcel"])) / 2)


def test_a_broken_vectors_file_is_refused() -> None:
    buf = io.BytesIO()
    np.savez(buf, words=np.frombuffer(b"a\nb", dtype=np.uint8), q=np.zeros((3, 2), np.int8),
             scale=np.ones(2, np.float32))
    buf.seek(0)
    with pytest.raises(ValueError, match="2 words, 3 rows"):
        WordVectors.read(buf)


def test_the_embedding_push_of_a_word_lands_on_that_words_driver() -> None:
    vecs = WordVectors(["hotel", "stranded"], [[0, 100], [100, 0]], [0.02, 0.02])
    push = dict(zip(vecs.words, vecs.project([1.0, 0.0]).tolist(), strict=True))
    m = learned.LangModel(0.0, DENSE0, {"w:hotel": 0.5}, embed=(1.0, 0.0), vectors=vecs)
    toks = ["stranded", "at", "the", "hotel"]
    z, hits = m.logit(learned.sparse_features(toks), DENSE0, toks)
    # two known words: the mean's weight is shared between them, each word's share on its own driver
    assert dict(hits) == pytest.approx({"w:stranded": push["stranded"] / 2, "w:hotel": 0.5 + push["hotel"] / 2})
    assert z == pytest.approx(push["stranded"] / 2 + 0.5 + push["hotel"] / 2)
    assert push == pytest.approx({"stranded": 2.0, "hotel": 0.0})


def test_the_issue_model_types_by_word_vectors_when_no_ngram_knows_the_word() -> None:
    vecs = WordVectors(["invoice", "parcel"], [[0, 100], [100, 0]], [0.03, 0.03])
    im = learned.IssueModel({"delivery": 0.0, "billing": 0.0}, {"delivery": {}, "billing": {}},
                            {"delivery": (1.0, 0.0), "billing": (0.0, 1.0)}, vecs)
    assert im.predict([], ["my", "parcel"])[0] == "delivery"
    assert im.predict([], ["the", "invoice"])[0] == "billing"
    assert im.probabilities([], ["no", "known", "word"]) == {"delivery": 0.5, "billing": 0.5}


def test_a_model_file_whose_embedding_does_not_fit_the_shipped_vectors_is_refused(tmp_path: Path) -> None:
    doc = learned.Model({"en": learned.LangModel(0.0, DENSE0, {}, embed=(0.1, 0.2),
                                                 vectors=learned.vectors("en"))}).to_json()
    bad = tmp_path / "model.json"
    bad.write_text(doc, encoding="utf-8")
    with pytest.raises(ValueError, match=r"model\.json: not a sentiment model file: language en: 2 embedding"):
        learned.load(bad)
    no_vectors = doc.replace('"en"', '"xx"')
    with pytest.raises(ValueError, match="no word vectors"):
        learned.from_json(no_vectors, "x.json")


def test_the_shipped_english_layer_reads_words_no_training_line_used() -> None:
    """"overcharged", "unresponsive", "scammed" are in no training line and no n-gram weight; their vectors
    (near "billed", "refund", "broken") push towards a complaint, while praise words do not."""
    en = learned.load().languages["en"]
    assert en.embed and en.vectors is not None
    push = en._word_push
    unseen = ["overcharged", "unresponsive", "scammed"]
    assert all(f"w:{w}" not in en.weights for w in unseen)
    praise = ["superb", "wonderful", "lovely", "grateful"]
    assert min(push[w] for w in unseen) > max(push[w] for w in praise)


def test_the_shipped_english_issue_model_types_unseen_words_by_their_vectors() -> None:
    im = learned.load().issues["en"]
    assert im.embed and im.vectors is not None
    assert im.predict([], ["courier"])[0] == "delivery"
    assert im.predict([], ["invoice"])[0] == "billing"
    # "password" alone was security until round 17's tweets to care handles, where a password reset that never
    # comes is support or an outage; a hack or phishing still is
    assert im.predict([], ["phishing"])[0] == "security"
    assert im.predict([], ["fraudulent"])[0] == "security"


def test_fitting_gives_english_an_embedding_and_the_other_languages_none() -> None:
    rows = [train.Example(t, lang, neg) for lang in ("en", "de") for t, neg in [
        ("the refund never came", True), ("still waiting for my parcel", True), ("app crashed again", True),
        ("love the new menu", False), ("great service today", False), ("thanks for the quick help", False)] * 12]
    model = train.fit(rows)
    assert len(model.languages["en"].embed) == learned.vectors("en").dims    # type: ignore[union-attr]
    assert model.languages["de"].embed == ()
    assert train.fit(rows, vectors=False).languages["en"].embed == ()
    # and the fitted model survives its own file format
    again = learned.from_json(model.to_json(), "fitted")
    assert again.languages["en"].embed == pytest.approx(model.languages["en"].embed, abs=1e-4)


def test_scoring_an_english_mention_uses_the_vectors_in_the_drivers() -> None:
    s = Scorer()
    got = s.score("Acme app totally unresponsive since the update", lang="en")
    assert got.negative and got.issue == "defect"


def test_the_pca_basis_is_fitted_on_the_basis_words_and_the_others_are_projected_onto_it(tmp_path: Path) -> None:
    """Rare word-list words must not turn the axes towards themselves: with a basis, the core words' vectors
    come out the same as when they are packed alone."""
    rng = np.random.default_rng(7)
    core = {f"w{i}": list(rng.normal(size=6)) for i in range(12)}
    rare = {f"r{i}": list(rng.normal(size=6) * 5 + 3) for i in range(30)}
    alone, mixed = tmp_path / "alone.npz", tmp_path / "mixed.npz"
    distil.pack(sorted(core), np.asarray([core[w] for w in sorted(core)]), 3, alone)
    words = sorted(core | rare)
    distil.pack(words, np.asarray([(core | rare)[w] for w in words]), 3, mixed, frozenset(core))
    a, m = WordVectors.read(alone), WordVectors.read(mixed)
    assert m.words == words
    for w in core:
        assert m.mean([w]) == pytest.approx(a.mean([w]), abs=0.15)   # int8 steps differ with the scale only
    assert np.abs(np.asarray(m.mean([f"r{i}" for i in range(30)]))).max() > 0.5


def test_regression_a_phrase_ops_added_to_a_builtin_type_lost_to_the_issue_models_guess() -> None:
    """With word vectors the English issue model read "Terrible paywall everywhere" as an outage and outvoted
    the one cue ops had added to billing; an ops phrase is an instruction and now decides."""
    s = Scorer(issue_types={"billing": ["paywall"]})
    assert s.score("Terrible paywall everywhere", lang="en").issue == "billing"
    assert s.score("Terrible paywall everywhere, site down and card hacked", lang="en").issue == "security"


def test_the_shipped_french_vectors_load_and_hold_the_lexicon_and_unseen_words() -> None:
    """data/vectors_fr.npz (fastText cbow, CC0, reduced by distil.py --lang fr): same format as English, function
    words left out, and words no French training line used ("hameçonnage", "surfacturation") are in it."""
    fr = learned.vectors("fr")
    assert fr is not None and fr.dims == learned.vectors("en").dims == 64        # type: ignore[union-attr]
    assert {"arnaque", "remboursement", "colis", "génial", "hameçonnage", "surfacturation"} <= set(fr.index)
    assert not {"le", "pas", "est", "j'ai", "c'est"} & set(fr.index)
    # an elided form the file lacks reads as the word behind the apostrophe, in both apostrophes
    assert "d'hameçonnage" not in fr.index and fr.key("d'hameçonnage") == fr.key("l’hameçonnage") == "hameçonnage"
    assert fr.mean(["d'hameçonnage"]) == fr.mean(["hameçonnage"]) != [0.0] * fr.dims
    assert fr.key("c'est") is None and learned.vectors("en").key("l'appli") is None   # type: ignore[union-attr]


def _french_training_words() -> set[str]:
    return {t for e in train.mention_examples() if e.lang == "fr" for t in learned.tokens(e.text)}


def test_the_shipped_french_issue_model_types_unseen_complaint_words_by_their_vectors() -> None:
    """No French training line says "surfacturation" or "hameçonnage" and no n-gram weighs them; their vectors
    (near "facturé", "remboursé"; near "phishing", "piratage") carry a learned weight towards their type."""
    im = learned.load().issues["fr"]
    assert im.embed and im.vectors is not None
    unseen = {"surfacturation": "billing", "hameçonnage": "security", "identifiants": "security"}
    seen, features = _french_training_words(), set().union(*im.weights.values())
    assert not set(unseen) & seen and not {f"w:{w}" for w in unseen} & features
    types, push = im._word_push
    for word, issue in unseen.items():
        weights = dict(zip(types, push[im.vectors.index[word]].tolist(), strict=True))
        assert max(weights, key=lambda t: weights[t]) == issue
        assert im.predict([], [word])[0] == issue
    assert im.predict([], ["d'hameçonnage"])[0] == "security"                 # through the elision too


def test_french_vectors_feed_the_issue_model_but_not_the_verdict() -> None:
    """fastText cbow vectors place words by topic, not polarity: out of fold they helped the French issue type
    and not the verdict (train.ISSUE_ONLY_VECTORS)."""
    assert "fr" in train.ISSUE_ONLY_VECTORS
    model = learned.load()
    assert model.languages["fr"].embed == () and model.issues["fr"].embed
    rows = [train.Example(t, "fr", neg, issue=issue) for t, neg, issue in [
        ("le colis n'est jamais arrivé", True, "delivery"), ("toujours pas de livraison", True, "delivery"),
        ("facturé deux fois ce mois", True, "billing"), ("prélevé sans mon accord", True, "billing"),
        ("super service merci", False, None), ("très contente de la commande", False, None)] * 12]
    fitted = train.fit(rows)
    assert fitted.languages["fr"].embed == () and len(fitted.issues["fr"].embed["billing"]) == 64


def test_scoring_a_french_complaint_types_an_unseen_word_by_its_vector() -> None:
    got = Scorer().score("Encore une surfacturation, inadmissible", lang="fr")
    assert got.negative and got.issue == "billing"


def test_the_french_word_list_keeps_lexicon_and_training_words_then_fills_up_with_frequent_words() -> None:
    known = {"arnaque", "colis", "l'appli", "appli", "retard", "maison", "voiture", "soleil", "le", "génial"}
    words, basis = distil.french_vocabulary(
        ["le", "Paris", "maison", "l'", "voiture", "soleil"], ["Arnaque", "génial", "mot inconnu"],
        ["Le colis arrive en retard, c'est nul sur l'appli @acme"], lambda w: w in known or distil.unelided(w) in known,
        max_words=7)
    # "nul" has no vector here, "le", "c'est", "en" are function words, "Paris" is not lower-case
    assert basis == {"arnaque", "génial", "colis", "retard", "l'appli"}
    assert words == sorted(basis | {"maison", "voiture"})          # frequent words, most frequent first, up to 7
