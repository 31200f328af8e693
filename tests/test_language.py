"""Language detection: common languages, unsure cases, determinism."""

from __future__ import annotations

import pytest

from monitor.analyse.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The delivery was late and the box was damaged", "en"),
        ("Still waiting for my order, 3 weeks now", "en"),
        ("le support technique était impoli et inutile", "fr"),
        ("Je ne suis pas content du tout de ce produit", "fr"),
        ("Der Kundenservice war unfreundlich und hat nicht geholfen", "de"),
        ("El pedido llegó tarde y el producto está roto", "es"),
        ("カスタマーサポートの対応が最悪でした", "ja"),
        ("ありがとう", "ja"),
    ],
)
def test_detects(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "😀😀🔥", "👍", "ok", "@someone #tag http://example.com/x"])
def test_unsure_is_none(text: str) -> None:
    assert detect_language(text) is None


def test_ignores_urls_and_handles() -> None:
    assert detect_language("@acme_support https://t.co/abc the app keeps crashing on my phone") == "en"


def test_deterministic() -> None:
    text = "Le colis est arrivé en retard"
    assert {detect_language(text) for _ in range(20)} == {"fr"}
    assert detect_language.__wrapped__(text) == "fr"  # same answer without the cache


# -- the decompressed model cache (monitor/analyse/language_model.py; timings: `python -m tests.bench startup`) --

def _texts() -> list[str]:
    """Every language the tests hold: the verdict cases of six languages, and the English/Spanish dev set."""
    import csv
    from pathlib import Path

    import yaml

    data = Path(__file__).parent / "data"
    texts = [case["text"] for f in sorted(data.glob("verdict_cases*.yaml"))
             for case in yaml.safe_load(f.read_text(encoding="utf-8")) or []]
    with (data / "sentiment_dev.tsv").open(encoding="utf-8") as f:
        texts += [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    return texts


@pytest.mark.slow
def test_the_cached_model_answers_exactly_what_the_shipped_model_answers(tmp_path, monkeypatch) -> None:
    """Same label and the same probability, bit for bit, on every test text: the cache saves time, not accuracy."""
    import py3langid.modelio

    from monitor.analyse import language, language_model

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    shipped = language_model.load(language.LANGUAGES)          # decompressed, restricted, written
    assert [p.name for p in tmp_path.glob("langid-*")]
    monkeypatch.setattr(py3langid.modelio, "load_model", None)  # the next process never decompresses
    cached = language_model.load(language.LANGUAGES)
    assert cached is not shipped and isinstance(cached.tk_nextmove, memoryview)
    texts = _texts()
    assert len(texts) > 6000
    assert [cached.classify(t) for t in texts] == [shipped.classify(t) for t in texts]


def test_a_damaged_cache_entry_is_said_and_rebuilt(tmp_path, monkeypatch, caplog) -> None:
    from monitor.analyse import language, language_model

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    good = language_model.load(language.LANGUAGES)
    (entry,) = tmp_path.glob("langid-*")
    ptc = entry / "ptc.npy"
    ptc.write_bytes(ptc.read_bytes()[: ptc.stat().st_size // 2])     # a disk full, a crash mid-copy
    again = language_model.load(language.LANGUAGES)
    assert "unreadable" in caplog.text and str(entry) in caplog.text
    text = "Le colis est arrivé en retard et le service client ne répond pas"
    assert again.classify(text) == good.classify(text)
    assert language_model._read(entry).classify(text) == good.classify(text)   # rewritten whole


def test_an_unwritable_cache_still_detects_and_says_so(tmp_path, monkeypatch, caplog) -> None:
    from monitor.analyse import language, language_model

    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(blocked / "cache"))
    with caplog.at_level("INFO", logger="monitor.analyse.language_model"):
        ident = language_model.load(language.LANGUAGES)
    assert ident.classify("Der Kundenservice war unfreundlich und hat nicht geholfen")[0] == "de"
    assert "language model cache not written" in caplog.text and "MONITOR_CACHE_DIR" in caplog.text


def _entries(root) -> dict[str, int]:
    """Each language entry in the cache directory and the inode of its class columns (a rebuild changes it)."""
    return {p.name: (p / "ptc.npy").stat().st_ino for p in sorted(root.glob("langid-*"))}


@pytest.mark.slow
def test_two_installed_py3langid_versions_sharing_a_cache_keep_their_own_entries(tmp_path) -> None:
    """Regression: an entry replaced every other one, so two installations sharing $MONITOR_CACHE_DIR (here
    the real package and a second copy installed as another version) rebuilt each other's on every start."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import py3langid

    other = tmp_path / "other"
    shutil.copytree(Path(py3langid.__file__).parent, other / "py3langid")
    (other / "py3langid-0.3.9.dist-info").mkdir()
    (other / "py3langid-0.3.9.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: py3langid\n"
                                                                  "Version: 0.3.9\n")
    repo = str(Path(__file__).parents[1])
    start = ("import importlib.metadata as md, py3langid; from monitor.analyse import language, language_model;"
             " language_model.load(language.LANGUAGES); print(md.version('py3langid'), py3langid.__file__)")

    def run(*path: str) -> str:
        env = {**os.environ, "MONITOR_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": os.pathsep.join(path)}
        return subprocess.run([sys.executable, "-c", start], env=env, check=True, capture_output=True,
                              text=True, timeout=120).stdout

    assert run(repo).startswith("0.4")
    assert run(str(other), repo) == f"0.3.9 {other / 'py3langid' / '__init__.py'}\n"
    built = _entries(tmp_path / "cache")
    assert len(built) == 2, built
    run(repo)
    run(str(other), repo)
    assert _entries(tmp_path / "cache") == built, "an installation rebuilt its entry"


def test_the_language_cache_keeps_the_entries_used_last_and_forgets_the_rest(tmp_path, monkeypatch) -> None:
    """Bounded: beside the entry just written, the `KEEP` - 1 used last stay; older ones, and what a killed
    writer left an hour ago, go; a writer's directory in progress and files of other kinds stay. A process
    that mapped an entry removed meanwhile goes on reading it (the pages live until it unmaps them)."""
    import os
    import time

    from monitor.analyse import language, language_model

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path))
    language_model.load(language.LANGUAGES)                     # built and written
    mapped = language_model.load(language.LANGUAGES)            # read: its arrays map the entry's files
    assert isinstance(mapped.tk_nextmove, memoryview)
    (mine,) = tmp_path.glob("langid-*")
    mine.rename(tmp_path / "langid-old-mapped")                 # another installation's, used long ago
    old = [tmp_path / "langid-old-mapped"] + [tmp_path / f"langid-old-{n}" for n in range(5)]
    now = time.time()
    for n, path in enumerate(old):
        path.mkdir(exist_ok=True)
        os.utime(path, (now - 86400 * (6 - n), now - 86400 * (6 - n)))    # the last of them used a day ago
    (abandoned := tmp_path / ".langid-killed").mkdir()
    os.utime(abandoned, (now - 7200, now - 7200))
    (writing := tmp_path / ".langid-writing").mkdir()
    (tmp_path / "other-kind.bin").write_bytes(b"x")
    text = "Le colis est arrivé en retard et le service client ne répond pas"
    before = mapped.classify(text)

    language_model.load(language.LANGUAGES)                     # writes its entry again, then bounds the directory
    kept = sorted(p.name for p in tmp_path.iterdir())
    newest = [p.name for p in old[-(language_model.KEEP - 1):]]
    assert kept == sorted([mine.name, *newest, ".langid-writing", "other-kind.bin"]), kept
    assert not (tmp_path / "langid-old-mapped").exists() and not abandoned.exists() and writing.exists()
    assert mapped.classify(text) == before                      # its files are gone, its mapping is not
