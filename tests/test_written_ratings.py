"""A rating written in the text ("9/10", "2 stars", "cinq étoiles") counts as the author's verdict when the
source has no star field: it outweighs the words against it, never grammar, frames or the learned layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.analyse.sentiment.ratings import written_rating
from monitor.analyse.sentiment.scorer import Scorer

CASES = yaml.safe_load((Path(__file__).parent / "data" / "written_rating_cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:40])
def test_written_ratings_are_read_and_look_alikes_are_not(case: dict) -> None:
    found = written_rating(case["text"])
    assert (found.stars if found else None) == case["stars"]


def test_a_high_written_rating_outweighs_frightened_words(scorer: Scorer) -> None:
    s = scorer.score("Terrifying. Didn't sleep properly for two nights. 9/10.", lang="en")
    assert not s.negative
    assert ("9/10", "rating") in [(d.text, d.kind) for d in s.drivers]


def test_a_low_written_rating_outweighs_praise(scorer: Scorer) -> None:
    assert scorer.score("Looks great on the shelf, 3/10", lang="en").negative
    assert scorer.score("Schöne Verpackung. Zwei Sterne.", lang="de").negative


def test_a_sarcastic_ten_out_of_ten_after_a_complaint_stays_a_complaint(scorer: Scorer) -> None:
    """Regression (found in the training mentions): "10/10 would be stranded again" lifted a delay complaint
    when the written rating counted like a star field; a high one may outweigh lexicon words, not what a frame or
    the learned layer found."""
    s = scorer.score("@FlyFrontier 3 gate changes, 4 hour delay, landed at 2am. 10/10 would be stranded again",
                     lang="en")
    assert s.negative
    assert scorer.score("10/10 would sit on the tarmac for 3 hours again @united", lang="en").negative


def test_the_sources_star_field_wins_over_a_written_rating(scorer: Scorer) -> None:
    s = scorer.score("10/10 they say. Broke on day two.", lang="en", rating=1)
    assert s.negative
    assert [d.text for d in s.drivers if d.kind == "rating"] == ["1 star"]


def test_without_a_rating_nothing_changes(scorer: Scorer) -> None:
    s = scorer.score("open 24/7 and the staff are lovely", lang="en")
    assert not s.negative and not [d for d in s.drivers if d.kind == "rating"]


@pytest.mark.parametrize(("stars", "against", "stands"), [
    (9.0 / 2, [("Terrifying", -2.7, "lexicon"), ("two", -0.42, "learned")], True),    # round 12's regression
    (9.0 / 2, [("stranded", -0.5, "lexicon"), ("stran…", -0.72, "learned")], False),  # the layer found it: sarcasm
    (5.0, [("4 hour delay", -1.8, "frame:late"), ("stranded", -2.2, "lexicon")], False),   # a frame: never
    (1.5, [("great", 1.9, "lexicon"), ("looks great", 0.9, "learned")], True),        # a low one outweighs praise
    (1.5, [("not bad", 1.2, "negation")], False),                                     # but never grammar
])
def test_a_weak_learned_ngram_does_not_veto_a_high_written_rating(stars: float, against: list, stands: bool) -> None:
    """A high rating gives way to the layer only when its n-grams carry at least RATING_LEARNED_SHARE of the push
    against it (regression, round 12: "two" at -0.42 beside "Terrifying" at -2.7 made a 9/10 review a complaint)."""
    from monitor.analyse.sentiment.scorer import Driver, _rating_stands

    assert _rating_stands(stars, [Driver(t, w, k) for t, w, k in against]) is stands


@pytest.mark.parametrize("text", ["Only 1/100 of the users could log in today", "9/10 times the checkout fails",
                                  "A 1/100 chance of a reply", "1/10 de la commande manquait"])
def test_regression_fractions_such_as_1_100_read_as_written_ratings(text: str) -> None:
    """Round 18: "1/100 of users" was read as a rating of one star out of a hundred (and lifted or sank the verdict
    with the rating's weight). A fraction or a ratio ("of", "times", "chance" after it; a hundredth below 10/100) is
    no rating; the real ones still are."""
    assert written_rating(text) is None
    assert written_rating("the sequel? 40/100") is not None and written_rating("9/10 would fly again") is not None
    assert not [d for d in Scorer(model=None).score(text, lang="en").drivers if d.kind == "rating"]
