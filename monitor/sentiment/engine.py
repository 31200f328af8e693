"""A VADER-style valence engine that remembers *why*: every contribution is kept with the token or rule
that produced it, so the scorer can report drivers.

Why not call ``vaderSentiment`` directly: its analyzer returns only aggregates, hard-codes English
negations and boosters at module level, and cannot take phrase rules. This module follows VADER's
published algorithm (lexicon valence, booster words with distance decay, ALL-CAPS emphasis, negation in a
three-token window with the ``N_SCALAR`` flip, the "but" shift, exclamation/question emphasis and the
``x / sqrt(x² + 15)`` normalisation), parameterised by a :class:`LangPack` so English and French share it.

Departures from VADER, on purpose:
* phrase rules (``stopped working``, ``ne fonctionne plus``) add a valence and silence the lexicon words
  they cover, so a complaint is not counted twice;
* a negated *negative* word flips only weakly (``NEG_FLIP``) — "not broken" / "no problems" means
  "fine", not "delighted" — while a negated positive word keeps VADER's stronger flip ("not good").
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

B_INCR = 0.293
C_INCR = 0.733
N_SCALAR = -0.74
NEG_FLIP = -0.3
ALPHA = 15.0


@dataclass(frozen=True)
class Rule:
    """A phrase pattern with a valence on VADER's -4..4 scale; ``negatable`` rules look 3 tokens back."""

    pattern: re.Pattern[str]
    valence: float
    label: str
    negatable: bool = True
    triggers: tuple[str, ...] = ()


def rule(regex: str, valence: float, label: str | None = None, negatable: bool = True) -> Rule:
    """Compile a rule anchored on token boundaries; the label defaults to the regex text."""
    # every literal word of 3+ letters: a match must contain at least one of them, so a cheap substring
    # test skips the regex for almost all texts (regexes starting with a look-behind cannot be prefiltered
    # by the re engine itself)
    literals = re.sub(r"\\[a-zA-Z]|\(\?[:!=<]+", " ", regex)
    triggers = tuple(sorted({w for w in re.findall(r"[^\W\d_]{3,}", literals)}))
    pattern = re.compile(rf"(?<![\w'’]){regex}(?![\w'’])")
    return Rule(pattern, valence, label or regex, negatable, triggers)


@dataclass(frozen=True)
class LangPack:
    """Everything language-specific the engine needs; built once per process and shared read-only."""

    code: str
    lexicon: Mapping[str, float]
    negations: frozenset[str]
    boosters: Mapping[str, float]
    contrast: frozenset[str]
    rules: tuple[Rule, ...] = ()
    prepare: Callable[[str], str] = lambda text: text
    lookup: Callable[[Mapping[str, float], str], float | None] = lambda lex, word: lex.get(word)
    is_negation: Callable[[list[str], int], bool] | None = None
    skip: frozenset[str] = field(default_factory=frozenset)


@dataclass
class Contribution:
    """One term's share of the raw valence sum (before normalisation)."""

    text: str
    valence: float
    kind: str
    index: int


def _strip(token: str) -> str:
    stripped = token.strip(string.punctuation + "«»“”‘’…")
    return token if len(stripped) <= 2 else stripped


def tokenize(text: str) -> tuple[list[str], list[bool]]:
    """VADER's tokenisation (whitespace split, edge punctuation stripped unless that leaves ≤2 chars),
    plus, per token, whether it closed a clause (". ! ? ;") in the raw text."""
    tokens: list[str] = []
    ends: list[bool] = []
    for raw in text.split():
        token = _strip(raw)
        if token:
            tokens.append(token)
            ends.append(len(raw) > 1 and raw[-1] in ".!?;")
    return tokens, ends


def normalize(total: float) -> float:
    score = total / math.sqrt(total * total + ALPHA)
    return max(-1.0, min(1.0, score))


def _is_negation(pack: LangPack, lower: list[str], j: int) -> bool:
    if pack.is_negation is not None:
        return pack.is_negation(lower, j)
    word = lower[j]
    return word in pack.negations or "n't" in word or "n’t" in word


def _punctuation(text: str) -> float:
    ep = min(text.count("!"), 4) * 0.292
    qm = text.count("?")
    return ep + (0.0 if qm <= 1 else (qm * 0.18 if qm <= 3 else 0.96))


def analyse(
    pack: LangPack, text: str, lexicon: Mapping[str, float] | None = None, overridden: frozenset[str] = frozenset()
) -> tuple[float, list[Contribution]]:
    """Return (compound score in -1..1, contributions). ``lexicon`` replaces ``pack.lexicon`` (overrides)."""
    total, contributions = analyse_raw(pack, text, lexicon, overridden)
    return normalize(total), contributions


def analyse_raw(
    pack: LangPack, text: str, lexicon: Mapping[str, float] | None = None, overridden: frozenset[str] = frozenset()
) -> tuple[float, list[Contribution]]:
    """Return (raw valence sum incl. punctuation emphasis, contributions)."""
    lex = pack.lexicon if lexicon is None else lexicon
    tokens, ends = tokenize(pack.prepare(text))
    lower = [t.lower() for t in tokens]
    n = len(tokens)
    caps = sum(1 for t in tokens if t.isupper())
    cap_diff = 0 < caps < n

    # phrase rules first: they claim their tokens
    claimed: set[int] = set()
    contributions: list[Contribution] = []
    if pack.rules and n:
        joined = " ".join(lower)
        matches = (
            (r, m)
            for r in pack.rules
            if not r.triggers or any(t in joined for t in r.triggers)
            for m in r.pattern.finditer(joined)
        )
        for r, m in matches:  # rules listed first win overlaps
            first = joined.count(" ", 0, m.start())
            last = joined.count(" ", 0, max(m.end() - 1, m.start()))
            if any(i in claimed for i in range(first, last + 1)):
                continue
            claimed.update(range(first, last + 1))
            valence, kind, label = r.valence, "rule", m.group(0)
            window = [j for j in range(max(0, first - 3), first) if not any(ends[j:first])]
            if r.negatable and any(lower[j] == "no" or _is_negation(pack, lower, j) for j in window):
                valence, kind = valence * (NEG_FLIP if valence < 0 else N_SCALAR), "negation"
                label = f"not {label}"
            if valence:
                contributions.append(Contribution(label, valence, kind, first))

    for i, (tok, low) in enumerate(zip(tokens, lower, strict=True)):
        if i in claimed or low in pack.boosters or low in pack.skip:
            continue
        if low == "kind" and i + 1 < n and lower[i + 1] == "of":
            continue
        base = pack.lookup(lex, low)
        if base is None:
            continue
        valence = base
        if low == "no" and i + 1 < n and pack.lookup(lex, lower[i + 1]) is not None:
            continue  # "no" negates the next lexicon word instead of scoring itself
        negated = False
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no"):
            negated = True
        if tok.isupper() and cap_diff:
            valence += C_INCR if valence > 0 else -C_INCR
        for k in range(3):
            j = i - (k + 1)
            if j < 0 or ends[j]:
                break
            if pack.lookup(lex, lower[j]) is not None:
                continue
            boost = pack.boosters.get(lower[j], 0.0)
            if boost:
                boost = boost if valence >= 0 else -boost
                if tokens[j].isupper() and cap_diff:
                    boost += C_INCR if valence > 0 else -C_INCR
                valence += boost * (1.0, 0.95, 0.9)[k]
            if _is_negation(pack, lower, j):
                negated = not negated
        kind = "override" if low in overridden else "lexicon"
        if negated:
            valence *= NEG_FLIP if base < 0 else N_SCALAR
            kind = "negation"
        contributions.append(Contribution(tok if kind != "negation" else f"not {tok}", valence, kind, i))

    # "but"/"mais": what comes after dominates
    for c in pack.contrast:
        if c in lower:
            at = lower.index(c)
            for contrib in contributions:
                if contrib.index < at:
                    contrib.valence *= 0.5
                elif contrib.index > at:
                    contrib.valence *= 1.5
            break

    total = sum(c.valence for c in contributions)
    if total:
        punct = _punctuation(text)
        total += punct if total > 0 else -punct
    return total, contributions
