"""The query language: the YAML table of (query, text, expected), parse errors with positions, normalization.

Matching here goes through `reference_find`, a deliberately naive regex search over the normalized text, so
these tests pin the language itself; tests/test_matcher.py checks the automaton agrees with this reference.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.errors import ConfigError, QueryError
from monitor.core.query import (
    And,
    Not,
    Or,
    Term,
    TermNode,
    evaluate,
    negated_terms,
    normalize,
    parse_keyword,
    parse_query,
    positive_terms,
    terms_of,
)

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "data" / "query_cases.yaml").read_text("utf-8"))


def reference_pattern(term: Term) -> re.Pattern[str]:
    """The slow, obviously-correct meaning of a term over normalized text (single spaces, space-padded)."""
    sigil = {"word": "[#@]?", "phrase": "[#@]?", "handle": "@", "hashtag": "#"}[term.kind]
    return re.compile(" " + sigil + re.escape(term.text) + " ")


def reference_find(terms: set[Term], text: str) -> set[Term]:
    normalized = normalize(text)
    return {t for t in terms if reference_pattern(t).search(normalized)}


def holds(query: str, text: str) -> bool:
    node = parse_query(query)
    return evaluate(node, reference_find(terms_of(node), text))


@pytest.mark.parametrize("case", CASES["matches"], ids=lambda c: c["why"])
def test_query_table(case: dict[str, Any]) -> None:
    assert holds(case["query"], case["text"]) is case["expected"], (case["query"], case["text"])


@pytest.mark.parametrize("case", CASES["parse_errors"], ids=lambda c: repr(c["query"]))
def test_parse_errors_report_position(case: dict[str, Any]) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(case["query"])
    assert info.value.position == case["position"], info.value
    assert case["message"] in info.value.reason
    assert info.value.query == case["query"]


def test_query_error_message_reads_well_and_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_query('(acme) "brick')
    assert "unclosed quote opened at position 7" in str(info.value)


def test_only_not_terms_says_why() -> None:
    with pytest.raises(QueryError, match="every text"):
        parse_query("NOT foo")


# --- structure: precedence and exclusion scope ---------------------------------------------------------

@pytest.mark.parametrize("query, shape", [
    ("a b OR c", "((a AND b) OR c)"),
    ("a OR b c", "(a OR (b AND c))"),
    ("a AND b AND c", "(a AND b AND c)"),
    ("(a OR b) c", "((a OR b) AND c)"),
    ('"acme" OR @acme OR #acme NOT "acme brick"', '(("acme" OR @acme OR #acme) AND NOT "acme brick")'),
    ("a NOT b OR c", "((a OR c) AND NOT b)"),
    ("(a NOT b) OR c", "((a AND NOT b) OR c)"),
    ("a -b -c", "(a AND NOT b AND NOT c)"),
    ("a NOT (b OR c)", "(a AND NOT (b OR c))"),
    ("a-b", "a b"),
])
def test_precedence_and_exclusion_scope(query: str, shape: str) -> None:
    assert str(parse_query(query)) == shape


def test_ast_nodes() -> None:
    a, b = Term("word", "a"), Term("word", "b")
    assert parse_query("a NOT b") == And((TermNode(a), Not(TermNode(b))))
    assert parse_query("a OR b") == Or((TermNode(a), TermNode(b)))


def test_terms_of_includes_negated_terms() -> None:
    node = parse_query('acme OR @acme NOT "acme brick"')
    assert terms_of(node) == {Term("word", "acme"), Term("handle", "acme"), Term("phrase", "acme brick")}
    assert positive_terms(node) == [Term("word", "acme"), Term("handle", "acme")]
    assert negated_terms(node) == [Term("phrase", "acme brick")]


# --- terms and keywords --------------------------------------------------------------------------------

@pytest.mark.parametrize("keyword, term, shown", [
    ("breach", Term("word", "breach"), "breach"),
    ("Hacked!", Term("word", "hacked"), "hacked"),
    ("data leak", Term("phrase", "data leak"), '"data leak"'),
    ('"data leak"', Term("phrase", "data leak"), '"data leak"'),
    ("  Données  ", Term("word", "donnees"), "donnees"),
    ("@Acme", Term("handle", "acme"), "@acme"),
    ("#Acme", Term("hashtag", "acme"), "#acme"),
    ("acme.com", Term("word", "acme com"), "acme com"),
    ("苹果", Term("word", "苹 果"), "苹果"),
])
def test_parse_keyword(keyword: str, term: Term, shown: str) -> None:
    assert parse_keyword(keyword) == term
    assert str(parse_keyword(keyword)) == shown


@pytest.mark.parametrize("keyword", ["", "   ", '""', "!!!", "@", "#"])
def test_parse_keyword_rejects_what_cannot_match(keyword: str) -> None:
    with pytest.raises(QueryError):
        parse_keyword(keyword)


@pytest.mark.parametrize("kind, text", [("word", "Acme"), ("word", ""), ("handle", "@acme"),
                                        ("hashtag", "two words"), ("word", " acme"), ("bogus", "acme")])
def test_term_refuses_text_that_could_never_match(kind: Any, text: str) -> None:
    with pytest.raises(ValueError):
        Term(kind, text)


def test_terms_are_hashable_values() -> None:
    assert {Term("word", "acme"), Term("word", "acme")} == {Term("word", "acme")}
    assert Term("word", "acme") != Term("hashtag", "acme")


# --- normalization -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Acme's Support!", " acme support "),
    ("  CAFÉ -- crème\tbrûlée ", " cafe creme brulee "),
    ("#Café @ACME_help me@acme.com", " #cafe @acme_help me acme com "),
    ("# lone @ sigils", " lone sigils "),
    ("so\u00adft\u200bware\u200d", " software "),
    ("苹果公司", " 苹 果 公 司 "),
    ("", " "),
    ("🚀🔥", " "),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_is_idempotent_and_well_formed(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once.startswith(" ") and once.endswith(" ") and "  " not in once


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*'ab "()#@-', " AND ", " OR ", " NOT ", "é", "\u200b", "ß", "ℌ", "“"]))
       .map("".join))
def test_parse_query_only_ever_raises_query_error(query: str) -> None:
    try:
        node = parse_query(query)
    except QueryError as err:
        assert 0 <= err.position <= len(query)
    else:
        assert positive_terms(node), "a parsed query always has a term to trigger on"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_agrees_with_the_unicode_path(text: str) -> None:
    # "\u00a0" is not ASCII, so it forces the general path without changing the words
    assert normalize(text) == normalize(text + "\u00a0")
