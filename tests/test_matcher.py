"""The one-pass matcher: many brands at once, config order, explanations, and agreement with the slow
reference of tests/test_query.py on random texts, whatever the number of configured terms."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.analyse.matcher import BrandMatch, BrandMatcher, TermIndex
from monitor.core.errors import QueryError
from monitor.core.query import Term, evaluate, normalize, parse_keyword, parse_query, terms_of
from tests.test_query import CASES, reference_find

BRANDS = {
    "acme": '"acme" OR @acme OR #acme NOT "acme brick"',
    "globex": "globex OR (hank scorpio)",
    "cafe": "café -closed",
    "initech": "initech (tps OR report)",
}


@pytest.mark.parametrize("case", CASES["matches"], ids=lambda c: c["why"])
def test_query_table_through_the_automaton(case: dict[str, Any]) -> None:
    matched = BrandMatcher({"brand": case["query"]}).match(case["text"])
    assert bool(matched) is case["expected"], (case["query"], case["text"])


def test_several_brands_in_one_text() -> None:
    matcher = BrandMatcher(BRANDS)
    text = "Hank Scorpio bought an Acme anvil at the Café; initech TPS reports everywhere"
    assert [m.brand for m in matcher.match(text)] == ["acme", "globex", "cafe", "initech"]


def test_results_follow_config_order_not_text_order() -> None:
    matcher = BrandMatcher({"zeta": "zeta", "alpha": "alpha", "mid": "mid"})
    assert [m.brand for m in matcher.match("mid alpha zeta")] == ["zeta", "alpha", "mid"]
    assert matcher.brands == ("zeta", "alpha", "mid")


def test_match_says_which_positive_terms_matched() -> None:
    matcher = BrandMatcher(BRANDS)
    assert matcher.match("thanks @ACME for nothing") == [BrandMatch("acme", ('"acme"', "@acme"))]
    assert matcher.match("hank and scorpio") == [BrandMatch("globex", ("hank", "scorpio"))]


def test_exclusion_drops_only_its_brand() -> None:
    matcher = BrandMatcher(BRANDS)
    assert [m.brand for m in matcher.match("acme brick near globex")] == ["globex"]
    assert matcher.match("café closed today") == []


def test_no_brands_and_no_hits() -> None:
    assert BrandMatcher({}).match("acme") == []
    assert BrandMatcher(BRANDS).match("") == []
    assert BrandMatcher(BRANDS).match("nothing to see 🚀 \u200f\u202e") == []


def test_explain_lists_found_and_excluding_terms_for_every_brand() -> None:
    report = BrandMatcher(BRANDS).explain("Acme brick and #acme, globex")
    assert [r["brand"] for r in report] == list(BRANDS)
    acme, globex, cafe, _initech = report
    assert acme["matched"] is False
    assert acme["terms_found"] == ['"acme"', "#acme"]
    assert acme["excluded_by"] == ['"acme brick"']
    assert acme["query"] == '(("acme" OR @acme OR #acme) AND NOT "acme brick")'
    assert globex == {"brand": "globex", "query": "(globex OR (hank AND scorpio))", "matched": True,
                      "terms_found": ["globex"], "excluded_by": []}
    assert cafe["matched"] is False and cafe["terms_found"] == [] and cafe["excluded_by"] == []


def test_bad_query_raises_query_error_noting_the_brand() -> None:
    with pytest.raises(QueryError) as info:
        BrandMatcher({"ok": "acme", "broken": "(acme"})
    assert info.value.position == 0
    assert any("broken" in note for note in info.value.__notes__)


# --- TermIndex, as routes use it -----------------------------------------------------------------------

def test_term_index_with_route_keywords() -> None:
    index = TermIndex(parse_keyword(k) for k in ["breach", "hacked", "data leak", "@acme", "#outage"])
    found = index.find("Massive DATA-LEAK after @Acme was HACKED! #Outage #breach")
    assert {str(t) for t in found} == {'"data leak"', "@acme", "hacked", "#outage", "breach"}
    assert index.find("breaches and leaks of data") == set()
    assert index.find_normalized(normalize("breach")) == {Term("word", "breach")}


def test_empty_term_index_finds_nothing() -> None:
    assert TermIndex([]).find("anything") == set()


def test_word_and_phrase_with_the_same_words_are_both_found() -> None:
    word, phrase = Term("word", "acme"), Term("phrase", "acme")
    assert TermIndex([word, phrase]).find("#acme") == {word, phrase}


def _synthetic_terms(n: int, seed: int) -> list[Term]:
    rng = random.Random(seed)
    kinds = ["word", "phrase", "handle", "hashtag"]
    terms = []
    for i in range(n):
        kind = kinds[i % 4]
        word = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 6)))
        terms.append(Term(kind, f"{word} {rng.choice(VOCAB)}" if kind == "phrase" else word))  # type: ignore[arg-type]
    return terms


VOCAB = ["acme", "brick", "road", "cafe", "globex", "ab", "abc", "a", "b"]
SHARED = [parse_keyword(k) for k in ["acme", "#acme", "@acme", "acme brick", "brick road", "cafe", "ab",
                                     "#abc", "b", "@globex"]]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([*VOCAB, "#acme", "@acme", "Café", "ACME's", "abcd", "ab-c", "#ab"]),
                max_size=12).map(" ".join))
def test_thousand_terms_find_the_same_shared_terms_as_ten(text: str) -> None:
    small, large = TermIndex(SHARED), TermIndex(SHARED + _synthetic_terms(990, seed=1))
    assert len(large) > 900
    assert large.find(text) & set(SHARED) == small.find(text)


# --- agreement with the reference ----------------------------------------------------------------------

ATOMS = ["acme", "brick", "road", "cafe", "@acme", "#acme", '"acme brick"', '"brick road"', "ab"]


@st.composite
def queries(draw: st.DrawFn, depth: int = 2) -> str:
    """Random queries, parenthesized subqueries included; some are invalid and get filtered out."""
    parts = []
    for i in range(draw(st.integers(1, 4))):
        if i:
            parts.append(draw(st.sampled_from(["", "AND ", "OR ", "OR "])))
        if depth and draw(st.integers(0, 4)) == 0:
            atom = f"({draw(queries(depth=depth - 1))})"
        else:
            atom = draw(st.sampled_from(ATOMS))
        parts.append(draw(st.sampled_from(["", "", "NOT ", "-"])) + atom + " ")
    return "".join(parts)


def valid(query: str) -> bool:
    try:
        parse_query(query)
    except QueryError:
        return False
    return True


TEXT_PIECES = ["acme", "Acme", "ACME's", "acmeville", "#acme", "@Acme", "#acmefail", "brick", "bricks",
               "road", "Café", "cafe", "ab", "a", "b", "acme-brick", "brick, road", "🚀", "\u200b", "é"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(queries().filter(valid), min_size=1, max_size=5),
       st.lists(st.tuples(st.sampled_from(TEXT_PIECES), st.sampled_from([" ", "  ", ", ", "-", "!", "\n"])),
                max_size=10).map(lambda pairs: "".join(p + sep for p, sep in pairs)))
@example(["acme OR cafe", "brick road"], "Café, brick road")  # hits on a brand's later terms only
@example(["(acme -brick) OR road"], "acme brick road")
def test_matching_agrees_with_the_slow_reference(brand_queries: list[str], text: str) -> None:
    config = {f"brand{i}": q for i, q in enumerate(brand_queries)}
    expected = []
    for name, query in config.items():
        node = parse_query(query)
        if evaluate(node, reference_find(terms_of(node), text)):
            expected.append(name)
    assert [m.brand for m in BrandMatcher(config).match(text)] == expected


def test_concurrent_readers_get_the_same_answers() -> None:
    matcher = BrandMatcher(BRANDS)
    rng = random.Random(7)
    texts = [" ".join(rng.choice(TEXT_PIECES + ["globex", "hank", "scorpio", "initech", "tps"])
                      for _ in range(20)) for _ in range(200)]
    expected = [matcher.match(t) for t in texts]
    failures: list[str] = []

    def worker() -> None:
        for _ in range(5):
            for text, want in zip(texts, expected, strict=True):
                if matcher.match(text) != want:
                    failures.append(text)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
