"""Issue 12: brand-neutral scoring, rule fixes, five more languages, issue types, the learned layer."""

from __future__ import annotations

import pytest

from monitor.analyse.issues import IssueClassifier
from monitor.analyse.routing import Router, Subject
from monitor.analyse.sentiment import Scorer, learned
from monitor.analyse.sentiment.engine import analyse
from monitor.analyse.sentiment.evaluate import CASES_FILE, load_cases
from monitor.analyse.sentiment.french import pack as french_pack
from monitor.config.rules import rules_from
from monitor.core.errors import ConfigValidationError
from monitor.core.yamlfile import parse_yaml
from tests.conftest import RULES


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(brand_terms=["united", "best buy", "acme", "virgin", "joy"])


def verdict(s: Scorer, text: str, lang: str | None = None) -> str:
    r = s.score(text, lang=lang)
    return "unscored" if r.unscored else ("negative" if r.negative else "not_negative")


# --- brand-neutral scoring ---------------------------------------------------------------------------------

def test_regression_brand_name_united_scored_positive(scorer: Scorer) -> None:
    """"@united thanks for the miserable trip" came out +0.36: "united" is a positive lexicon word."""
    assert scorer.score("@united thanks for the miserable trip", lang="en").negative
    assert scorer.score("United thanks for the miserable trip", lang="en").negative   # the brand word, no sigil


@pytest.mark.parametrize("text", ["Best Buy lost my order and nobody cares", "Virgin cancelled my flight again",
                                  "Joy app keeps crashing, useless"])
def test_brand_words_carry_no_sentiment(scorer: Scorer, text: str) -> None:
    result = scorer.score(text, lang="en")
    assert result.negative, result
    assert not {d.text.lower() for d in result.drivers} & {"best", "virgin", "joy"}


def test_handles_and_hashtags_are_neutral() -> None:
    plain = Scorer()
    assert plain.score("@love @happy", lang="en").score == 0.0
    assert plain.score("#winning #best", lang="en").score == 0.0
    assert plain.score("love it", lang="en").score > 0    # the word itself still counts


def test_best_buy_phrase_is_neutral_but_best_still_counts(scorer: Scorer) -> None:
    drivers = scorer.score("Best Buy has the best prices", lang="en").drivers
    lexical = [d.text.lower() for d in drivers if d.kind == "lexicon"]
    assert lexical == ["best"]
    assert not any("buy" in d.text.lower() for d in drivers)     # nor does the learned layer read the name


# --- rule fixes (each a regression from the issue) ------------------------------------------------------------

@pytest.mark.parametrize(("text", "lang", "expect"), [
    ("No refund, terrible experience with Acme", "en", "negative"),          # was +0.29
    ("Acme never called back, awful service", "en", "negative"),             # was +0.18
    ("I could not be happier", "en", "not_negative"),                        # was negative
    ("I couldn't be happier with Acme", "en", "not_negative"),
    ("I can't say enough good things about them", "en", "not_negative"),
    ("It couldn't be worse", "en", "negative"),
    ("je ne pourrais pas être plus heureux", "fr", "not_negative"),          # was negative
    ("Je n'aime pas ce produit", "fr", "negative"),                          # was +0.57
    ("j'aime pas ce produit", "fr", "negative"),
    ("franchement c'est pas terrible", "fr", "negative"),
    ("Acme down again 😡", "en", "negative"),                                 # was 0.0
    ("🤬 acme", "en", "negative"),
    ("acme 👎", "en", "negative"),
    ("great job Acme 🙄 third outage this week", "en", "negative"),          # was +0.62
    ("not worth it, waste of money", "en", "negative"),
    ("Thanks for the quick refund, much appreciated!", "en", "not_negative"),
    ("Not bad, good service", "en", "not_negative"),
    # regression (round 9): typographic apostrophes, as phones type them, never met a phrase rule
    ("I won\u2019t be back", "en", "negative"),                                  # was 0.0
    ("It doesn\u2019t charge anymore", "en", "negative"),                        # was 0.0
    ("couldn\u2019t be happier with my order", "en", "not_negative"),            # was negative
    ("Je n\u2019aime pas ce produit", "fr", "negative"),
    # ... and contractions typed without the apostrophe, as most tweets do
    ("the app doesnt work", "en", "negative"),                                  # was 0.0
    ("cant log in again", "en", "negative"),                                    # was 0.0
    ("didnt get my refund", "en", "negative"),                                  # was +0.18
    ("couldnt be happier with my order", "en", "not_negative"),
])
def test_issue_regressions(scorer: Scorer, text: str, lang: str, expect: str) -> None:
    assert verdict(scorer, text, lang) == expect, scorer.score(text, lang=lang)


def test_comma_ends_negation_scope() -> None:
    _, contributions = analyse(french_pack(), "pas de réponse, nul")
    assert all(c.valence < 0 for c in contributions)


def test_sarcasm_driver_names_the_marker(scorer: Scorer) -> None:
    drivers = scorer.score("great job Acme 🙄 third outage this week", lang="en").drivers
    assert any(d.kind == "sarcasm" and d.weight < 0 and "🙄" in d.text for d in drivers)


# --- five more languages ----------------------------------------------------------------------------------

CASES = load_cases(CASES_FILE)
COMPLAINTS = {lang: [c.text for c in CASES if c.lang == lang and c.negative] for lang in ("de", "es", "it", "pt", "nl")}
PRAISE = {lang: [c.text for c in CASES if c.lang == lang and not c.negative] for lang in COMPLAINTS}


@pytest.mark.parametrize("lang", sorted(COMPLAINTS))
def test_complaints_in_five_more_languages(scorer: Scorer, lang: str) -> None:
    results = [scorer.score(t, lang=lang) for t in COMPLAINTS[lang]]
    assert not any(r.unscored for r in results)
    wrong = [t for t, r in zip(COMPLAINTS[lang], results, strict=True) if not r.negative]
    assert len(wrong) <= len(COMPLAINTS[lang]) * 0.15, wrong
    for text in PRAISE[lang]:
        assert verdict(scorer, text, lang) == "not_negative", scorer.score(text, lang=lang)


@pytest.mark.parametrize("lang", sorted(COMPLAINTS))
def test_five_more_languages_are_detected_and_scored(scorer: Scorer, lang: str) -> None:
    assert scorer.score(COMPLAINTS[lang][0]).language == lang
    assert scorer.score(COMPLAINTS[lang][0]).negative


def test_post_verb_negation_in_german_and_dutch() -> None:
    s = Scorer(model=None)
    assert s.score("Ich liebe das Produkt nicht", lang="de").negative
    assert s.score("Das ist nicht gut", lang="de").negative
    assert s.score("Ik vond het niet leuk", lang="nl").negative
    assert s.score("Es ist gut", lang="de").score > 0


def test_still_unsupported_language_stays_unscored(scorer: Scorer) -> None:
    result = scorer.score("Zamówienie przyszło uszkodzone i nikt nie odpowiada na maile")
    assert result.unscored and result.language == "pl" and not result.negative


# --- issue types ----------------------------------------------------------------------------------------

ISSUES = [(c.text, c.lang, c.issue) for c in CASES if c.issue]


def test_case_file_covers_every_scored_language_and_issue_type() -> None:
    assert {c.lang for c in CASES} >= {"en", "fr", "de", "es", "it", "pt", "nl"}
    assert {c.issue for c in CASES if c.issue} >= {"billing", "delivery", "outage", "defect", "support", "security",
                                                   "safety"}
    assert {lang for _, lang, _ in ISSUES} >= {"en", "fr", "de", "es", "it", "pt", "nl"}


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "it", "pt", "nl"])
def test_issue_type_in_every_scored_language(scorer: Scorer, lang: str) -> None:
    """The issue's target: the type is right for at least 85% of complaints, here per language (the case file also
    holds spent check sets, so not every line is right)."""
    rows = [(t, i) for t, lg, i in ISSUES if lg == lang]
    wrong = [(t, i, scorer.score(t, lang=lang).issue) for t, i in rows if scorer.score(t, lang=lang).issue != i]
    assert len(wrong) <= 0.15 * len(rows), wrong


@pytest.mark.parametrize(("text", "lang", "issue"), [
    ("I was charged twice and still no refund", "en", "billing"),
    ("The heater caught fire, this is dangerous", "en", "safety"),
    ("Mon compte a été piraté, c'est scandaleux", "fr", "security"),
    ("Schon wieder eine Störung, alles ausgefallen", "de", "outage"),
    ("El paquete nunca llegó, pésimo envío", "es", "delivery"),
    ("Il telefono è rotto, difettoso, che schifo", "it", "defect"),
    ("Minha conta foi hackeada, que absurdo", "pt", "security"),
    ("Klantenservice is onvriendelijk en geeft geen antwoord", "nl", "support"),
])
def test_issue_type_examples(scorer: Scorer, text: str, lang: str, issue: str) -> None:
    result = scorer.score(text, lang=lang)
    assert result.negative and result.issue == issue, result


def test_no_issue_for_a_mention_that_is_not_negative(scorer: Scorer) -> None:
    assert scorer.score("Fast delivery and a great refund policy", lang="en").issue is None


def test_whole_word_cues_do_not_fire_inside_words() -> None:
    c = IssueClassifier()
    assert c.classify("thanks for the feedback") is None     # "fee=" is a whole word
    hit = c.classify("the charger broke")
    assert hit is not None and hit.issue == "defect"


@pytest.mark.parametrize(("text", "expect"), [
    ("no es bueno", "negative"),
    ("no estoy satisfecho con el servicio", "negative"),
    ("el producto no es bueno", "negative"),
    ("no es muy bueno", "negative"),
    ("la comida no es mala", "not_negative"),
])
def test_regression_spanish_no_toggled_its_own_negation_back(text: str, expect: str) -> None:
    """"no" one or two words back negates the word; Spanish also lists "no" as a negator, and the three-word look
    back toggled it a second time: "no es bueno" and "no estoy satisfecho" read as praise, with the model too."""
    result = Scorer(model=None).score(text, lang="es")
    assert ("negative" if result.negative else "not_negative") == expect, result
    assert any(d.kind == "negation" for d in result.drivers), result.drivers


@pytest.mark.parametrize(("text", "lang", "expect", "rule"), [
    # regression (round 9): informal spellings that no phrase rule met, read as the rules' full forms
    ("cest nul", "fr", "negative", None),                        # "c'est"
    ("jaime pas ce produit", "fr", "negative", "not aime"),      # "j'aime pas"
    ("jadore, cest top", "fr", "not_negative", None),
    ("nn funziona più niente", "it", "negative", "non funziona"),
    ("geht nich", "de", "negative", "geht nicht"),
    ("Nix geht mehr", "de", "negative", "nichts geht mehr"),
    ("werkt nie", "nl", "negative", "werkt niet"),
    ("n chegou ainda", "pt", "negative", "não chegou"),
    ("que mal servicio", "es", "negative", None),                # "mal" was missing from the Spanish lexicon
    ("no está mal", "es", "not_negative", None),
    ("funziona male", "it", "negative", None),                   # and "male" from the Italian one
    ("non è male", "it", "not_negative", None),
])
def test_informal_spellings_read_as_the_full_forms(text: str, lang: str, expect: str, rule: str | None) -> None:
    result = Scorer(model=None).score(text, lang=lang)
    assert ("negative" if result.negative else "not_negative") == expect, result
    if rule:
        assert any(d.text.lower() == rule for d in result.drivers), result.drivers


@pytest.mark.parametrize(("text", "issue"), [
    ("Doesn't hold a charge anymore", "defect"),            # regression (round 9): "charge=" made it billing
    ("It doesn't charge anymore", "defect"),
    ("it doesnt charge anymore", "defect"),
    ("The room smelled of smoke and the sheets had stains", "defect"),   # was safety: the critical policy
    ("Smoke came out of the charger", "safety"),
    ("I was charged twice", "billing"),
    ("They charge a fee for everything", "billing"),
    # round 16: phrases that claim a cue's word for no type (NOT_CUES), and callbacks that are no recall
    ("I don't recall signing up for this, refund me", "billing"),      # was safety ("recall")
    ("Please fire the rep at the desk, so rude", "support"),          # was safety ("fire")
    ("Ich warte seit Tagen auf einen Rückruf", "support"),             # was safety ("rückruf": a callback)
    ("Rückrufaktion für den Föhn, er ist überhitzt", "safety"),
    ("Toujours aucun rappel du service client", "support"),           # "rappel" without a product is a callback
    ("Rappel produit : la bouilloire peut prendre feu", "safety"),
    ("Ended up in hospital after eating there", "safety"),
    # round 17: idioms and product names (NOT_CUES) that tweets to airlines typed security or safety
    ("Bags at the wrong airport and a $35 fee on top, insult to injury", "billing"),   # was safety ("injur")
    ("Cancelling my ticket without a refund is a breach of contract", "billing"),      # was security ("breach")
    ("My kid left her Kindle Fire on the plane, no reply since", "support"),            # was safety ("fire")
    ("A data breach exposed my card number", "security"),
    ("The charger caught fire overnight", "safety"),
])
def test_a_longer_cue_claims_its_words(text: str, issue: str) -> None:
    hit = IssueClassifier().classify(text)
    assert hit is not None and hit.issue == issue, hit


@pytest.mark.parametrize(("text", "issue"), [
    # round 17: urgent cues that the training complaints showed to mean something else most of the time (a
    # security or safety cue decides the type outright and pages the critical policy)
    ("Arnaque totale, 30 € de frais cachés au paiement", "billing"),      # rip-off words: 9 of 17 security
    ("Una estafa, me cobraron dos veces", "billing"),
    ("Echt oplichters met die servicekosten", "billing"),
    ("The lid leaked all over my bag", "defect"),                          # a leak, no data leak
    ("My data was leaked in your breach", "security"),
    ("Coffee tasted burnt and the milk was cold", "defect"),               # food, no burn
    ("La batterie a explosé dans ma poche", "safety"),
    ("Ended up in the hospital after the meal", "safety"),
])
def test_urgent_cues_that_mostly_meant_something_else(text: str, issue: str) -> None:
    hit = IssueClassifier().classify(text)
    assert hit is not None and hit.issue == issue, hit


@pytest.mark.parametrize("text", ["Too many explosions and no story at all", "Troppe esplosioni, nessuna trama",
                                  "My letter from the hospital arrived after the appointment"])
def test_films_and_letters_are_no_safety_issue(text: str) -> None:
    hit = IssueClassifier().classify(text)
    assert hit is None or hit.issue != "safety", hit


@pytest.mark.parametrize("text", [
    "Worst customer experience", "The hospitality was a joke", "No sense of humor at the desk",
    "Blessed with another wait", "So much precious time wasted",
])
def test_a_cue_stem_never_reads_a_longer_word(text: str) -> None:
    """Regression (round 16): cue stems of other languages matched English words by their start: Portuguese
    "custo" (cost) read "customer" as billing, Spanish "humo" (smoke) read "humor", French "blessé" read "blessed"
    and "hospital" read "hospitality" as safety, Spanish "precio" read "precious"."""
    assert IssueClassifier().cues(text) == {}


def test_ops_add_issue_types_and_phrases() -> None:
    s = Scorer(issue_types={"warranty": ["warranty", "garantie"], "billing": ["paywall"]})
    assert s.score("They refused my warranty claim, awful", lang="en").issue == "warranty"
    assert s.score("Terrible paywall everywhere", lang="en").issue == "billing"


def test_issue_types_config_is_validated(tmp_path) -> None:
    from tests.conftest import write_config

    cfg, _ = write_config(tmp_path, sources="[]\n", extra="sentiment:\n  issue_types:\n    Warranty: []\n")
    from monitor.config.settings import load_config
    with pytest.raises(ConfigValidationError) as exc:
        load_config(cfg)
    assert "issue_types" in str(exc.value.issues[0])


def test_route_matches_on_issue() -> None:
    rules = rules_from(parse_yaml(RULES.replace("routes:\n", "routes:\n  - name: safety\n"
                                                "    match: {issue: [security, safety]}\n"
                                                "    escalation: critical\n"), "rules.yaml"))
    router, s = Router(rules), Scorer()
    fire = s.score("The heater caught fire, dangerous", lang="en")
    decision = router.route(Subject("acme", "rss", "news", fire))
    assert decision.route == "safety"
    meh = s.score("The checkout is slow and the design is awful", lang="en")
    decision = router.route(Subject("acme", "rss", "news", meh))
    assert decision.route == "any-negative"
    assert any("issue" in why for step in decision.trace if step.route == "safety" for why in step.reasons)


def test_issue_cannot_combine_with_spike() -> None:
    bad = RULES.replace("routes:\n", "routes:\n  - name: s\n    match: {issue: outage, spike: {negative: 3}}\n")
    with pytest.raises(ConfigValidationError):
        rules_from(parse_yaml(bad, "rules.yaml"))


# --- learned layer ---------------------------------------------------------------------------------------

def _toy_model() -> learned.Model:
    return learned.Model({"en": learned.LangModel(-1.0, (-6.0, -2.0, -2.0, 0.0, 0.0),
                                                  {"w:wonky": 3.0, "p:flaky": 1.0})})


def test_learned_layer_moves_the_score_and_names_its_drivers() -> None:
    rules_only, layered = Scorer(model=None), Scorer(model=_toy_model())
    text = "the flux capacitor is wonky again"
    assert not rules_only.score(text, lang="en").negative
    result = layered.score(text, lang="en")
    assert result.negative
    assert result.drivers[0].text == "wonky" and result.drivers[0].kind == "learned" and result.drivers[0].weight < 0
    assert not layered.score("the flux capacitor is great", lang="en").negative
    # a language the model lacks is scored by the rules alone
    assert layered.score("le service est nul", lang="fr") == rules_only.score("le service est nul", lang="fr")


def test_model_file_round_trip_and_bad_file(tmp_path) -> None:
    path = tmp_path / "m.json"
    _toy_model().save(path)
    assert learned.load(path) == _toy_model()
    path.write_text('{"format": 1, "languages": {"en": {"bias": 0}}}')
    with pytest.raises(ValueError, match="m.json"):
        learned.load(path)


def test_brand_words_are_placeholders_for_the_learned_layer() -> None:
    assert learned.tokens("@united Acme #fail http://x.y acme", frozenset({"acme"})) == [
        "<handle>", "<brand>", "<tag>", "<url>", "<brand>"]


def test_shipped_model_loads() -> None:
    model = learned.load()
    assert "cross_validated" in model.meta     # the shipped file records why each language is (not) in it
    assert set(model.issues) <= set(model.meta["cross_validated"])


def _toy_issue_model() -> learned.Model:
    return learned.Model({}, {}, {"de": learned.IssueModel(
        {"defect": 0.0, "delivery": 0.0}, {"defect": {"w:backofen": 2.5, "p:glasp": 1.0}, "delivery": {"w:paket": 2.5}})})


def test_learned_issue_types_a_complaint_no_cue_or_frame_typed(tmp_path) -> None:
    text = "Das Glas vom Backofen ist beim ersten Grillen gesprungen, unfassbar"
    rules_only, typed = Scorer(model=None), Scorer(model=_toy_issue_model())
    assert rules_only.score(text, lang="de").negative and rules_only.score(text, lang="de").issue is None
    assert typed.score(text, lang="de").issue == "defect"
    assert typed.score("Der Backofen ist super", lang="de").issue is None      # only complaints get a type
    assert typed.score(text, lang="de").score == rules_only.score(text, lang="de").score   # verdicts untouched
    path = tmp_path / "m.json"
    _toy_issue_model().save(path)
    assert learned.load(path) == _toy_issue_model()
    path.write_text('{"format": 1, "languages": {}, "issues": {"de": {"bias": {"a": 0}, "weights": {"b": {}}}}}')
    with pytest.raises(ValueError, match="different types"):
        learned.load(path)


def test_the_model_alone_names_an_urgent_type_only_when_sure() -> None:
    """Regression (round 22): with no security or safety cue, the learned issue model typed everyday complaints
    security at P 0.5-0.95 ("refund my ticket and give me email address" on the airline tweets), which the
    shipped rules page the critical policy for. Below URGENT_MODEL_MIN the next type is taken; a cue still
    decides, and a model that is sure still names the type (a card-details worry with no security cue)."""
    from monitor.analyse.sentiment import scorer as scoring
    scorer = Scorer(brand_terms=["acme"])
    unsure = "@acme refund my booking and give me an email address to complain to, this is ridiculous"
    got = scorer.score(unsure, lang="en", addressed=True)
    assert got.negative and got.issue == "support", got
    sure = "@acme your site is glitching, I'm reluctant to type my card details into this mess"
    assert scorer.score(sure, lang="en", addressed=True).issue == "security"
    cued = "@acme my password was changed and someone booked flights on my account"
    assert scorer.score(cued, lang="en", addressed=True).issue == "security"
    assert scoring.URGENT_MODEL_MIN == 0.8


def test_regression_german_schon_read_as_schoen() -> None:
    """Stripping accents made "schön" (beautiful) out of "schon" (already): "schon wieder" scored +0.44."""
    s = Scorer(model=None)
    assert s.score("schon", lang="de").score == 0.0
    assert s.score("schoen", lang="de").score > 0          # umlauts typed as oe still count
    assert s.score("Schon wieder Internetstörung, nichts geht", lang="de").negative


def test_german_and_dutch_compounds_score_by_their_last_part() -> None:
    s = Scorer(model=None)
    assert s.score("Totale Netzstörung", lang="de").negative
    assert s.score("Wat een klantenservicemedewerkerprobleem", lang="nl").negative


@pytest.mark.parametrize("text", ["@united lost my bag and nobody at the desk can help",
                                  "@AmericanAir stuck on the tarmac for 2 hours",
                                  "missed my connection because of your delay", "Stranded in Denver overnight"])
def test_travel_complaints(scorer: Scorer, text: str) -> None:
    assert scorer.score(text, lang="en").negative


def test_lost_luggage_is_a_delivery_issue(scorer: Scorer) -> None:
    assert scorer.score("@united lost my bag and nobody at the desk can help", lang="en").issue == "delivery"


@pytest.mark.parametrize(("text", "lang"), [
    ("@airline flight delayed three hours and still nobody tells us anything", "en"),
    ("Zug schon wieder 40 Minuten Verspätung, keiner sagt etwas", "de"),
    ("Mon colis est en retard de deux semaines, personne ne répond", "fr"),
    ("Otra vez con retraso el pedido y nadie contesta", "es"),
    ("Il pacco è in ritardo di una settimana e nessuno risponde", "it"),
    ("Encomenda atrasada há duas semanas e ninguém responde", "pt"),
    ("Weer vertraging met mijn pakket en niemand reageert", "nl"),
])
def test_a_delay_is_a_delivery_issue(scorer: Scorer, text: str, lang: str) -> None:
    """Round 18: on real tweets to airlines "Late Flight" complaints were typed support when no other cue was there
    ("nobody tells us"); the training complaints with a delay word are typed delivery 95 times in 100."""
    got = scorer.score(text, lang=lang)
    assert got.negative and got.issue == "delivery", got


def test_the_english_insult_is_no_french_delay() -> None:
    hit = IssueClassifier().classify("what a retard, support hung up on me")
    assert hit is None or hit.issue != "delivery"


def _silent_model(weights: dict[str, float]) -> learned.Model:
    return learned.Model({"en": learned.LangModel(-1.0, (-5.0, -1.5, 0.6, -0.7, 0.3), weights, "silent")})


def test_silent_layer_finds_complaints_the_rules_see_nothing_in() -> None:
    layered = Scorer(model=_silent_model({"w:tracking": 1.5, "w:label": 1.2}))
    result = layered.score("ordered on the 2nd and the tracking page shows the label only", lang="en")
    assert result.negative and any(d.kind == "learned" and d.text == "tracking" for d in result.drivers)
    # where the rules found sentiment, they keep the verdict: the layer never overrules them
    assert not layered.score("tracking page is great", lang="en").negative
    # and it only ever finds complaints: a silent text it finds unlikely to be one stays exactly neutral
    quiet = layered.score("see you at the launch", lang="en")
    assert quiet.score == 0.0 and quiet.drivers == ()


def test_silent_layer_min_p_is_per_language_and_checked(tmp_path) -> None:
    text = "ordered on the 2nd and the tracking page shows the label only"
    weights = {"w:tracking": 0.9, "w:label": 0.7}       # P(negative) about 0.65
    loose = Scorer(model=learned.Model({"en": learned.LangModel(-1.0, (0.0,) * 5, weights, "silent", 0.6)}))
    strict = Scorer(model=learned.Model({"en": learned.LangModel(-1.0, (0.0,) * 5, weights, "silent", 0.7)}))
    assert loose.score(text, lang="en").negative and not strict.score(text, lang="en").negative
    path = tmp_path / "m.json"
    path.write_text('{"format": 1, "languages": {"en": {"bias": 0, "dense": [0,0,0,0,0], "weights": {},'
                    ' "scope": "sometimes"}}}')
    with pytest.raises(ValueError, match="scope 'sometimes'"):
        learned.load(path)


def test_regression_silent_layer_called_a_press_release_a_complaint() -> None:
    """"Our quarterly report is published on the website" came out negative: "on the", "on", "our" had
    complaint weights. Function words alone never let the silent layer call a complaint."""
    layered = Scorer(model=_silent_model({"b:on the": 1.5, "w:on": 1.0, "w:our": 1.0, "w:website": 0.1}))
    result = layered.score("Our quarterly report is published on the website", lang="en")
    assert not result.negative and result.score == 0.0 and result.drivers == ()


def test_silent_layer_reach_reads_weak_words_but_never_overrules_the_rules_grammar() -> None:
    weights = {"w:tracking": 2.0, "w:label": 1.5}
    def model(reach: float) -> Scorer:
        return Scorer(model=learned.Model({"en": learned.LangModel(-1.0, (0.0,) * 5, weights, "silent", 0.6, reach)}))
    text = "tracking shows the label, fine I guess"            # "fine": a weak positive word
    assert not model(0.0).score(text, lang="en").negative      # reach 0: the rules saw sentiment, they decide
    assert model(0.5).score(text, lang="en").negative          # reach 0.5: a weak word does not hide the facts
    # a negation is grammar, not a weak word: "not broken" keeps the rules' verdict whatever the reach
    assert not model(0.5).score("tracking label is not broken", lang="en").negative


def test_training_reads_typographic_apostrophes_as_scoring_does() -> None:
    """One normalisation (`engine.plain_text`) for scoring and training: a deployment label typed on a phone
    ("won’t") trains the same features its scored twin is read with."""
    from monitor.analyse.sentiment import train
    rules = Scorer(model=None, threshold=0.0)
    assert train._features(rules, "I won\u2019t be back", "en") == train._features(rules, "I won't be back", "en")


def test_regression_two_contrast_words_scored_differently_from_one_process_to_the_next() -> None:
    """"aber ... jedoch": the contrast step took the first word its frozenset yielded, whose order follows the
    process's hash seed, so the same German text scored 0.51 in one run and 0.93 in another. The first contrast
    word in the text decides now, in every process."""
    import os
    import subprocess
    import sys

    code = ("from monitor.analyse.sentiment import engine, european\n"
            "t, cs = engine.analyse_raw(european.pack('de'), 'Das Essen war gut, aber der Service langsam, "
            "jedoch die Leute freundlich')\n"
            "print(round(t, 4), [round(c.valence, 3) for c in cs])\n")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(1, 7)}
    assert len(outs) == 1, outs
    from monitor.analyse.sentiment import engine, european

    pack = european.pack("de")
    _, contributions = engine.analyse_raw(pack, "Das Essen war gut, aber der Service langsam, jedoch die Leute "
                                                "freundlich")
    valence = {c.text.lower(): c.valence for c in contributions}
    assert valence["gut"] == pytest.approx(0.5 * pack.lexicon["gut"])                  # before the first: "aber"
    assert valence["freundlich"] == pytest.approx(1.5 * pack.lexicon["freundlich"])    # after it


def test_every_urgent_cue_means_its_type_in_most_training_complaints() -> None:
    """A security or safety cue decides a complaint's type outright and the shipped rules page the critical policy
    for it, so a cue must mean that type in most of the training complaints it occurs in. Round 17 found cues that
    did not: "leaked" (a lid, 7 of 15 security), "hospital" (appointments, 12 of 39 safety), "burnt" (food, 4 of 23),
    "explos" (films, 1 of 9), rip-off words ("arnaque", "estafa", "oplichters": billing). Cues seen in at least six
    complaints are held to a majority."""
    from collections import Counter

    from monitor.analyse.sentiment import train

    classifier = IssueClassifier()
    seen: dict[tuple[str, str], Counter[str]] = {}
    for example in train.mention_examples():
        if not example.negative:
            continue
        for issue, cues in classifier.cues(example.text).items():
            if issue in ("security", "safety"):
                for cue in set(cues):
                    seen.setdefault((issue, cue), Counter())[example.issue or ""] += 1
    weak = {key: dict(c) for key, c in seen.items() if c.total() >= 6 and c[key[0]] * 2 < c.total()}
    assert not weak


@pytest.mark.parametrize("lang", ["it", "pt", "de", "es", "fr", "nl", "en"])
def test_regression_a_token_of_a_thousand_elisions_scores(lang: str) -> None:
    """Round 17's review: the Italian elision lookup ("quell'idiota" → "idiota") recursed once per elided prefix, so
    one untrusted token of a thousand "quell'" raised RecursionError and the mention was never scored."""
    result = Scorer().score("quell'" * 2000 + "idiota", lang=lang)
    assert -1.0 <= result.score <= 1.0
    assert Scorer(model=None).score("dell'l'idiota", lang="it").negative


def test_regression_superlative_flag_gated_the_italian_elision() -> None:
    """Round 18: the Italian elision lookup ("un'ottima" → "ottima") was switched on by the flag for -issimo
    superlatives, so Portuguese (which has the superlative, not that elision) read Italian articles off its words.
    Each behaviour now has its own switch: elision is Italian's; the superlative stays Italian and Portuguese's, the
    German -heit/-keit nouns German's."""
    from monitor.analyse.sentiment.european_inflection import make_lookup

    lexicon = {"ottima": 3.0, "ótimo": 3.0, "chato": -1.5, "unfreundlich": -2.0}
    assert make_lookup("it")(lexicon, "un'ottima") == 3.0
    assert make_lookup("pt")(lexicon, "un'ótimo") is None
    assert make_lookup("pt")(lexicon, "chatíssimo") == -1.5 * 1.25
    assert make_lookup("de")(lexicon, "unfreundlichkeit") == -2.0
    assert make_lookup("nl")(lexicon, "unfreundlichkeit") is None


def test_regression_dutch_compound_tail_read_amendement_as_dement() -> None:
    """Round 18: a compound's last part was taken at any split, so "amendement" scored as "dement" and "weigering" as
    "gering". A general-lexicon word now ends a compound only after a first part that is a word of its own; the
    hand-written complaint words ("fouten", "störung") still end any compound."""
    from monitor.analyse.sentiment import european

    lookup = european.pack("nl").fallback
    lexicon = european.pack("nl").lexicon
    assert "dement" in lexicon and lookup(lexicon, "amendement") is None
    assert lookup(lexicon, "burgeramendement") is None
    assert lookup(lexicon, "spelfouten") == lexicon["fouten"]
    assert lookup(lexicon, "stomvervelend") == lexicon["vervelend"]
    de = european.pack("de")
    assert de.fallback(de.lexicon, "internetstörung") == de.lexicon["störung"]
