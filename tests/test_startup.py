"""What start-up saves by deferring or caching must not change what is computed (timings: `python -m tests.bench
startup`; nothing here asserts on time)."""

from __future__ import annotations

import os

import pytest

from monitor.analyse.sentiment import european, french, learned, lexicon_en
from monitor.analyse.sentiment.phrases import PhraseMatcher, rule


def test_every_first_words_alternation_compiles() -> None:
    """PhraseMatcher compiles a first word's alternation when a text first holds that word; a pattern that cannot
    be combined (a named group twice, say) must still fail here, not on some customer's mention at 3 a.m."""
    packs = [lexicon_en.pack(), french.pack(), *(european.pack(code) for code in european.LANGUAGES)]
    for pack in packs:
        matcher = pack.matcher
        for word in matcher._ids:
            assert matcher._pattern(word).pattern


def test_a_lazily_compiled_matcher_finds_what_it_found_before() -> None:
    m = PhraseMatcher([rule(r"stopped working", -2.0, "stopped"), rule(r"(?:still|yet) broken", -2.2, "broken")])
    assert m._by_word == {}
    found = m.find("it stopped working and is still broken".split())
    assert [(r.label, first, last) for r, first, last, _ in found] == [("stopped", 1, 2), ("broken", 5, 6)]
    assert set(m._by_word) == {"stopped", "still"}          # only the words the text held were compiled


def test_the_model_is_parsed_once_and_again_when_rewritten(tmp_path) -> None:
    assert learned.load() is learned.load()                  # the shipped one: one object for every Scorer
    path = tmp_path / "m.json"
    learned.load().save(path)
    first = learned.load(path)
    assert learned.load(path) is first
    os.utime(path, ns=(0, 0))                                # same bytes, new mtime: read again, equal
    again = learned.load(path)
    assert again is not first and again == first
    path.write_text('{"format": 0}', encoding="utf-8")       # rewritten: the new file's verdict, not the cache's
    with pytest.raises(ValueError, match="m.json"):
        learned.load(path)
