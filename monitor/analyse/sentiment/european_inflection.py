"""How the German, Spanish, Italian, Portuguese and Dutch packs read a word their lexicon lacks (:func:`make_lookup`).

Kept apart from the packs' rules (:mod:`monitor.analyse.sentiment.european`) because it is morphology, not
judgement: a word retries without an inflectional ending ("kaputte" → "kaputt", "rotas" → "rota"/"roto"), a
Romance verb form as its infinitive ("fallaron" → "fallar"), an Italian superlative as its adjective
("bruttissimo"), a German plural that umlauts its stem as its singular ("Ausfälle"), a German adjective that drops
its e ("teure" of "teuer") or a superlative ("schönste"), a German or Dutch compound as its last part
("Internetstörung" → "störung"), and a stretched word ("credooo") as the word. Every retry looks up the same
lexicon, so no retry can give a word a value no lexicon entry has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

__all__ = ["UMLAUT_BACK", "make_lookup", "strip_accents"]


def strip_accents(word: str) -> str:
    """"perché" → "perche": how a word is typed without its accents."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


_ENDINGS = {
    "de": ("en", "es", "er", "em", "e", "s", "n"), "nl": ("en", "e", "s"),
    "es": ("es", "s", "a", "o"), "it": ("i", "e", "a", "o"), "pt": ("es", "s", "a", "o"),
}


#: Verb endings of the Romance languages (past, participle, gerund, imperfect), longest first: a verb form the
#: lexicon lacks takes the value of its infinitive or of the noun/adjective on its stem ("fallaron" → "fallar" or
#: "fallo", "rovinato" → "rovinare", "atrasou" → "atrasar"). The stem must keep four letters ("pasó" is no "paso").
_VERB_ENDINGS = {
    "es": ("ieron", "iendo", "aron", "ando", "aban", "ados", "adas", "idos", "idas", "ado", "ada", "ido", "ida", "aba",
           "ió", "ó"),
    "it": ("erebbero", "iscono", "eranno", "iranno", "erebbe", "avano", "ando", "endo", "isce", "ato", "ata", "ati",
           "ate", "ito", "ita", "iti", "ite", "ava", "erà", "irà", "ano", "ono", "ò"),
    "pt": ("aram", "eram", "iram", "amos", "emos", "imos", "ando", "endo", "indo", "ados", "adas", "idos", "idas", "avam",
           "ado", "ada", "ido", "ida", "ava", "ou", "eu", "iu", "ei", "i"),
}
_INFINITIVES = {"es": ("ar", "er", "ir"), "it": ("are", "ere", "ire"), "pt": ("ar", "er", "ir")}


def _verb_form(lexicon: Mapping[str, float], word: str, code: str) -> float | None:
    """A Romance verb form's value: its infinitive's, else the noun or adjective on its stem."""
    for cut in _VERB_ENDINGS[code]:
        if word.endswith(cut) and len(word) - len(cut) >= 4:
            stem = word[: -len(cut)]
            for tail in (*_INFINITIVES[code], "o", "a", "e"):
                hit = lexicon.get(stem + tail)
                if hit is not None:
                    return hit
            return None
    return None


UMLAUT_BACK = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
_UMLAUT_PLURAL = re.compile(r"^(.*)([äöü])([^äöüaeiou]*)(?:e|er|en|ern|n)$")
_UMLAUT_PLURAL_EL = re.compile(r"^(.*)([äöü])([^äöüaeiou]*e[lr])$")     # "Mängel" of "Mangel": no ending


#: A German adjective in -el or -er drops that e before an ending ("teuer" → "teure", "übel" → "üblen",
#: "miserabel" → "miserablen"): a stem ending in l/r retries with the e put back.
_ELIDED_E = re.compile(r"\w[lr]$")


def _umlaut_plural(lexicon: Mapping[str, float], word: str, heads: frozenset[str] | None = None) -> float | None:
    """A German plural that umlauts its stem ("Ausfälle" of "Ausfall", "Funklöcher" of "Funkloch", "Mängel"
    of "Mangel" take their singular's value), the stem also as the last part of a compound."""
    m = _UMLAUT_PLURAL.match(word) or _UMLAUT_PLURAL_EL.match(word)
    if m is None:
        return None
    singular = m.group(1) + m.group(2).translate(UMLAUT_BACK) + m.group(3)
    hit = lexicon.get(singular)
    return hit if hit is not None else _compound_tail(lexicon, singular, heads)


#: A German noun of quality made from an adjective ("Unzuverlässigkeit", "Fassungslosigkeit", "Frechheiten",
#: "Traurigkeit"): -heit/-keit/-igkeit, also plural, after the adjective itself.
_QUALITY_NOUN = re.compile(r"^(\w{4,}?)(?:ig)?(?:heit|keit)(?:en)?$")


def _quality_noun(lexicon: Mapping[str, float], word: str) -> float | None:
    """A German -heit/-keit noun takes its adjective's value ("Unfreundlichkeit" of "unfreundlich")."""
    m = _QUALITY_NOUN.match(word)
    if m is None:
        return None
    stem = word[: -len("keit")] if not word.endswith("en") else word[: -len("keiten")]
    for base in (stem, m.group(1)):
        hit = lexicon.get(base)
        if hit is not None:
            return hit
    return None


#: Italian elision: an article, preposition or demonstrative before a vowel loses its vowel and is written onto the
#: word ("l'idiota", "dell'errore", "quell'incompetente", "un'ottima", "c'è"); the tokeniser keeps them one token, so
#: the word behind the apostrophe is looked up (round 17: "Quell'idiota di ..." scored 0).
_IT_ELISION = re.compile(r"^(?:l|un|dell|nell|all|dall|sull|coll|quell|quest|bell|buon|sant|tutt|d|c|m|t|s|v|n)'(?=\w)")


#: The languages whose articles and prepositions elide onto the next word as _IT_ELISION reads them: Italian.
_ELIDING = frozenset({"it"})


_SUPERLATIVE = re.compile(r"^(\w{3,})[ií]ssim(?:[oaie]|os|as)$")   # Italian -issimo/a/i/e, Portuguese -íssimo/a/os/as


def _superlative(lexicon: Mapping[str, float], word: str) -> float | None:
    """An Italian or Portuguese absolute superlative takes its adjective's value, a step stronger: "bruttissimo" of
    "brutto", "velocissima" of "veloce", "chatíssimo" of "chato" (capped at 4)."""
    m = _SUPERLATIVE.match(word)
    if m is None:
        return None
    for ending in ("o", "e", "a"):
        hit = lexicon.get(m.group(1) + ending)
        if hit:
            return max(-4.0, min(4.0, hit * 1.25))
    return None


#: Linking elements between the parts of a German or Dutch compound ("Stellwerk-s-störung", "lev-ens-gevaar"): the head
#: is read without one when it is looked up.
_LINKS = ("en", "es", "s", "e", "n", "-")


def _known_head(lexicon: Mapping[str, float], head: str) -> bool:
    """Whether ``head``, the part left of a compound's last part, is a word of its own: it ends at a hyphen or other
    non-letter ("WLAN-Problem", "boek,boeiend": two words written as one token), or it is a lexicon word, with or
    without a linking element ("super", "stom", "bloed": the intensifiers compounds are made with)."""
    if not head[-1].isalpha():
        return True
    if head in lexicon:
        return True
    return any(head.endswith(link) and len(head) - len(link) >= 3 and head[: -len(link)] in lexicon for link in _LINKS)


def _compound_tail(lexicon: Mapping[str, float], word: str, heads: frozenset[str] | None = None) -> float | None:
    """A German or Dutch compound's value: its last part's, at least six letters long ("Internetstörung" →
    "störung"), tried from the longest. A compound's last part is found without a dictionary, so not every split is
    a real one: "amendement" is no "dement", "weigering" no "gering". Where ``heads`` is given, only its words (the
    hand-written complaint vocabulary, written to end compounds: "störung", "fouten", "klachten") are read after any
    head; another lexicon word only after a head that is a word of its own (:func:`_known_head`)."""
    if len(word) >= 9:
        for start in range(3, len(word) - 5):
            tail = word[start:]
            hit = lexicon.get(tail)
            if hit is not None and (heads is None or tail in heads or _known_head(lexicon, word[:start])):
                return hit
    return None


#: A letter typed three times or more (tweets stretch words: "credooo", "siiii", "suuuper"); German "Schifffahrt"
#: is in no lexicon of ours, so reading it as "schifahrt" changes nothing.
_ELONGATED = re.compile(r"(\w)\1{2,}")


def make_lookup(code: str, heads: frozenset[str] | None = None) -> Callable[[Mapping[str, float], str], float | None]:
    """The fallback lookup of one language; ``heads``: the words a compound may end in after any first part (see
    :func:`_compound_tail`; None = every lexicon word)."""
    endings = _ENDINGS[code]
    vowel_swap = code in ("es", "it", "pt")
    compounds = code in ("de", "nl")
    # one switch per behaviour, each saying what it is about the language (not one flag standing in for another)
    umlaut_plural = code == "de"        # "Ausfälle" of "Ausfall", "Mängel" of "Mangel"
    elided = code == "de"               # "teure" of "teuer", "schönste" of "schön"
    quality_nouns = code == "de"        # "Unfreundlichkeit" of "unfreundlich" (-heit/-keit)
    superlative = code in ("it", "pt")  # "bruttissimo", "chatíssimo"
    elision = code in _ELIDING          # "l'idiota", "quell'incompetente"

    def lookup(lexicon: Mapping[str, float], word: str) -> float | None:
        """Unknown word: retry without an inflectional ending ("kaputte" → "kaputt", "rotas" → "rota"/"roto"),
        in Spanish, Italian and Portuguese also without a verb ending (:func:`_verb_form`); in German and Dutch, a
        compound takes the value of its last part ("Internetstörung" → "störung"); a letter typed three times or
        more counts once ("credooo", "merdaaaa": tweets stretch words for emphasis)."""
        if elision and "'" in word and _IT_ELISION.match(word):
            # one elided word at a time, in a loop: a token of a thousand "quell'" recursed once per prefix and
            # raised RecursionError (regression, round 17's review)
            rest = word
            while (m := _IT_ELISION.match(rest)) is not None:
                rest = rest[m.end():]
                hit = lexicon.get(rest)
                if hit is not None:
                    return hit
            return lookup(lexicon, rest)
        if _ELONGATED.search(word) and _ELONGATED.sub("", word):     # "KKK", "AAA": one letter repeated is no stretch
            short = _ELONGATED.sub(r"\1", word)
            hit = lexicon.get(short)
            return hit if hit is not None else lookup(lexicon, short)
        if len(word) <= 4:
            return None
        for cut in endings:
            if word.endswith(cut):
                stem = word[: -len(cut)]
                hit = lexicon.get(stem)
                if hit is not None:
                    return hit
                if vowel_swap:
                    for v in ("o", "a", "e"):
                        hit = lexicon.get(stem + v)
                        if hit is not None:
                            return hit
                if elided and _ELIDED_E.search(stem):        # "teure" of "teuer", "üble", "miserablen"
                    hit = lexicon.get(stem[:-1] + "e" + stem[-1])
                    if hit is not None:
                        return hit
                if elided and len(stem) >= 6 and stem.endswith("st"):      # "schönste", "dümmsten", "liebste"
                    base = stem[:-2]
                    hit = lexicon.get(base)
                    if hit is None:
                        hit = lexicon.get(base.translate(UMLAUT_BACK))
                    if hit is not None:
                        return hit
        if vowel_swap and (hit := _verb_form(lexicon, word, code)) is not None:
            return hit
        if umlaut_plural and (hit := _umlaut_plural(lexicon, word, heads)) is not None:
            return hit
        if quality_nouns and (hit := _quality_noun(lexicon, word)) is not None:
            return hit
        if superlative and (hit := _superlative(lexicon, word)) is not None:
            return hit
        return _compound_tail(lexicon, word, heads) if compounds else None

    return lookup
