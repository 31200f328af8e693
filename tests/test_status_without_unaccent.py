"""`monitor status` on a PostgreSQL without `unaccent`: a problem until acknowledged, then a choice, still said.

Regression (ops notes, round 21): a deployment on a managed database that cannot have the extension got the
`search_accents` problem forever, so `monitor status` exited 1 forever and its health check could never pass.
`storage.unaccent: optional` makes the accent-sensitive search a configured choice: said on its own line (and
`search` in `--json`), not a problem, exit 0. Left at `required` (the default) it stays a problem.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.settings import load_config
from monitor.core.errors import ConfigValidationError
from monitor.store.database import Store
from tests.conftest import cli, write_config
from tests.pgserver import unprivileged_database

pytestmark = pytest.mark.slow        # a database and a role of its own

SOURCES = """\
    - id: news
      kind: rss
      url: https://news.example/rss
      enabled: false
      every: 5m
"""


@pytest.fixture
def without_unaccent(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store on PostgreSQL as a role that may not create extensions (tests/pgserver), migrated."""
    with unprivileged_database() as (url, _admin):
        monkeypatch.setenv("MONITOR_DATABASE_URL", url)
        Store(url).close()
        yield url


def _status(tmp_path: Path, capsys: pytest.CaptureFixture[str], unaccent: str | None,
            *flags: str) -> tuple[int, str]:
    cfg, _ = write_config(tmp_path, sources=SOURCES, slack_url="http://127.0.0.1:9/api/", slack_mode="bot")
    if unaccent:
        cfg.write_text(cfg.read_text().replace("storage:\n", f"storage:\n  unaccent: {unaccent}\n", 1))
    capsys.readouterr()
    code = cli("status", "--config", str(cfg), *flags)
    return code, capsys.readouterr().out


def test_missing_unaccent_is_a_problem_unless_acknowledged(without_unaccent: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _status(tmp_path, capsys, None)
    assert code == 1, out
    assert "UNHEALTHY" in out and "search: the dashboard's search does not fold accents" in out
    assert "storage.unaccent: optional" in out                   # the way out is named

    code, out = _status(tmp_path, capsys, "required")
    assert code == 1 and "search: the dashboard's search does not fold accents" in out, out

    code, out = _status(tmp_path, capsys, "optional")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[-1] == "healthy"
    assert ('search: accent-sensitive ("cafe" does not find "café"): this database has no unaccent extension, '
            "and storage.unaccent is optional") in lines                 # still said

    code, out = _status(tmp_path, capsys, "optional", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["healthy"] is True and rep["issues"] == []
    assert rep["search"]["accents_folded"] is False and rep["search"]["unaccent"] == "optional"
    assert rep["search"]["note"] and rep["search"]["problem_kinds"] == []


def test_an_unknown_unaccent_value_is_a_config_error_naming_the_line(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, sources=SOURCES)
    cfg.write_text(cfg.read_text().replace("storage:\n", "storage:\n  unaccent: maybe\n", 1))
    with pytest.raises(ConfigValidationError) as err:
        load_config(cfg)
    text = str(err.value)
    assert text.startswith(f"{cfg}:") and "unaccent" in text and "'required' or 'optional'" in text, text


def test_the_dashboard_strip_says_an_accepted_accent_sensitive_search_at_info(without_unaccent: str,
                                                                             tmp_path: Path) -> None:
    """Regression (round 22): with `optional` the strip said nothing about search (the problem was gone, and
    nothing took its place), so a dashboard reader wondering why "cafe" misses "café" had no line to read."""
    from monitor.ops import health
    from monitor.ops.dashboard.strip import lines_of

    for value, severity, healthy in (("optional", "info", True), ("required", "warning", False)):
        cfg, _ = write_config(tmp_path, sources=SOURCES, slack_url="http://127.0.0.1:9/api/", slack_mode="bot")
        cfg.write_text(cfg.read_text().replace("storage:\n", f"storage:\n  unaccent: {value}\n", 1))
        store = Store(without_unaccent, readonly=True)
        try:
            rep = health.report(load_config(cfg), store, 0.0)
        finally:
            store.close()
        strip = lines_of(rep, None, None, 0.0, "UTC")
        said = [ln for ln in strip.lines if ln.kind == "search"]
        assert [(ln.severity, ln.link) for ln in said] == [(severity, "/feed")], said
        assert '"cafe" does not find "café"' in said[0].text and strip.healthy is healthy, strip
        assert ("storage.unaccent: optional" in said[0].text) is healthy      # the choice named where accepted


def test_a_start_with_optional_says_the_missing_extension_at_info_not_warning(
        without_unaccent: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Regression (round 22): the daemon logged the WARNING at every start though `optional` accepts it. The
    daemon's start (`App`) opens the store under its `storage.unaccent`: INFO, still said; `required`: WARNING."""
    from monitor.runtime.app import App, Paths

    seen: dict[str, list[int]] = {}
    for value in ("optional", "required"):
        cfg, rules = write_config(tmp_path, sources=SOURCES)
        cfg.write_text(cfg.read_text().replace("storage:\n", f"storage:\n  unaccent: {value}\n", 1))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="monitor.store.migrate"):
            App(Paths(str(cfg), str(rules))).close()
        said = [r for r in caplog.records if "unaccent extension cannot be created" in r.getMessage()]
        seen[value] = [r.levelno for r in said]
        assert value == "required" or "storage.unaccent: optional accepts that" in said[0].getMessage()
    assert seen == {"optional": [logging.INFO], "required": [logging.WARNING]}
