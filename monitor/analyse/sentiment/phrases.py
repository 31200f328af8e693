"""Phrase rules ("stopped working", "ne fonctionne plus") matched in one pass over a token stream.

Why not one regex per rule (or one big alternation): scoring must stay at least half as fast as bare VADER,
and a Python regex tried at every word start costs time in proportion to the number of rules. Instead each
rule's possible *first words* are worked out once from its own regex (``re._parser``), and a text only
runs the rules whose first word it actually contains: a dict lookup per token, then an anchored
``match`` for the rare candidates. Rules whose first word cannot be enumerated (``\\d+ weeks``) go into
one combined fallback pattern that scans the text once. Adding rules therefore costs almost nothing per
text.

Overlaps resolve leftmost-first, then by rule order: the earliest complaint phrase in the text claims its
tokens, and the first-listed rule wins at the same position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

try:  # Python 3.11+: the regex parser moved; it is stable in practice and only used at import time
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse

_BOUNDARY_BEFORE = r"(?<![\w'’])"
_BOUNDARY_AFTER = r"(?![\w'’])"
_SPACE = ord(" ")


@dataclass(frozen=True)
class Rule:
    """A phrase pattern with a valence on VADER's -4..4 scale; ``negatable`` rules look 3 tokens back."""

    regex: str
    valence: float
    label: str
    negatable: bool = True


def rule(regex: str, valence: float, label: str | None = None, negatable: bool = True) -> Rule:
    """A rule over the lower-cased, space-joined tokens; the label defaults to the regex text."""
    re.compile(regex)  # fail at import time on a bad pattern, naming it
    return Rule(regex, valence, label or regex, negatable)


class _Wild(Exception):
    """The first word of a pattern is not a finite set of literal words."""


def _walk(items: Iterable[tuple[object, object]], state: set[str]) -> tuple[set[str], set[str]]:
    """Follow a parsed pattern from ``state`` (open word prefixes); return (finished first words, open)."""
    done: set[str] = set()
    for op, av in items:
        if not state:
            break
        name = str(op)
        if name == "LITERAL":
            assert isinstance(av, int)
            if av == _SPACE:
                done |= state
                state = set()
            else:
                state = {s + chr(av) for s in state}
        elif name == "IN":
            assert isinstance(av, list)
            if any(str(o) != "LITERAL" for o, _ in av):
                raise _Wild
            branches = [[("LITERAL", c)] for _, c in av]
            done, state = _union(branches, state, done)
        elif name == "BRANCH":
            assert isinstance(av, tuple)
            done, state = _union(av[1], state, done)
        elif name == "SUBPATTERN":
            assert isinstance(av, tuple)
            d, state = _walk(av[-1], state)
            done |= d
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            assert isinstance(av, tuple)
            low, high, inner = av
            if (low, high) != (0, 1):
                raise _Wild
            d, taken = _walk(inner, set(state))
            done |= d
            state = state | taken
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero-width: does not change the words (over-inclusion is harmless)
        else:
            raise _Wild
    return done, state


def _union(branches: Iterable[Sequence[tuple[object, object]]], state: set[str], done: set[str]) -> tuple[set[str], set[str]]:
    opened: set[str] = set()
    for branch in branches:
        d, s = _walk(branch, set(state))
        done = done | d
        opened |= s
    return done, opened


def first_words(regex: str) -> frozenset[str] | None:
    """Every word a match of ``regex`` can start with, or None when that set is not finite."""
    try:
        done, still_open = _walk(_sre_parse.parse(regex), {""})
    except _Wild:
        return None
    words = done | still_open
    if "" in words:
        return None
    return frozenset(words)


class PhraseMatcher:
    """All of a language's rules, indexed by first word; its only state after construction is a cache of compiled
    patterns (thread-safe, see :meth:`_pattern`)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        by_word: dict[str, list[int]] = {}
        wild: list[int] = []
        for i, r in enumerate(self.rules):
            words = first_words(r.regex)
            if words is None:
                wild.append(i)
            else:
                for w in words:
                    by_word.setdefault(w, []).append(i)
        # one anchored alternation per first word; an empty named group at the end of each branch tells
        # which rule matched without hiding the branch's first literal from the regex engine's fast skip.
        # Compiled on the first text that holds the word (:meth:`_pattern`), not here: the seven languages have
        # ≈2,500 first words and compiling them all was ≈0.5 s of every process that builds a Scorer, while a
        # short run (`monitor score`, a test, a daemon's first minutes) meets a few dozen of them
        self._ids = {w: tuple(ids) for w, ids in by_word.items()}
        self._by_word: dict[str, re.Pattern[str]] = {}
        self._wild = self._compile(wild) if wild else None

    def _compile(self, ids: Sequence[int]) -> re.Pattern[str]:
        # each rule in its own group: a rule with a top-level "|" would otherwise tag only its last branch
        alts = "|".join(f"(?:{self.rules[i].regex})(?P<r{i}>)" for i in ids)
        return re.compile(f"{_BOUNDARY_BEFORE}(?:{alts}){_BOUNDARY_AFTER}")

    def _pattern(self, word: str) -> re.Pattern[str]:
        """The alternation of ``word``'s rules, compiled once. Threads racing here compile the same pattern twice
        at worst and keep either (one dict store each), so the matcher stays safe to share without a lock."""
        pattern = self._by_word.get(word)
        if pattern is None:
            pattern = self._by_word[word] = self._compile(self._ids[word])
        return pattern

    def find(self, lower: Sequence[str]) -> list[tuple[Rule, int, int, str]]:
        """Non-overlapping matches as (rule, first token, last token, matched text), left to right."""
        ids = self._ids
        hits = [i for i, tok in enumerate(lower) if tok in ids]
        if not hits and self._wild is None:
            return []
        joined = " ".join(lower)
        starts: list[int] = []
        pos = 0
        for tok in lower:
            starts.append(pos)
            pos += len(tok) + 1
        found: list[tuple[int, int, int, str]] = []  # (start offset, rule id, end offset, text)
        compiled = self._by_word
        for i in hits:
            word = lower[i]
            m = (compiled.get(word) or self._pattern(word)).match(joined, starts[i])
            if m is not None and m.lastgroup is not None:
                found.append((m.start(), int(m.lastgroup[1:]), m.end(), m.group(0)))
        if self._wild is not None:
            for m in self._wild.finditer(joined):
                if m.lastgroup is not None:
                    found.append((m.start(), int(m.lastgroup[1:]), m.end(), m.group(0)))
        if not found:
            return []
        found.sort()
        out: list[tuple[Rule, int, int, str]] = []
        claimed_to = -1
        for start, rid, end, text in found:
            if start < claimed_to:
                continue
            claimed_to = end
            first = joined.count(" ", 0, start)
            last = first + text.count(" ")
            out.append((self.rules[rid], first, last, text))
        return out
