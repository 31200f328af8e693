"""The public scorer: language routing, rule engine, star ratings, brand overrides.

Why the routing rules:
* ``lang=None`` → :func:`monitor.analyse.language.detect_language`. When detection returns ``None`` (a handful of
  words, emoji, hashtags) we score as English: most of our short mentions are English, the English
  lexicon contains the emoji and emoticons such texts usually carry, and "unscored" for every short
  complaint ("refund now!!") would hide the most urgent ones.
* A detected language we have no lexicon for is *unscored* (``score=None``, ``negative=False``) and says
  so, rather than being read with the English lexicon and silently called neutral.

* A short text made only of English words is English whatever the detector guessed (see
  :func:`_short_english`).

Why no learned layer: a logistic regression over n-grams, trained on the dev set, scored well in-sample but
worse than the rules on held-out folds, and made scoring several times slower than bare VADER; one over
~20 dense features of the engine (a calibrator) did no better than the rules on tweets in 5-fold
cross-validation. Why no per-source-kind threshold: on both corpora moving the threshold only trades
precision for recall. General lexicon entries and phrase rules generalise better (README, "Sentiment").

Thread-safety: a Scorer holds only immutable data built in ``__init__``; language packs are module-level
caches built once. Construction is cheap (per-brand lexicon copies only for overridden
brands), so building one per config reload is fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from monitor.analyse.language import detect_language
from monitor.analyse.sentiment import engine, french, lexicon_en

SUPPORTED = frozenset({"en", "fr"})
MAX_DRIVERS = 5
#: Raw valence added per star away from 3 (a 1-star review adds -2 × 1.6).
RATING_VALENCE_PER_STAR = 1.6
#: The score a 1-star/2-star review is capped at, whatever the words say.
LOW_RATING_CAP = {1: -0.6, 2: -0.35}


@dataclass(frozen=True)
class Driver:
    """A word, phrase rule, rating or override that moved the score; ``weight`` on VADER's -4..4 scale."""

    text: str
    weight: float
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "weight": round(self.weight, 3), "kind": self.kind}


@dataclass(frozen=True)
class Sentiment:
    score: float | None
    negative: bool
    unscored: bool
    language: str | None
    drivers: tuple[Driver, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = None if self.score is None else round(self.score, 4)
        data["drivers"] = [d.to_dict() for d in self.drivers]
        return {k: data[k] for k in ("language", "score", "negative", "unscored", "drivers")}


#: Up to this many words, a language other than English is double-checked against the English vocabulary.
SHORT_TEXT_WORDS = 6
_FUNCTION_WORDS = frozenset(
    "a an the i me my you your he she it its we our they them is are was were be been am as at by for from in"
    " of on to with and or but so if not no this that these those what so too very just all more".split()
)


def _short_english(text: str, pack: engine.LangPack) -> bool:
    """A short text (≤ SHORT_TEXT_WORDS words) whose words are all English function or sentiment words.

    Language identification on a handful of words is unreliable: "Nervous as hell" comes back French. When
    every word of such a text is English vocabulary (the English lexicon or a function word) and at least one
    carries sentiment, it is English. Longer texts, and short ones with any word English does not know
    ("Das ist super"), keep the detected language.
    """
    words = [w.strip(engine._STRIP).lower() for w in text.split()]
    words = [w for w in words if w.isalpha()]
    if not words or len(words) > SHORT_TEXT_WORDS:
        return False
    lexicon = pack.lexicon
    if not all(w in lexicon or w in _FUNCTION_WORDS for w in words):
        return False
    return any(lexicon.get(w) for w in words)


def _packs() -> dict[str, engine.LangPack]:
    return {"en": lexicon_en.pack(), "fr": french.pack()}


class Scorer:
    """Score mentions; see the module docstring for routing. Safe to share between threads."""

    def __init__(
        self,
        threshold: float = -0.05,
        overrides: Mapping[str, Mapping[str, float]] | None = None,
        languages: Iterable[str] | None = None,
    ) -> None:
        self.threshold = threshold
        wanted = SUPPORTED if languages is None else frozenset(languages)
        unknown = wanted - SUPPORTED
        if unknown:
            raise ValueError(f"unsupported sentiment language(s): {sorted(unknown)}; have {sorted(SUPPORTED)}")
        self.supported_languages: frozenset[str] = wanted
        self._packs = {code: p for code, p in _packs().items() if code in wanted}
        # brand -> (lowercased words, {lang: merged lexicon}); built now so score() never mutates state
        brand_lex: dict[str, tuple[frozenset[str], dict[str, Mapping[str, float]]]] = {}
        for brand, words in (overrides or {}).items():
            lowered = {w.lower(): max(-4.0, min(4.0, float(v))) for w, v in words.items()}
            merged: dict[str, Mapping[str, float]] = {
                code: MappingProxyType({**p.lexicon, **lowered}) for code, p in self._packs.items()
            }
            brand_lex[brand.lower()] = (frozenset(lowered), merged)
        self._brands = MappingProxyType(brand_lex)

    def score(
        self, text: str, *, lang: str | None = None, rating: float | None = None, brand: str | None = None
    ) -> Sentiment:
        """Score one mention. ``rating`` is 1..5 stars when the source has one."""
        language = lang.lower() if lang else detect_language(text or "")
        if language not in (None, "en") and "en" in self._packs and _short_english(text or "", self._packs["en"]):
            language = "en"  # "Nervous as hell" came back French: n-grams of three words are a guess
        scoring_lang = language or "en"  # unsure → English, see module docstring
        pack = self._packs.get(scoring_lang)
        if pack is None:
            return Sentiment(None, False, True, language, ())

        overridden: frozenset[str] = frozenset()
        lexicon = None
        if brand is not None and brand.lower() in self._brands:
            overridden, per_lang = self._brands[brand.lower()]
            lexicon = per_lang[scoring_lang]
        total, contributions = engine.analyse_raw(pack, text or "", lexicon, overridden)
        drivers = [Driver(c.text, c.valence, c.kind) for c in contributions if abs(c.valence) >= 0.05]

        score = engine.normalize(total)
        if rating is not None:
            score, rating_driver = self._blend_rating(score, total, rating)
            drivers.append(rating_driver)
        drivers.sort(key=lambda d: -abs(d.weight))
        return Sentiment(score, score <= self.threshold, False, language, tuple(drivers[:MAX_DRIVERS]))

    @staticmethod
    def _blend_rating(score: float, total: float, rating: float) -> tuple[float, Driver]:
        """Stars are the author's own verdict: blend them in, and let 1-2 stars win outright."""
        stars = max(1.0, min(5.0, float(rating)))
        valence = (stars - 3.0) * RATING_VALENCE_PER_STAR
        blended = engine.normalize(total + valence)
        cap = LOW_RATING_CAP.get(round(stars))
        if cap is not None:
            blended = min(blended, cap)
        elif stars >= 4.5:
            blended = max(blended, 0.0)  # 5 stars + neutral (or mildly griping) words is not a complaint
        label = f"{stars:g} star" + ("" if stars == 1 else "s")
        return blended, Driver(label, valence, "rating")
