"""German, Spanish, Italian, Portuguese and Dutch packs: a customer-experience lexicon and complaint rules.

Each language has a hand-written customer-experience list (`european_words`: written for this project, same licence
as the code), because complaints to brands use a small, stable vocabulary (broken, refund, waiting,
cancelled, never again, outage, rude, scam) that general lexicons score timidly or not at all. Where a
general lexicon with a licence that allows shipping exists it is loaded underneath (the hand-written entries
win): Portuguese from LeIA (a VADER adaptation, MIT, ``data/pt_lexicon.tsv``), Dutch from Pattern's
adjective lexicon (PDDL, ``data/nl_lexicon.tsv``), Italian from Pattern's Italian lexicon (BSD-3-Clause,
``data/it_lexicon.tsv``); see the ``LICENSE-*`` files beside them. Every entry
is a general word of praise or blame, never a line of an evaluation set. A word the lexicon lacks retries
without accents and without a plural/gender/case or verb ending, which covers most inflection
(:mod:`~monitor.analyse.sentiment.european_inflection`).
Every pack also takes the English pack's emoticons (``_emoticons``; the third-party lexicons have few or none), a
repeated mouth (":(((") read as the face (``_faces``).

Negation per language: pre-posed negators ("nicht gut", "no funciona", "non funziona", "não chegou",
"niet goed") work like English; German and Dutch also negate the verb *after* it ("gefällt mir nicht",
"werkt niet"), which the engine handles through ``post_negations``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from monitor.analyse.sentiment.engine import B_INCR, LangPack
from monitor.analyse.sentiment.european_inflection import make_lookup, strip_accents
from monitor.analyse.sentiment.european_rules import SPECS
from monitor.analyse.sentiment.european_words import DE, ES, IT, NL, PT
from monitor.analyse.sentiment.frames import anything_but, asking, frame_rules, irony, irrealis
from monitor.analyse.sentiment.lexicon_en import emoji_valences, split_emoji, symbols
from monitor.analyse.sentiment.topics import drop_topics

#: Negators as texts and tweets spell them ("nn funziona", "geht nich", "werkt nie", "n chegou"): read as the full
#: word, so the phrase rules written for "non funziona", "geht nicht", "werkt niet", "não chegou" apply.
INFORMAL_NEGATORS: dict[str, dict[str, str]] = {
    "de": {"nich": "nicht", "nix": "nichts"},
    "it": {"nn": "non"},
    "pt": {"n": "não", "ñ": "não"},
    "nl": {"nie": "niet"},
}
_INFORMAL = {code: re.compile(r"(?<![\w'’-])(" + "|".join(map(re.escape, forms)) + r")(?![\w'’-])", re.IGNORECASE)
             for code, forms in INFORMAL_NEGATORS.items()}


def _informal(code: str, text: str) -> str:
    """``text`` with the language's informal negators spelled out (see INFORMAL_NEGATORS); one regex scan."""
    pattern = _INFORMAL.get(code)
    if pattern is None:
        return text
    forms = INFORMAL_NEGATORS[code]
    return pattern.sub(lambda m: forms[m.group(1).lower()], text)




def _shipped(code: str) -> dict[str, float]:
    """A third-party lexicon shipped as ``data/<code>_lexicon.tsv`` (word TAB valence), when there is one."""
    path = resources.files("monitor.analyse.sentiment").joinpath(f"data/{code}_lexicon.tsv")
    if not path.is_file():
        return {}
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, sep, value = line.partition("\t")
        if sep and not line.startswith("#"):
            try:
                out[word] = float(value)
            except ValueError:
                continue
    return out


_DE_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _ascii_alias(code: str, word: str) -> str:
    """How the word is typed without accents. German writes umlauts as ae/oe/ue: stripping them would make
    "schön" (beautiful) out of "schon" (already)."""
    return word.translate(_DE_ASCII) if code == "de" else strip_accents(word)


def _lexicon(code: str) -> dict[str, float]:
    words = {"de": DE, "es": ES, "it": IT, "pt": PT, "nl": NL}[code]
    base = {**_shipped(code), **words}     # the hand-written customer-experience entries win
    return drop_topics(code, {**{_ascii_alias(code, k): v for k, v in base.items()}, **base})


#: Negative concord: after "non" (or "nn"), "mai", "niente", "nulla", "nessuno", "affatto"... repeat the one negation
#: ("non è mai contento", "non mi piace per niente", "non è affatto un bene") instead of cancelling it, as two
#: negators would. The accent-free alias "ne" of "né" is the pronoun ("non ne sono contento"), never a negator.
_CONCORD = {"it": ("non", frozenset({"mai", "niente", "nulla", "nessun", "nessuno", "nessuna", "né", "affatto"}), {"ne"}),
            "es": ("no", frozenset({"nada", "nunca", "jamás", "jamas", "nadie", "ningún", "ningun", "ninguna", "ninguno", "ni", "tampoco"}), set()),
            "pt": ("não", frozenset({"nada", "nunca", "jamais", "ninguém", "ninguem", "nenhum", "nenhuma", "nem"}), set())}


def _concord_negation(code: str, negations: frozenset[str]) -> Callable[[list[str], int, int], bool] | None:
    """A follower repeats its head's negation: it is no second negator where the head is in the negated word's own
    window ("non è mai contento": "non" negates), and it is the negator where the head is further back ("não tem
    nada de bom", "non c'è niente di buono": "nada", "niente"; until round 17 neither word counted there, and the
    praise word was read as praise)."""
    if code not in _CONCORD:
        return None
    head, followers, pronouns = _CONCORD[code]

    def is_negation(lower: list[str], j: int, at: int) -> bool:
        word = lower[j]
        if word not in negations or word in pronouns:
            return False
        return not (word in followers and head in lower[max(0, at - 3):j])

    return is_negation


#: Faces tweets type that VADER lacks (eye-roll and tears), first found in German tweets: "-.-", "-_-", "._.", ";_;".
_FACES = {"-.-": -1.4, "-_-": -1.4, "-,-": -1.2, "._.": -1.0, ";_;": -1.8, ";-;": -1.8, ";(": -1.9, ";-(": -1.9,
             "=(": -1.9}
#: Laughter is a reaction, not a claim: "nicht gekommen xD" does not deny the laugh (as in English).
_DE_LAUGHTER = frozenset({"haha", "xd", "lol"})


#: Words a negator never flips. German laughter is a reaction, not a claim. Italian "manco", "nemmeno", "neanche",
#: "neppure" (not even) agree with the "non" before them ("non ha manco risposto", "non c'è nemmeno una sedia"):
#: their blame is read as it is, not turned into praise (round 17: "not manco" and "not nemmeno" scored praise).
_NEVER_NEGATED = {"de": _DE_LAUGHTER, "it": frozenset({"manco", "nemmeno", "neanche", "neppure"})}


#: A face typed with its mouth repeated (":(((", ":-))", "XDDD") is that face, stronger: read as the face itself.
_REPEATED_MOUTH = re.compile(r"(?<![A-Za-z])([:;=xX]['’-]?)([()\[\]DPp/\\])\2+")


def _faces(text: str) -> str:
    """``text`` with each repeated emoticon mouth typed once (":(((" -> ":("), so the pack finds the face."""
    return _REPEATED_MOUTH.sub(r"\1\2", text) if (":" in text or ";" in text or "=" in text or "X" in text
                                                     or "x" in text) else text


@lru_cache(maxsize=1)
def _emoticons() -> dict[str, float]:
    """The emoticons (":(", ":/", ":'(", "D:", ":)") tweets carry in every language: the packs take the English pack's
    (VADER's, with its fixes), plus the faces in ``_FACES``. German first (round 16); the other packs from the
    same round (Italian tweets +0.004 with the rules alone, Spanish +0.001, the others unchanged)."""
    from monitor.analyse.sentiment import lexicon_en

    emoji = emoji_valences()
    faces = {k: v for k, v in lexicon_en.pack().lexicon.items()
             if k not in emoji and " " not in k and not k.isalpha() and sum(c.isalnum() for c in k) <= 1}
    return {**faces, **_FACES}


def _compound_heads(code: str) -> frozenset[str]:
    """The words a German or Dutch compound is read as ending in whatever its first part: the hand-written
    customer-experience list ("störung", "ausfall", "fouten", "klachten"), as typed and without accents. The general
    lexicons underneath (Pattern's Dutch adjectives) are read at a compound's end only after a first part that is a
    word of its own: "amendement" is no "dement" (european_inflection._compound_tail)."""
    words = {"de": DE, "es": ES, "it": IT, "pt": PT, "nl": NL}[code]
    return frozenset(words) | {_ascii_alias(code, w) for w in words}


@lru_cache(maxsize=8)
def pack(code: str) -> LangPack:
    """One language's pack, built once per process."""
    negs, post, boost_up, boost_down, contrast, clause, rules = SPECS[code]
    emoji = emoji_valences()
    deny = anything_but(code)
    lexicon = {**emoji, **_emoticons(), **_lexicon(code)}
    boosters = {w: B_INCR for w in boost_up.split()} | {w: -B_INCR for w in boost_down.split()}
    boosters |= {_ascii_alias(code, k): v for k, v in boosters.items()}
    negations = frozenset(negs.split()) | {_ascii_alias(code, w) for w in negs.split()}
    # a negator negates; it is no sentiment word of its own, whatever a third-party lexicon gives it (Pattern's
    # "nessuna" -0.8, LeIA's "nao" -1.2): "nessuno parla di …" is no complaint, and "nao" would count twice in
    # "nao é bom" (its own -1.2 and the praise it negates). The engine keeps a negator a negator either way.
    lexicon = {k: v for k, v in lexicon.items() if k not in negations}
    return LangPack(
        code=code,
        lexicon=lexicon,
        negations=negations,
        boosters=boosters,
        contrast=frozenset(contrast.split()),
        rules=rules + frame_rules(code),
        asking=asking(code),
        irony=irony(code),
        prepare=lambda text: split_emoji(_informal(code, _faces(deny(text))), emoji),
        irrealis=irrealis(code),
        fallback=make_lookup(code, heads=_compound_heads(code)),
        symbols=symbols(lexicon) | _NEVER_NEGATED.get(code, frozenset()),
        post_negations=frozenset(post.split()),
        is_negation=_concord_negation(code, negations),
        clause_words=frozenset(clause.split()),
        no_negates=code != "pt",
    )


LANGUAGES = tuple(SPECS)
