"""Language detection for mentions: ISO 639-1 code, or ``None`` when the text is too short or unclear.

Why py3langid: it is a naive-Bayes byte n-gram model that ships inside the wheel (offline, ~4.5 MB), is
deterministic (no random seed like ``langdetect``), classifies >10,000 short texts a second and has a fixed
memory footprint. Its normalised probabilities are calibrated by length, which gives us a principled
"unsure" signal instead of a guess.

Why the restricted label set: the full model knows ~140 labels, many of them minor languages or pidgins
(``pcm``, ``bcl``, ``la``, ``br``...) that short English tweets collapse into ("hello" → Breton).
Mentions we monitor come overwhelmingly from widely used languages, so we only let the model choose among
those; a text that is none of them will mostly come out unsure (``None``) rather than mislabelled.

Why the cleaning: URLs, @handles, #hashtags and emoji carry no language signal but do carry n-grams, so
they are removed before classification and before deciding whether there is enough text to judge.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["detect_language", "MIN_LETTERS", "MIN_CONFIDENCE"]

#: Languages the detector may answer. Broad enough that German/Spanish/Japanese/etc. are recognised and so
#: reported (then left unscored), narrow enough that short English does not become an exotic label.
LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "sk", "hu", "ro",
    "el", "tr", "ru", "uk", "bg", "sr", "hr", "ar", "he", "fa", "hi", "bn", "ur", "id", "ms", "vi",
    "th", "ja", "zh", "ko", "ca",
)

#: Fewer letters than this (after cleaning) and we do not even ask the model: n-gram statistics on
#: two or three words are noise, and the scorer falls back to English for such texts anyway.
MIN_LETTERS = 8
#: Below this normalised probability the answer is "unsure" (None).
MIN_CONFIDENCE = 0.5

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"[@#][\w_]+")
_ASCII_NOISE = re.compile(r"[^A-Za-z0-9\s.,;:!?'\"()-]")
_ASCII_NON_LETTER = re.compile(r"[^A-Za-z]+")
_CACHE_SIZE = 4096  # bounded: repeated texts (retweets, syndicated news) are common

_lock = threading.Lock()
_identifier: Any = None


def _model() -> Any:
    """The py3langid model restricted to :data:`LANGUAGES`, once per process, on the first text that needs it
    (``monitor status`` and texts whose language the source gives never do): read from the decompressed cache
    in ~20 ms, or decompressed from the shipped model in ~0.6 s (see :mod:`monitor.analyse.language_model`)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from monitor.analyse import language_model

                _identifier = language_model.load(LANGUAGES)
    return _identifier


def _clean(text: str) -> str:
    """Drop URLs, handles, hashtags and anything that is not a letter, digit, space or punctuation."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    if text.isascii():  # fast path: the common case needs no per-character Unicode lookups
        return " ".join(_ASCII_NOISE.sub(" ", text).split())
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LNPZ":
            kept.append(ch)
        else:  # emoji, symbols, control characters
            kept.append(" ")
    return " ".join("".join(kept).split())


_EN_WORDS = frozenset(
    "the and is are was were to of my you it this that with for have has not i me we they your be been "
    "just so but what when will would can can't don't it's i'm an at from by or if all get got do did out "
    "up about like one more there their he she his her him our us who how why which could should now some "
    "only really very after before because than then them these those its i've i'll i'd doesn't didn't "
    "isn't wasn't you're they're we're that's there's what's had over into off back too also even still "
    "much many any every".split()
)
# frequent words of other Latin-script languages that are not English words
_NOT_EN_WORDS = frozenset(
    "le la les des et est une du au je ne pas vous nous der die das und ist nicht ich ein eine el los las "
    "que y es por una con il di che per sono non het een niet em os um uma não".split()
)
_WORDS = re.compile(r"[a-z']+")


def _obviously_english(cleaned: str) -> bool:
    """Fast path: ASCII text dense in English function words and free of other languages' ones.

    Most mentions are English; answering them without the n-gram model keeps detection from dominating
    scoring cost. Anything doubtful falls through to the model.
    """
    if not cleaned.isascii():
        return False
    words = _WORDS.findall(cleaned.lower())
    if len(words) < 4:
        return False
    hits = 0
    for w in words:
        if w in _NOT_EN_WORDS:
            return False
        hits += w in _EN_WORDS
    return hits >= 2 and hits * 4 >= len(words)


def _script_language(letters: str) -> str | None:
    """Scripts that identify a language by themselves: kana → ja, hangul → ko.

    Checked first because these are certain even for a two-character text, where the n-gram model would
    still be unsure.
    """
    for ch in letters:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF:
            return "ja"
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            return "ko"
    return None


@lru_cache(maxsize=_CACHE_SIZE)
def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of ``text``, or ``None`` when it is too short or the model is unsure.

    Deterministic and offline. ``None`` is an honest "don't know", not "English": callers decide the
    fallback (the sentiment scorer uses English for short texts, see :mod:`monitor.analyse.sentiment.scorer`).
    """
    if not text:
        return None
    cleaned = _clean(text)
    if _obviously_english(cleaned):
        return "en"
    if cleaned.isascii():  # C-speed letter count; no script to recognise
        n_letters = len(_ASCII_NON_LETTER.sub("", cleaned))
        if n_letters < MIN_LETTERS:
            return None
    else:
        letters = "".join(ch for ch in cleaned if ch.isalpha())
        if not letters:
            return None
        by_script = _script_language(letters)
        if by_script is not None:
            return by_script
        # CJK ideographs carry far more information per character than Latin letters
        if len(letters) < MIN_LETTERS and not any(0x4E00 <= ord(ch) <= 0x9FFF for ch in letters):
            return None
    lang, confidence = _model().classify(cleaned)
    if confidence < MIN_CONFIDENCE:
        return None
    return str(lang)
