"""Every source kind has a recorded real response in its tests, or a documented reason why not.

tests/data/recorded/SOURCES.md is the one table: a row per recorded file (its origin, licence and the kinds it
is replayed through) and a second table of the kinds without one (why, and what tests them instead). These
tests read both and hold them to the registry, the files on disk and the tests that replay them, so a new kind
cannot land without a recording or an explicit, reasoned exception, and a file cannot sit here unused.
"""

from __future__ import annotations

import re
from pathlib import Path

from monitor.sources import registered

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "data" / "recorded"
SOURCES_MD = RECORDED / "SOURCES.md"
REPLAYING_TESTS = sorted(p for p in HERE.glob("test_recorded_*.py") if p.name != Path(__file__).name)


def _tables(text: str) -> list[list[list[str]]]:
    """Markdown tables in order, each a list of rows (header and separator left out), cells stripped."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None:
            current = []
            tables.append(current)
            continue                                        # the header row
        if all(set(c) <= set("-: ") for c in cells):
            continue                                        # the separator row
        current.append(cells)
    return tables


def _kinds(cell: str) -> list[str]:
    """`mastodon, mastodon-stream` -> both; `inbound (preset `typeform`)` -> inbound."""
    out = []
    for part in re.sub(r"\([^)]*\)", "", cell).split(","):
        name = part.strip().strip("`").strip()
        if name:
            out.append(name)
    return out


def _recordings() -> dict[str, list[str]]:
    """file name -> kinds, from the first table (columns: file, kind, origin, licence, trimmed)."""
    first = _tables(SOURCES_MD.read_text(encoding="utf-8"))[0]
    return {row[0].strip("`"): _kinds(row[1]) for row in first}


def _exceptions() -> dict[str, tuple[str, str]]:
    """kind -> (why, tested instead by), from the table under "Kinds without a recorded response"."""
    text = SOURCES_MD.read_text(encoding="utf-8")
    section = text.split("## Kinds without a recorded response", 1)
    assert len(section) == 2, 'SOURCES.md has lost its "Kinds without a recorded response" section'
    table = _tables(section[1])[0]
    return {_kinds(row[0])[0]: (row[1], row[2]) for row in table}


def test_every_registered_kind_has_a_recorded_response_or_a_reasoned_exception():
    recorded = {kind for kinds in _recordings().values() for kind in kinds}
    excepted = set(_exceptions())
    missing = sorted(set(registered()) - recorded - excepted)
    assert missing == [], (f"no recorded real response for {missing}: add one to tests/data/recorded/ with a "
                           "row in SOURCES.md and a test replaying it, or say in SOURCES.md why there is none")


def test_the_tables_name_only_registered_kinds_and_no_kind_twice():
    kinds = set(registered())
    named = {kind for ks in _recordings().values() for kind in ks}
    assert sorted(named - kinds) == [] and sorted(set(_exceptions()) - kinds) == []
    stale = sorted(set(_exceptions()) & named)
    assert stale == [], f"{stale} now have a recording: remove them from 'Kinds without a recorded response'"


def test_each_exception_says_why_and_what_tests_the_kind_instead():
    for kind, (why, instead) in _exceptions().items():
        assert len(why.split()) >= 8, f"{kind}: the reason is too thin to review"
        paths = re.findall(r"`(tests/[^`]+\.py)`", instead)
        assert paths, f"{kind}: name the test file(s) that exercise it instead"
        for path in paths:
            assert (HERE.parent / path).is_file(), f"{kind}: {path} does not exist"
        test_files = [p for p in paths if Path(p).name.startswith("test_")]
        assert any(re.search(rf"""["']{re.escape(kind)}["']|kind: {re.escape(kind)}\b""",
                             (HERE.parent / p).read_text(encoding="utf-8")) for p in test_files), \
            f"{kind}: none of {test_files} runs the kind"


def test_every_recorded_file_is_listed_exists_and_is_replayed_by_a_test():
    listed = _recordings()
    on_disk = {p.name for p in RECORDED.iterdir() if p.is_file() and p.name != "SOURCES.md"}
    assert sorted(on_disk - set(listed)) == [], "files in tests/data/recorded/ without a row in SOURCES.md"
    assert sorted(set(listed) - on_disk) == [], "rows in SOURCES.md for files that are not there"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in REPLAYING_TESTS)
    unused = sorted(name for name in listed if f'"{name}"' not in sources)
    assert unused == [], f"recorded files no tests/test_recorded_*.py replays: {unused}"


def test_the_table_parser_reads_what_the_tables_say():
    """The checks above are only as good as this parser: pin it on the shapes the tables use."""
    sample = """intro
| file | kind | origin |
|---|---|---|
| `a.json` | mastodon, mastodon-stream | x |
| `b.json` | inbound (preset `typeform`) | y |

| kind | why | instead |
|---|---|---|
| `imap` | because | `tests/test_imap.py` |
"""
    first, second = _tables(sample)
    assert [_kinds(row[1]) for row in first] == [["mastodon", "mastodon-stream"], ["inbound"]]
    assert [row[0].strip("`") for row in first] == ["a.json", "b.json"]
    assert second == [["`imap`", "because", "`tests/test_imap.py`"]]
    assert _recordings()["mastodon_hashtag_timeline.json"] == ["mastodon", "mastodon-stream"]
