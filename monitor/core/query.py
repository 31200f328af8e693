"""The brand query language: normalization, parsing and evaluation.

A query is what ops write in the config, e.g. ``"acme" OR @acme OR #acme NOT "acme brick"``.

Terms
    ``"exact phrase"`` (also “curly quotes”), ``bare`` words, ``@handle``, ``#hashtag``.
    Matching is case-, accent- and punctuation-insensitive and whole-word: ``acme`` matches "Acme's",
    "ACME!" and "acme.com" but never "acmeville". A bare word with inner punctuation (``acme.com``,
    ``t-mobile``) matches its words in sequence, like a phrase.

Bare words also count hashtags and handles
    ``acme`` matches "acme", "#acme" and "@acme", because listening tools (Brandwatch, Talkwalker,
    Brand24) count "#acme is down" as a mention of acme. ``#acme`` and ``@acme`` are narrower: they match
    only the hashtag, only the handle. A phrase may start with a hashtag or handle ("#acme support"
    matches ``"acme support"``); later words of a phrase must be plain words.

Operators (upper case only, as in Brandwatch; ``and``/``or``/``not`` are ordinary words)
    ``AND`` (also implied between adjacent terms), ``OR``, ``NOT`` (also ``-term``), parentheses.
    NOT binds tightest, then AND, then OR: ``a b OR c`` is ``(a AND b) OR c``.

NOT excludes from its whole group
    A NOT term excludes from the entire group it is written in (the whole query, or the enclosing
    parentheses), wherever it stands in that group. So ``"acme" OR @acme NOT "acme brick"`` means
    ``("acme" OR @acme) AND NOT "acme brick"``: what users mean, and how Google's ``-term`` and listening
    tools behave. Strict precedence would read it as ``"acme" OR (@acme AND NOT "acme brick")`` and
    silently keep every "acme brick" post. For a local exclusion, use parentheses: ``(a NOT b) OR c``.
    Because of this, ``OR NOT x`` is rejected (it would mean "or anything without x"), and a group made
    only of NOT terms is rejected (it would match every text on the internet).

Normalized text (see `normalize`) is what both queries and texts are reduced to before matching.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from monitor.core.errors import QueryError

TermKind = Literal["word", "phrase", "handle", "hashtag"]

_SIGILS = {"@": "handle", "#": "hashtag"}
_SIGIL_OF = {"handle": "@", "hashtag": "#"}
_OPEN_QUOTES = '"\u201c\u201d\u201e'  # straight and curly: configs get pasted from documents
_CLOSE_QUOTES = '"\u201c\u201d'
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_CJK_GAP = re.compile(f"(?<=[{_CJK_CLASS}]) (?=[{_CJK_CLASS}])")
_ASCII_WORD = re.compile(r"(?<![a-z0-9_])[#@]?[a-z0-9_]+")  # a sigil counts only at the start of a word
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019\u02bc]s\b", re.IGNORECASE)


def _is_word_char(ch: str) -> bool:
    """Letters, digits, spacing marks and ``_`` (part of handles and hashtags) make up words."""
    return ch == "_" or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Mc"


def normalize(text: str) -> str:
    """Reduce text to the canonical form matched against: "Acme's Support #Café @ACME!" -> `` acme support #cafe @acme ``.

    Casefolded; NFKD with combining marks dropped (so ``cafe`` matches "Café" and full-width letters match
    ASCII); possessive ``'s`` dropped so ``"acme support"`` matches "Acme's support"; invisible format
    characters (zero-width joiners, soft hyphens, bidi marks) removed so they cannot split a word; every
    other non-word character becomes a space, except ``@``/``#`` at the start of a word; CJK characters
    become one-character words because those scripts do not separate words with spaces. The result has
    single spaces and a leading and trailing space, so searching for ``" term "`` is a whole-word search.
    """
    text = _POSSESSIVE.sub("", text)
    if text.isascii():  # most posts: a regex does in C what the loop below does per character
        return " " + "".join(w + " " for w in _ASCII_WORD.findall(text.lower()))
    # NFKD on both sides of casefold: compatibility forms can decompose to capitals ("ℌ" -> "H"), and
    # casefolding can produce composed characters again.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    out: list[str] = [" "]
    pending_sigil = ""
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Mn" or cat == "Cf":
            continue
        if _is_word_char(ch):
            if _CJK.match(ch):
                if out[-1] != " ":
                    out.append(" ")
                out.extend((pending_sigil, ch, " "))
            else:
                out.extend((pending_sigil, ch) if out[-1] == " " else (ch,))
            pending_sigil = ""
        elif ch in _SIGILS and out[-1] == " ":
            pending_sigil = ch  # kept only if a word follows directly: "# acme" is not a hashtag
        else:
            pending_sigil = ""
            if out[-1] != " ":
                out.append(" ")
    if out[-1] != " ":
        out.append(" ")
    return "".join(out)


@dataclass(frozen=True)
class Term:
    """One thing to look for. ``text`` is normalized and without its sigil (``Term("handle", "acme")``)."""

    kind: TermKind
    text: str

    def __post_init__(self) -> None:
        # Refuse non-normalized text: such a term could never match, and nothing would say why.
        if self.kind not in ("word", "phrase", "handle", "hashtag"):
            raise ValueError(f"unknown term kind {self.kind!r}")
        canonical = normalize(self.text).strip()
        if not self.text or canonical != self.text or self.text[0] in _SIGILS:
            raise ValueError(f"term text must be normalized and without @/#: {self.text!r}")
        if self.kind in _SIGIL_OF and " " in _CJK_GAP.sub("", self.text):
            raise ValueError(f"a {self.kind} is a single word: {self.text!r}")

    def __str__(self) -> str:
        shown = _CJK_GAP.sub("", self.text)
        if self.kind == "phrase":
            return f'"{shown}"'
        return _SIGIL_OF.get(self.kind, "") + shown


class Node:
    """Base of the query AST; `evaluate` is the method so evaluation is one virtual call per node."""

    __slots__ = ()

    def evaluate(self, found: set[Term] | frozenset[Term]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TermNode(Node):
    term: Term

    def evaluate(self, found: set[Term] | frozenset[Term]) -> bool:
        return self.term in found

    def __str__(self) -> str:
        return str(self.term)


@dataclass(frozen=True, slots=True)
class And(Node):
    children: tuple[Node, ...]

    def evaluate(self, found: set[Term] | frozenset[Term]) -> bool:
        return all(child.evaluate(found) for child in self.children)

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Or(Node):
    children: tuple[Node, ...]

    def evaluate(self, found: set[Term] | frozenset[Term]) -> bool:
        return any(child.evaluate(found) for child in self.children)

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node

    def evaluate(self, found: set[Term] | frozenset[Term]) -> bool:
        return not self.child.evaluate(found)

    def __str__(self) -> str:
        return f"NOT {self.child}"


def evaluate(node: Node, found: set[Term] | frozenset[Term]) -> bool:
    """Whether the query holds for a text in which exactly the terms in `found` occur."""
    return node.evaluate(found)


def terms_of(node: Node) -> set[Term]:
    """Every term of the query, negated ones included (the matcher must look for those too)."""
    return {t for t, _depth in _walk_depth(node, 0)}


def positive_terms(node: Node) -> list[Term]:
    """Terms not under any NOT, in query order: a text can only match if it holds one of them."""
    return list(dict.fromkeys(t for t, depth in _walk_depth(node, 0) if depth == 0))


def negated_terms(node: Node) -> list[Term]:
    """Terms under a NOT, in query order: the ones that can exclude a text."""
    return list(dict.fromkeys(t for t, depth in _walk_depth(node, 0) if depth > 0))


def _walk_depth(node: Node, depth: int) -> list[tuple[Term, int]]:
    if isinstance(node, TermNode):
        return [(node.term, depth)]
    if isinstance(node, Not):
        return _walk_depth(node.child, depth + 1)
    assert isinstance(node, And | Or)
    return [pair for child in node.children for pair in _walk_depth(child, depth)]


def _make_term(kind: TermKind, raw: str, query: str, position: int) -> Term:
    """Build a term from what the user wrote, or say precisely why it cannot be matched."""
    text = normalize(raw).strip()
    if kind in _SIGIL_OF:
        sigil = _SIGIL_OF[kind]
        if not text:
            raise QueryError(f"{sigil} must be followed by a {kind} name", query, position)
        text = text.lstrip("@#")
        if " " in _CJK_GAP.sub("", text) or not text:
            raise QueryError(f"{sigil}{raw} is not a valid {kind} (letters, digits and _ only)", query, position)
        return Term(kind, text)
    text = " ".join(w.lstrip("@#") for w in text.split())
    if not raw.strip():
        raise QueryError("empty phrase" if kind == "phrase" else "empty term", query, position)
    if not text:
        raise QueryError(f"nothing to match in {raw!r} (only letters and digits are matched)", query, position)
    return Term(kind, text)


def parse_keyword(word: str) -> Term:
    """A route keyword (``breach``, ``data leak``, ``"data leak"``, ``@acme``, ``#acme``) as one Term.

    Several words make a phrase, because route lists mean "this wording", not "all these words somewhere".
    """
    raw = word.strip()
    if len(raw) >= 2 and raw[0] in _OPEN_QUOTES and raw[-1] in _CLOSE_QUOTES:
        return _make_term("phrase", raw[1:-1], word, 0)
    if raw[:1] in _SIGILS and " " not in raw:
        return _make_term(_SIGILS[raw[0]], raw[1:], word, 0)  # type: ignore[arg-type]
    if not raw:
        raise QueryError("empty keyword", word, 0)
    term = _make_term("word", raw, word, 0)
    return Term("phrase", term.text) if " " in raw.strip() else term


# --- parsing -------------------------------------------------------------------------------------------

_OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "(", ")", "AND", "OR", "NOT" or "TERM"
    pos: int
    term: Term | None = None


def _tokenize(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            toks.append(_Tok(ch, i))
            i += 1
        elif ch in _OPEN_QUOTES:
            end = next((j for j in range(i + 1, n) if query[j] in _CLOSE_QUOTES), -1)
            if end < 0:
                raise QueryError("unclosed quote opened", query, i)
            toks.append(_Tok("TERM", i, _make_term("phrase", query[i + 1:end], query, i)))
            i = end + 1
        elif ch == "-" and (i + 1 == n or query[i + 1].isspace() or query[i + 1] == ")"):
            raise QueryError("'-' must be attached to the term it excludes, as in -word", query, i)
        elif ch == "-":
            toks.append(_Tok("NOT", i))  # "-term" prefix; a hyphen inside a word never gets here
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in "()" and query[j] not in _OPEN_QUOTES:
                j += 1
            word = query[i:j]
            if word in _OPERATORS:
                toks.append(_Tok(word, i))
            elif word[0] in _SIGILS:
                toks.append(_Tok("TERM", i, _make_term(_SIGILS[word[0]], word[1:], query, i)))  # type: ignore[arg-type]
            else:
                toks.append(_Tok("TERM", i, _make_term("word", word, query, i)))
            i = j
    return toks


def parse_query(query: str) -> Node:
    """Parse a brand query into an AST; raise `QueryError` with the 0-based position of the first problem."""
    toks = _tokenize(query)
    if not toks:
        raise QueryError("empty query", query, 0)
    node, end = _parse_group(query, toks, 0, open_pos=None)
    if end < len(toks):  # only a ")" stops a group early
        raise QueryError("unmatched closing parenthesis", query, toks[end].pos)
    return node


def _parse_group(query: str, toks: list[_Tok], i: int, open_pos: int | None) -> tuple[Node, int]:
    """Parse up to the ``)`` closing this group (or the end); NOT items are kept apart as exclusions."""
    positives: list[tuple[str, int, Node]] = []  # (connector before it, connector position, operand)
    exclusions: list[Node] = []
    connector: tuple[str, int] | None = None
    first_pos = toks[i].pos if i < len(toks) else len(query)
    while i < len(toks) and toks[i].kind != ")":
        tok = toks[i]
        if tok.kind in ("AND", "OR"):
            if not positives and not exclusions:
                raise QueryError(f"{tok.kind} needs a term before it", query, tok.pos)
            if connector:
                raise QueryError(f"{tok.kind} cannot follow {connector[0]}", query, tok.pos)
            connector = (tok.kind, tok.pos)
            i += 1
            continue
        negated = tok.kind == "NOT"
        if negated:
            if connector and connector[0] == "OR":
                raise QueryError("OR NOT would match every text without the term; to exclude it from the "
                                 "whole group write 'a NOT b', or use parentheses", query, tok.pos)
            i += 1
            if i == len(toks) or toks[i].kind not in ("TERM", "("):
                raise QueryError("NOT needs a term after it", query, tok.pos)
        operand, i = _parse_operand(query, toks, i)
        if negated:
            exclusions.append(operand)
        else:
            kind, pos = connector or ("AND", toks[i - 1].pos)
            positives.append((kind, pos, operand))
        connector = None
    if connector:
        raise QueryError(f"{connector[0]} needs a term after it", query, connector[1])
    if open_pos is not None and i == len(toks):
        raise QueryError("unclosed parenthesis opened", query, open_pos)
    if not positives and not exclusions:
        raise QueryError("empty parentheses", query, open_pos if open_pos is not None else 0)
    if not positives:
        raise QueryError("only NOT terms here: that would match every text on the internet without them; "
                         "add a term to look for", query, first_pos)
    if positives[0][0] == "OR":
        raise QueryError("OR needs a term before it (NOT terms exclude from the whole group; they are not "
                         "alternatives)", query, positives[0][1])
    runs: list[list[Node]] = []
    for kind, _pos, operand in positives:
        if kind == "OR" or not runs:
            runs.append([])
        runs[-1].append(operand)
    node = _combine(Or, [_combine(And, run) for run in runs])
    if exclusions:
        node = _combine(And, [node, *(Not(e) for e in exclusions)])
    return node, i


def _parse_operand(query: str, toks: list[_Tok], i: int) -> tuple[Node, int]:
    tok = toks[i]
    if tok.kind == "TERM":
        assert tok.term is not None
        return TermNode(tok.term), i + 1
    node, i = _parse_group(query, toks, i + 1, open_pos=tok.pos)
    return node, i + 1  # past the ")" that _parse_group stopped at


def _combine(cls: type[And] | type[Or], nodes: list[Node]) -> Node:
    """Build a flat n-ary node: nested ANDs in ANDs add nothing but evaluation depth."""
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, cls) else (node,))
    return flat[0] if len(flat) == 1 else cls(tuple(flat))
