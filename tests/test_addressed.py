"""A mention addressed to a brand: where its words are mixed, complaint words weigh ADDRESSED_WEIGHT times.

The reading is chosen on real tweets to airlines (README, "Addressed to a brand"): customers wrap complaints in
courtesy, hope and sarcasm, so mixed words in a mention of the brand are mostly a complaint. General talk (no
brand given, no configured brand named) is read as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.analyse.sentiment import addressed as addressed_module
from monitor.analyse.sentiment.addressed import ADDRESSED_WEIGHT
from monitor.analyse.sentiment.scorer import Scorer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(brand_terms=["Acme", "Best Buy", "hp"])


#: Mixed words that are a customer's complaint: praise the rules read at face value beside the complaint.
MIXED_COMPLAINTS = [
    "@acme I love you guys, but even your rivals have a better phone help system. A simple callback would fix most"
    " of the problem.",
    "@acme great decision making, my bag made the connection and I didn't. Disappointed.",
    "@acme the lack of customer service is astounding",
]


@pytest.mark.parametrize("text", MIXED_COMPLAINTS)
def test_mixed_words_addressed_to_the_brand_are_a_complaint(scorer: Scorer, text: str) -> None:
    general = scorer.score(text, lang="en", addressed=False)
    addressed = scorer.score(text, lang="en", addressed=True)
    assert not general.negative and addressed.negative
    assert addressed.drivers[-1].kind == "context"
    assert addressed.drivers[-1].text == f"addressed to the brand: complaint words x{ADDRESSED_WEIGHT['en']:g}"


@pytest.mark.parametrize("text", [
    "@acme thanks, lovely crew and a smooth flight",
    "@acme awesome team, fixed my problem in minutes",       # praise of a fix: its grammar claims "problem"
    "@acme is the cleaning fee refundable if I cancel? trying to plan",
])
def test_praise_and_questions_addressed_to_the_brand_stay_what_they_are(scorer: Scorer, text: str) -> None:
    assert not scorer.score(text, lang="en", addressed=True).negative


def test_a_complaint_without_praise_is_not_reweighed(scorer: Scorer) -> None:
    text = "@acme my parcel never arrived and nobody answers"
    general, addressed = scorer.score(text, lang="en", addressed=False), scorer.score(text, lang="en", addressed=True)
    assert addressed.score == general.score and addressed.negative
    assert not any(d.text.startswith("addressed") for d in addressed.drivers)


def test_a_brand_given_or_named_makes_a_mention_addressed(scorer: Scorer) -> None:
    text = "the lack of customer service is astounding"
    assert not scorer.score(text, lang="en").negative                      # names no brand: general talk
    assert scorer.score(text, lang="en", brand="acme").negative             # what `monitor run` passes
    assert scorer.score(f"@AcmeSupport {text}", lang="en").negative         # a configured brand in a handle
    assert not Scorer().score(f"@AcmeSupport {text}", lang="en").negative   # no brand configured: general talk


@pytest.mark.parametrize(("text", "named"), [
    ("@acme hi", True), ("@AcmeSupport hi", True), ("#acmefail", True), ("flying acme today", True),
    ("ACME again", True), ("acmeville news", False), ("@BestBuy hi", True), ("Best  Buy queue", True),
    ("#bestbuyfail", True), ("best buys of the year", False), ("@hp help", True), ("@hpsupport", False),
    ("shp files", False), ("@united hi", False),
])
def test_names_brand_reads_words_handles_and_hashtags(scorer: Scorer, text: str, named: bool) -> None:
    assert scorer.names_brand(text) is named


def test_languages_without_real_measurements_are_not_reweighed(scorer: Scorer) -> None:
    text = "@acme der Service ist nett, aber mein Paket ist nie angekommen und niemand antwortet, echt schlecht"
    assert "de" not in ADDRESSED_WEIGHT
    assert scorer.score(text, lang="de", addressed=True).score == scorer.score(text, lang="de", addressed=False).score


def test_french_complaint_words_weigh_twice_in_a_mention_of_the_brand(scorer: Scorer) -> None:
    assert ADDRESSED_WEIGHT["fr"] == 2.0
    text = "@acme bravo, encore une panne ce matin, génial"
    assert not scorer.score(text, lang="fr", addressed=False).negative
    assert scorer.score(text, lang="fr", addressed=True).negative


def test_the_weight_comes_from_the_table(scorer: Scorer, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MIXED_COMPLAINTS[0]
    monkeypatch.setattr(addressed_module, "ADDRESSED_WEIGHT", {"en": 1.0})
    assert not scorer.score(text, lang="en", addressed=True).negative


def test_monitor_run_scores_a_brand_mention_as_addressed() -> None:
    """The analyzer of `monitor run` passes the matched brand: the mixed complaint reaches routing."""
    from monitor.analyse.analyzer import Analyzer
    from monitor.analyse.routing import Router
    from monitor.config.rules import load_rules
    from monitor.config.settings import load_config
    from monitor.core.model import Mention

    analyzer = Analyzer(load_config(REPO / "config/monitor.yaml"), Router(load_rules(REPO / "rules.yaml")))
    analysis = analyzer.analyze(Mention("n", "rss", "x", "@github the lack of customer service is astounding"))
    sentiment = analysis.verdicts[0].sentiment
    assert sentiment.negative and sentiment.drivers[-1].text.startswith("addressed to the brand")


def test_monitor_score_reads_a_text_naming_a_brand_of_its_config_as_a_mention(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    config = tmp_path / "monitor.yaml"
    config.write_text("brands:\n  acme:\n    query: 'acme OR @acme'\nsources: []\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "monitor", "score", "--config", str(config)], capture_output=True,
                          text=True, timeout=60, input="@acme the lack of customer service is astounding\n"
                                                       "the lack of customer service is astounding\n")
    assert proc.returncode == 0, proc.stderr
    named, general = (json.loads(line) for line in proc.stdout.splitlines())
    assert named["negative"] and named["drivers"][-1]["text"].startswith("addressed to the brand")
    assert not general["negative"]
