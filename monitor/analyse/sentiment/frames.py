"""Complaint frames: the shapes that make a plain statement of fact a complaint, in every scored language.

A complaint told as a fact ("ordered on the 3rd, still nothing", "seit zwei Wochen unterwegs", "¿dónde está
mi pedido?") has no sentiment word for a lexicon to find, and adding its words one by one does not
generalise: the next customer uses other words. What such complaints share is a small set of
constructions (time that has passed, a thing that still has not happened, where-is-my, a broken promise,
the Nth repetition, a why-question at a brand, a thing that does not do what it should), each filled by a
language's own function words. ``data/frames.yaml`` is that table; this module turns it into phrase
rules (:class:`~monitor.analyse.sentiment.phrases.Rule`) that each language pack appends *after* its own,
more specific rules, so the engine needs no new code path and scoring stays one pass over the tokens.

A frame's valence is the same in every language (the construction means the same thing); ``kept`` is the
frames' own exception ("as promised", "on time", "thanks again"), scored positive so that the
repetition and expectation frames do not read a kept promise as blame. Patterns are validated when the
table is loaded: an unknown frame, a language missing a frame or a regex that does not compile is an
error naming the language, frame and pattern, at import time rather than as a silent gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from monitor.analyse.sentiment.phrases import Rule

__all__ = ["Frame", "FrameError", "anything_but", "asking", "frame_issue", "frame_rules", "frames", "irony", "irrealis",
           "LANGUAGES"]

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
_SLOTS = ("NUM", "UNIT")
_FILE = "data/frames.yaml"


class FrameError(ValueError):
    """The frame table is malformed; the message names the language, frame and pattern."""


@dataclass(frozen=True)
class Frame:
    name: str
    valence: float
    about: str
    issue: str | None = None   # the issue type a complaint found only by this frame gets


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    """The table, parsed once per process and only read (its accessors were parsing it again, ~36 times per
    start: most of a daemon's start-up, several seconds)."""
    text = resources.files("monitor.analyse.sentiment").joinpath(_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("frames"), dict) or not isinstance(data.get("languages"), dict):
        raise FrameError(f"{_FILE}: needs top-level 'frames' and 'languages' mappings")
    return data


@lru_cache(maxsize=1)
def frames() -> tuple[Frame, ...]:
    """The frames in table order, with their valence and a one-line description (for docs and explain)."""
    out = []
    for name, spec in _load()["frames"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("valence"), int | float):
            raise FrameError(f"{_FILE}: frames.{name}: needs a numeric 'valence'")
        issue = spec.get("issue")
        out.append(Frame(str(name), float(spec["valence"]), str(spec.get("about", "")), str(issue) if issue else None))
    return tuple(out)


def _expand(pattern: str, slots: dict[str, str], where: str) -> str:
    for slot in _SLOTS:
        pattern = pattern.replace("{" + slot + "}", slots[slot])
    if re.search(r"\{[A-Z]+\}", pattern):
        raise FrameError(f"{where}: unknown slot in {pattern!r}; slots are {', '.join(_SLOTS)}")
    if re.search(r" (?:\(\?![^()]*\))?$", pattern):
        raise FrameError(f"{where}: pattern {pattern!r} ends in a space, which can never meet a word boundary")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise FrameError(f"{where}: pattern {pattern!r} does not compile: {exc}") from None
    return pattern


@lru_cache(maxsize=len(LANGUAGES))
def frame_rules(code: str) -> tuple[Rule, ...]:
    """The phrase rules of language ``code``, one per pattern, every frame present (else FrameError)."""
    known = {f.name: f for f in frames()}
    table = _load()["languages"].get(code)
    if not isinstance(table, dict):
        raise FrameError(f"{_FILE}: languages.{code}: missing")
    for key in table:
        if key not in known and key not in _SLOTS:
            raise FrameError(f"{_FILE}: languages.{code}.{key}: unknown frame; frames are {', '.join(known)}")
    slots = {}
    for slot in _SLOTS:
        if not isinstance(table.get(slot), str):
            raise FrameError(f"{_FILE}: languages.{code}.{slot}: missing (a regex alternation)")
        slots[slot] = table[slot]
    rules: list[Rule] = []
    for name, frame in known.items():
        patterns = table.get(name)
        if not isinstance(patterns, list) or not patterns:
            raise FrameError(f"{_FILE}: languages.{code}.{name}: missing (a list of patterns)")
        for i, raw in enumerate(patterns):
            where = f"{_FILE}: languages.{code}.{name}[{i}]"
            if not isinstance(raw, str) or not raw.strip():
                raise FrameError(f"{where}: must be a non-empty string")
            regex = _expand(raw.strip(), slots, where)
            # a frame is a construction, not a word: "no" before it ("no, still nothing") is not its negation
            rules.append(Rule(regex, frame.valence, f"frame:{name}", negatable=False))
    return tuple(rules)


def frame_issue(kinds: list[str]) -> str | None:
    """The issue type implied by the frames that fired (driver kinds ``frame:<name>``), strongest first."""
    by_name = {f.name: f.issue for f in frames()}
    for kind in kinds:
        if kind.startswith("frame:") and (issue := by_name.get(kind[6:])):
            return issue
    return None


@lru_cache(maxsize=len(LANGUAGES))
def asking(code: str) -> tuple[tuple[str, ...], ...]:
    """The openers of an information-seeking question in ``code``, as lower-case word tuples."""
    openers = _load().get("asking", {}).get(code)
    if not isinstance(openers, list) or not openers:
        raise FrameError(f"{_FILE}: asking.{code}: missing (a list of question openers)")
    return tuple(tuple(str(o).lower().split()) for o in openers)


@lru_cache(maxsize=len(LANGUAGES))
def irony(code: str) -> frozenset[str]:
    """The praise words people use ironically about a failure in ``code`` (lower case)."""
    carriers = _load().get("irony", {}).get(code)
    if not isinstance(carriers, list) or not carriers:
        raise FrameError(f"{_FILE}: irony.{code}: missing (a list of praise words)")
    return frozenset(str(c).lower() for c in carriers)


@lru_cache(maxsize=len(LANGUAGES))
def irrealis(code: str) -> frozenset[str]:
    """The words (one or two, lower case) after which a praise word in ``code`` names what is missing."""
    words = _load().get("irrealis", {}).get(code)
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and 0 < len(w.split()) <= 2
                                                          for w in words):
        raise FrameError(f"{_FILE}: irrealis.{code}: missing (a list of one- or two-word openers)")
    return frozenset(" ".join(str(w).lower().split()) for w in words)


@lru_cache(maxsize=len(LANGUAGES))
def anything_but(code: str) -> Callable[[str], str]:
    """A rewrite of ``code``'s denying idioms ("anything but helpful", "alles andere als hilfreich") to its plain
    negator ("not helpful"), for the pack's ``prepare``: the idiom is the one group of each pattern."""
    spec = _load().get("anything_but", {}).get(code)
    where = f"{_FILE}: anything_but.{code}"
    if not isinstance(spec, dict) or not isinstance(spec.get("negator"), str) or not spec.get("patterns"):
        raise FrameError(f"{where}: missing (negator: a word, patterns: a list of regexes with one group)")
    if not spec.get("keys"):
        raise FrameError(f"{where}: keys missing (a word every idiom holds, for the quick test)")
    negator = spec["negator"]
    compiled = []
    for i, raw in enumerate(spec["patterns"]):
        try:
            regex = re.compile(str(raw), re.IGNORECASE)
        except re.error as exc:
            raise FrameError(f"{where}.patterns[{i}]: {raw!r} does not compile: {exc}") from None
        if regex.groups != 1:
            raise FrameError(f"{where}.patterns[{i}]: {raw!r} needs exactly one group (the idiom)")
        compiled.append(regex)
    # the cheap test first: most texts hold none of the idioms' words
    key = re.compile("|".join(sorted(re.escape(str(w)) for w in spec["keys"])), re.IGNORECASE)

    def rewrite(text: str) -> str:
        if key.search(text) is None:
            return text
        for regex in compiled:
            text = regex.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + negator
                             + m.group(0)[m.end(1) - m.start(0):], text)
        return text

    return rewrite
