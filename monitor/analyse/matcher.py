"""One-pass matching of every brand query (and route keyword list) against a text.

Why an automaton: with a regex or a loop per keyword, each new brand slows every mention. Here all terms
of all brands go into one Aho-Corasick automaton, built once at config load; a text is normalized once and
scanned once, whatever the number of keywords. Only brands with at least one *positive* term in the text
have their query evaluated (a query with no positive term hit cannot hold: the parser refuses queries
made only of NOT terms), so the evaluation cost follows the number of hits, not of brands.

Thread safety: the automaton and every table here are built in ``__init__`` and never mutated after;
each `find` walks its own iterator, so any number of threads may match concurrently. To change the
configuration, build a new matcher and swap the reference.

Key layout: a hashtag or handle in normalized text (`` #acme ``) is split into sigil and word
(`` # acme ``) for the scan, so one automaton key `` acme `` finds the plain word, the hashtag and the
handle (bare words count them, see `monitor.core.query`), while `` # acme `` and `` @ acme `` find only the
hashtag and only the handle. Spaces on both ends of every key make every hit whole-word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ahocorasick

from monitor.core.errors import QueryError
from monitor.core.query import Node, Term, negated_terms, normalize, parse_query, positive_terms, terms_of


def _key(term: Term) -> str:
    if term.kind == "handle":
        return f" @ {term.text} "
    if term.kind == "hashtag":
        return f" # {term.text} "
    return f" {term.text} "  # word and phrase: a phrase is a sequence of words


def _scannable(normalized: str) -> str:
    # Sigils only ever follow a space in normalized text, so this is exact.
    return normalized.replace(" #", " # ").replace(" @", " @ ")


class TermIndex:
    """All occurrences of any of a fixed set of terms, found in one scan of the text."""

    def __init__(self, terms: Iterable[Term]) -> None:
        by_key: dict[str, set[Term]] = {}
        for term in terms:
            by_key.setdefault(_key(term), set()).add(term)
        self.terms: frozenset[Term] = frozenset(t for ts in by_key.values() for t in ts)
        self._automaton: Any = None
        if by_key:  # an automaton without keys cannot be searched
            automaton = ahocorasick.Automaton()
            for key, ts in by_key.items():
                automaton.add_word(key, frozenset(ts))
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, text: str) -> set[Term]:
        """The terms present in `text` (raw, as collected)."""
        return self.find_normalized(normalize(text))

    def find_normalized(self, normalized: str) -> set[Term]:
        """Same as `find` for text already passed through `normalize`, to normalize once for many indexes."""
        found: set[Term] = set()
        if self._automaton is None:
            return found
        for _end, terms in self._automaton.iter(_scannable(normalized)):
            found.update(terms)
        return found


@dataclass(frozen=True)
class BrandMatch:
    """A brand whose query holds; `terms` are the positive terms seen, for "matched because ..." lines."""

    brand: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class _Brand:
    name: str
    query: Node
    positives: tuple[Term, ...]
    negatives: tuple[Term, ...]


class BrandMatcher:
    """Every configured brand query, compiled once into one `TermIndex`."""

    def __init__(self, queries: Mapping[str, str]) -> None:
        brands: list[_Brand] = []
        for name, query in queries.items():
            try:
                node = parse_query(query)
            except QueryError as err:
                err.add_note(f"in the query of brand {name!r}")
                raise
            positives = tuple(positive_terms(node))
            negatives = tuple(t for t in negated_terms(node) if t not in positives)
            brands.append(_Brand(name, node, positives, negatives))
        self._brands = tuple(brands)
        self._index = TermIndex(t for b in brands for t in terms_of(b.query))
        triggers: dict[Term, list[int]] = {}
        for i, brand in enumerate(brands):
            for term in brand.positives:
                triggers.setdefault(term, []).append(i)
        self._triggers = {term: tuple(ids) for term, ids in triggers.items()}

    @property
    def brands(self) -> tuple[str, ...]:
        return tuple(b.name for b in self._brands)

    @property
    def index(self) -> TermIndex:
        return self._index

    def match(self, text: str) -> list[BrandMatch]:
        """Brands whose query holds for `text`, in config order."""
        found = self._index.find(text)
        candidates: set[int] = set()
        for term in found:
            candidates.update(self._triggers.get(term, ()))
        matches = []
        for i in sorted(candidates):
            brand = self._brands[i]
            if brand.query.evaluate(found):
                matches.append(BrandMatch(brand.name, tuple(str(t) for t in brand.positives if t in found)))
        return matches

    def explain(self, text: str) -> list[dict[str, Any]]:
        """Every brand, in config order, with why it did or did not match (for ``monitor explain``).

        ``excluded_by`` lists the negated terms present in the text, whether or not the brand still matched
        through another branch of its query.
        """
        found = self._index.find(text)
        return [
            {
                "brand": brand.name,
                "query": str(brand.query),
                "matched": brand.query.evaluate(found),
                "terms_found": [str(t) for t in brand.positives if t in found],
                "excluded_by": [str(t) for t in brand.negatives if t in found],
            }
            for brand in self._brands
        ]
