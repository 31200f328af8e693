"""Sentiment scorer: the hand-written case table, API shape, overrides, drivers, threads, dev-set gate."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from monitor.analyse.sentiment import Driver, Scorer, Sentiment
from monitor.analyse.sentiment.engine import analyse
from monitor.analyse.sentiment.evaluate import DEFAULT_FILE, load_rows, prf
from monitor.analyse.sentiment.lexicon_en import pack as english_pack
from monitor.analyse.sentiment.phrases import PhraseMatcher, first_words, rule

CASES = yaml.safe_load((Path(__file__).parent / "data" / "sentiment_cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()


def test_case_table_is_substantial() -> None:
    assert len(CASES) >= 60
    assert {c["expect"] for c in CASES} == {"negative", "not_negative", "unscored"}


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_case(scorer: Scorer, case: dict) -> None:
    result = scorer.score(case["text"], lang=case.get("lang"), rating=case.get("rating"))
    got = "unscored" if result.unscored else ("negative" if result.negative else "not_negative")
    assert got == case["expect"], (result.score, result.drivers)
    if "language" in case:
        assert result.language == case["language"]


def test_unscored_shape(scorer: Scorer) -> None:
    result = scorer.score("Kundtjänsten var otrevlig och paketet kom fram trasigt")   # Swedish: no pack
    assert result == Sentiment(score=None, negative=False, unscored=True, language="sv", drivers=(), issue="delivery")


def test_explicit_lang_skips_detection(scorer: Scorer) -> None:
    assert scorer.score("le service est nul", lang="fr").language == "fr"
    assert scorer.score("anything at all", lang="pl").unscored


def test_to_dict_is_json_ready(scorer: Scorer) -> None:
    data = scorer.score("The app stopped working and support was rude").to_dict()
    assert list(data) == ["language", "score", "negative", "unscored", "drivers"]
    assert data["negative"] is True and -1.0 <= data["score"] <= 1.0
    assert data["drivers"][0].keys() == {"text", "weight", "kind"}
    json.dumps(data)


def test_drivers_name_rules_and_words(scorer: Scorer) -> None:
    drivers = scorer.score("My blender stopped working and the staff were rude", lang="en").drivers
    by_text = {d.text: d for d in drivers if d.kind != "learned"}   # the layer may name "rude" too
    assert by_text["stopped working"].kind == "rule" and by_text["stopped working"].weight < 0
    assert by_text["rude"].kind == "lexicon" and by_text["rude"].weight < 0
    weights = [abs(d.weight) for d in drivers]
    assert weights == sorted(weights, reverse=True)


def test_rating_driver(scorer: Scorer) -> None:
    result = scorer.score("It arrived on Tuesday", rating=1)
    assert Driver("1 star", -3.2, "rating") in result.drivers
    assert result.negative


def test_negation_driver(scorer: Scorer) -> None:
    result = scorer.score("It is not broken at all", lang="en")
    assert not result.negative


def test_brand_override_flips_verdict() -> None:
    text = "The new Jaguar is a beast on the road"
    plain = Scorer().score(text, lang="en")
    tuned = Scorer(overrides={"Jaguar": {"beast": 2.5}})
    assert tuned.score(text, lang="en", brand="other").negative == plain.negative
    result = tuned.score(text, lang="en", brand="jaguar")
    assert not result.negative
    assert any(d.kind == "override" and d.text.lower() == "beast" for d in result.drivers)
    negative = Scorer(overrides={"acme": {"sick": -3.0}}).score("This acme drone is sick", lang="en", brand="acme")
    assert negative.negative


def test_threshold_and_languages() -> None:
    text = "I guess the delivery was a little slow"
    strict = Scorer(threshold=-0.99).score(text, lang="en")
    assert not strict.negative
    english_only = Scorer(languages=["en"])
    assert english_only.supported_languages == frozenset({"en"})
    assert english_only.score("le service est nul", lang="fr").unscored
    assert Scorer().supported_languages == frozenset({"en", "fr", "de", "es", "it", "pt", "nl"})
    with pytest.raises(ValueError):
        Scorer(languages=["pl"])


def test_empty_text(scorer: Scorer) -> None:
    result = scorer.score("")
    assert result.score == 0.0 and not result.negative and not result.unscored


def test_concurrent_scoring_matches_serial() -> None:
    shared = Scorer(overrides={"acme": {"sick": -3.0}})
    texts = [c["text"] for c in CASES] * 5
    serial = [shared.score(t, brand="acme") for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda t: shared.score(t, brand="acme"), texts))
    assert parallel == serial


@pytest.fixture(scope="module")
def dev_figures() -> dict[str, dict[str, tuple[float, float, float]]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    rows = load_rows(DEFAULT_FILE)
    vader, scorer = SentimentIntensityAnalyzer(), Scorer()
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for corpus in ("tweets", "amazon"):
        sub = [r for r in rows if r.corpus == corpus]
        gold = [r.negative for r in sub]
        out[corpus] = {
            "vader": prf(gold, [vader.polarity_scores(r.text)["compound"] <= -0.05 for r in sub]),
            "scorer": prf(gold, [scorer.score(r.text).negative for r in sub]),
        }
    return out


def test_dev_set_amazon_gate(dev_figures: dict) -> None:
    p, _, f1 = dev_figures["amazon"]["scorer"]
    assert f1 >= 0.72, dev_figures["amazon"]
    assert p >= dev_figures["amazon"]["vader"][0] - 0.03, dev_figures["amazon"]


def test_dev_set_tweets_precision_gate(dev_figures: dict) -> None:
    p, _, f1 = dev_figures["tweets"]["scorer"]
    assert p >= dev_figures["tweets"]["vader"][0] - 0.03, dev_figures["tweets"]
    assert f1 >= dev_figures["tweets"]["vader"][2] - 0.005, dev_figures["tweets"]


def test_dev_set_tweets_f1_target(dev_figures: dict) -> None:
    """0.89 until round 4. The complaint frames and the learned layer cost about 0.005 on these
    general-purpose tweets (on the check half 12 learned flips are wrong, 3 right: lines that sound like a
    fact complaint but are not about a brand) and gained 15-17 points on complaints to brands (check set 6
    tweets 76.7% -> 93.3%), so the gate is plain VADER's own F1 on this corpus: never below it."""
    assert dev_figures["tweets"]["scorer"][2] >= 0.885


# --- phrase rules: first-word index, overlap order, regressions ------------------------------------------


@pytest.mark.parametrize(
    ("regex", "words"),
    [
        (r"(?:stopped|stops) working", {"stopped", "stops"}),
        (r"(?:customer |tech )?(?:service|support) was", {"customer", "tech", "service", "support"}),
        (r"keeps? \w+ing", {"keep", "keeps"}),
        (r"double[- ]charged", {"double", "double-charged"}),
        (r"(?:\d+|two) weeks", None),
        (r"\w+ broke", None),
    ],
)
def test_first_words(regex: str, words: set[str] | None) -> None:
    assert first_words(regex) == (None if words is None else frozenset(words))


def test_matcher_leftmost_then_rule_order() -> None:
    m = PhraseMatcher([rule(r"waste (?:of )?money", -2.0, "waste"), rule(r"don't (?:buy|waste)", -2.6, "dont")])
    found = m.find("don't waste money please".split())
    assert [(r.label, first, last) for r, first, last, _ in found] == [("dont", 0, 1)]
    found = m.find("what a waste of money".split())
    assert [(r.label, first, last, text) for r, first, last, text in found] == [("waste", 2, 4, "waste of money")]


def test_matcher_wild_rules_scan_the_text() -> None:
    m = PhraseMatcher([rule(r"\d+ weeks late", -1.6, "late")])
    assert [r.label for r, *_ in m.find("it came 3 weeks late".split())] == ["late"]
    assert m.find("nothing to see".split()) == []


def test_regression_dont_waste_your_money_was_negated() -> None:
    """Round 1 matched "waste your money" first and negated it with "don't" into praise."""
    score, contributions = analyse(english_pack(), "Don't waste your money")
    assert score < -0.3
    assert [c.kind for c in contributions] == ["rule"]


def test_negation_skips_emoticons_and_stops_at_clause_end() -> None:
    _, contributions = analyse(english_pack(), "I'm not! :)")
    assert [(c.text, c.kind) for c in contributions] == [(":)", "lexicon")]


def test_irrealis_blocks_praise_in_counterfactuals() -> None:
    _, contributions = analyse(english_pack(), "It would have been nice to have a backlight")
    assert all(c.valence <= 0 for c in contributions)
    assert analyse(english_pack(), "Nice backlight")[0] > 0


# --- social posts: stretched words, laughter, emoticons, short English texts ------------------------------


def test_stretched_words_score_as_their_base_word() -> None:
    """Round 3: "baaaad"/"loooove" were unknown words, so stretched (emphatic) sentiment scored 0."""
    _, contributions = analyse(english_pack(), "baaaad")
    assert [(c.text, c.valence) for c in contributions] == [("bad", english_pack().lexicon["bad"])]
    assert analyse(english_pack(), "coooool")[1][0].text == "cool"  # two letters first, then one
    assert analyse(english_pack(), "loooove it")[0] > 0.5
    caps, lower = analyse(english_pack(), "so BAAAAD")[0], analyse(english_pack(), "so bad")[0]
    assert caps == analyse(english_pack(), "so BAD")[0] < lower  # ALL-CAPS emphasis survives
    assert analyse(english_pack(), "zzzzap")[1] == []  # no base word: still unknown, not guessed


def test_regression_laughter_was_negated() -> None:
    """Round 3: "not … lol" flipped the laugh into a negative word ("I'm not coming tonight lol")."""
    _, contributions = analyse(english_pack(), "I'm not coming tonight lol")
    assert [(c.text, c.kind) for c in contributions] == [("lol", "lexicon")]


def test_regression_sad_face_d_colon_read_as_positive() -> None:
    """Round 3: "D:" (the sad face) was looked up lower-cased and hit a positive entry."""
    assert analyse(english_pack(), "D:")[0] < -0.5


def test_short_english_text_overrides_a_guessed_language(scorer: Scorer) -> None:
    """Round 3: "Nervous as hell" was detected as French and scored 0 with the French lexicon."""
    assert scorer.score("Nervous as hell", lang="fr").language == "en"
    assert scorer.score("Nervous as hell", lang="fr").negative
    # not when a word is not English, and not for longer texts
    assert scorer.score("le service est nul", lang="fr").language == "fr"
    assert scorer.score("so bad so bad so bad so bad", lang="pl").unscored


def test_regression_negator_with_a_lexicon_entry_stopped_negating() -> None:
    """Round 18: the negation scan skipped any token with a lexicon value before asking whether it was a negator, so
    a negator some lexicon scores (LeIA's "nao", Pattern's "nessuna") negated nothing; european.pack dropped the
    negators from the lexicon to work around it. A negator stays one whatever the lexicon says of it."""
    from monitor.analyse.sentiment.engine import LangPack

    pack = LangPack(code="xx", lexicon={"nope": -0.4, "helpful": 1.8, "staff": 0.0}, negations=frozenset({"nope"}),
                    boosters={}, contrast=frozenset())
    _, contributions = analyse(pack, "nope helpful staff")
    assert ("not helpful", "negation") in [(c.text, c.kind) for c in contributions]
    _, plain = analyse(pack, "very helpful staff")
    assert [(c.text, c.kind) for c in plain] == [("helpful", "lexicon")]


def test_regression_lexicon_negator_negates_in_portuguese() -> None:
    """LeIA lists the accent-free "nao" in its lexicon (-1.2): it negates the praise after it and counts for nothing
    itself, as "não" does; Pattern's "nessuna" (-0.8) likewise in Italian ("nessuno parla di …" is no complaint)."""
    from monitor.analyse.sentiment import european

    _, contributions = analyse(european.pack("pt"), "nao é bom o atendimento")
    assert any(c.kind == "negation" and c.valence < 0 for c in contributions)
    assert [(c.text, c.kind) for c in contributions] == \
        [(c.text.replace("não", "nao"), c.kind) for c in analyse(european.pack("pt"), "não é bom o atendimento")[1]]
    for code, text in (("it", "nessuna notizia oggi"), ("pt", "nao sei")):
        assert analyse(european.pack(code), text)[1] == [], (code, text)


def test_regression_stretched_word_fix_read_kkk_as_kk() -> None:
    """Round 18: "KKK" was read as the stretched form of VADER's "kk" (+1.5, with the capitals' emphasis): a word
    that is one letter repeated is an acronym or a noise, not a stretched word, in every language."""
    from monitor.analyse.sentiment.scorer import Scorer

    assert analyse(english_pack(), "The KKK marched again")[1] == []
    assert analyse(english_pack(), "qqq")[1] == []
    assert analyse(english_pack(), "sooo baaad")[0] < -0.4          # real stretches still read
    assert analyse(english_pack(), "nooo")[1][0].text == "no"
    rules = Scorer(model=None)
    for lang in ("en", "de", "es", "fr", "it", "pt", "nl"):
        assert not any(d.weight > 0 for d in rules.score("KKK", lang=lang).drivers), lang
