"""`monitor check` points at the real problem: bytes that are not UTF-8 by line and column, an unclosed quote
where it opened, an unquoted "#channel" as the comment YAML made of it, a duration without its unit, a route
shadowed by an earlier one, a huge file refused, and thousands of errors summarised after 50."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core import yamlfile
from monitor.core.errors import ConfigValidationError
from tests.conftest import RULES, write_config


def _rules_issues(tmp_path, text: str | bytes) -> list[str]:
    path = tmp_path / "rules.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigValidationError) as exc:
        load_rules(path)
    return [str(i) for i in exc.value.issues]


def test_non_utf8_names_line_and_column(tmp_path):
    """Regression: a non-UTF-8 file reported a byte offset."""
    (issue,) = _rules_issues(tmp_path, RULES.encode().replace(b"version: 1\n", b"version: 1\n# caf\xe9\n", 1))
    assert "rules.yaml:2: not UTF-8: byte 0xe9 at line 2, column 6" in issue


def test_unclosed_quote_points_where_it_opened(tmp_path):
    """Regression: an unclosed quote was reported at the end of the file."""
    bad = RULES + '  - name: late\n    match: {any: ["refund]}\n    notify: comms-oncall\n'
    n = bad.count("\n") - 1                         # the `match:` line
    issues = _rules_issues(tmp_path, bad)
    assert issues == [f"{tmp_path / 'rules.yaml'}:{n}: unclosed quote: the string opened at line {n}, column 19 "
                      "never ends (add the closing quote on that line)"], issues


def test_unquoted_slack_channel_is_explained_not_pydantic_union_noise(tmp_path):
    text = RULES + "  - name: fr\n    match: {language: fr}\n    notify:\n      slack: #comms-fr\n"
    issues = _rules_issues(tmp_path, text)
    assert len(issues) == 1, issues
    assert 'notify.slack: "slack" is empty (an unquoted value starting with # is a YAML comment' in issues[0]
    assert "valid list" not in issues[0] and "valid string" not in issues[0]
    inline = _rules_issues(tmp_path, RULES + "  - name: fr\n    match: {language: fr}\n    notify: #comms-fr\n")
    assert len(inline) == 1 and '"notify" is empty' in inline[0] and "YAML comment" in inline[0]
    flow = _rules_issues(tmp_path, RULES.replace('{slack: "#comms-alerts"', "{slack: #comms-alerts", 1))
    assert len(flow) == 1 and "starts a comment" in flow[0] and 'quote "#channel" names' in flow[0]


def test_a_duration_needs_a_unit(tmp_path):
    """Regression: `group_wait: 30` was silently 30 seconds."""
    assert "group_wait: 1s" in RULES
    (issue,) = _rules_issues(tmp_path, RULES.replace("group_wait: 1s", "group_wait: 1"))
    assert "defaults.group_wait: duration 1 has no unit (write e.g. 1s" in issue
    load_rules_ok = tmp_path / "ok.yaml"
    load_rules_ok.write_text(RULES.replace("group_wait: 1s", "group_wait: 0"))
    assert load_rules(load_rules_ok).defaults.group_wait == 0          # 0 is 0 in every unit
    cfg, _ = write_config(tmp_path, sources="- {id: a, kind: rss, url: 'http://x', every: 300}\n")
    with pytest.raises(ConfigValidationError) as exc:
        load_config(cfg)
    assert "sources[0].every: duration 300 has no unit" in str(exc.value)


def test_a_negative_route_before_a_narrower_one_is_flagged_as_shadowing(tmp_path):
    routes = RULES.split("routes:")[0] + """routes:
  - name: any-negative
    match: {sentiment: negative}
    notify: comms-oncall
  - name: very-negative
    match: {sentiment: {below: -0.5}}
    notify: comms-oncall
  - name: french
    match: {language: fr, sentiment: {below: -0.05}}
    notify: comms-oncall
  - name: positive
    match: {sentiment: {above: 0.5}}
    notify: comms-oncall
"""
    issues = _rules_issues(tmp_path, routes)
    assert len(issues) == 2, issues
    assert 'routes[1] route "very-negative" can never match' in issues[0].replace(":", "").replace("rules.yaml", "")\
        or 'route "very-negative" can never match' in issues[0]
    assert 'routes[0] "any-negative" takes every mention it would match' in issues[0]
    assert 'route "french" can never match' in issues[1]
    # the shipped order (narrow first, catch-all negative last) is fine
    load_rules_path = tmp_path / "r.yaml"
    load_rules_path.write_text(RULES)
    load_rules(load_rules_path)


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(yamlfile, "MAX_FILE_BYTES", 4096)
    (issue,) = _rules_issues(tmp_path, RULES + "#" * 5000 + "\n")
    assert "file is larger than" in issue


def test_thousands_of_errors_are_summarised_after_50(tmp_path):
    owners = "".join(f"  o{i}: {{slack: 'nochannel{i}'}}\n" for i in range(500))
    text = RULES.replace("owners:\n", "owners:\n" + owners, 1)
    cfg, rules = write_config(tmp_path, sources="[]\n", rules=text)
    proc = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(cfg), "--rules", str(rules)],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2
    assert len(lines) == 52, lines[-3:]
    assert lines[50].startswith("... and 450 more error(s) not shown (450 in ") and lines[-1] == "500 error(s); nothing was started"


FEEDS = """\
- {id: a, kind: rss, url: "http://127.0.0.1:9/a.xml", every: 5m}
- {id: b, kind: rss, url: "http://127.0.0.1:9/b.xml", every: %s}
"""


def _check(tmp_path, monkeypatch, capsys, *, every_b: str = "5m", extra: str = "", url: str | None = None) -> str:
    from tests.conftest import cli

    cfg, rules = write_config(tmp_path, sources=FEEDS % every_b, extra=extra)
    if url:
        monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    else:
        monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert cli("check", "--config", str(cfg), "--rules", str(rules)) == 0
    return capsys.readouterr().out


PG = "postgresql://monitor@db.example/monitor"


def test_regression_check_says_the_cron_interval_replicas_would_use(tmp_path, monkeypatch, capsys):
    """Regression: `monitor check` did not say the cron interval a `run --once` pass on PostgreSQL would use,
    so an unset `daemon.cron_interval` with differing `every`s showed only in a cron box's log. Set: said with
    the window a source is left to another box; unset: each source's `every`, assumed, warned when they differ."""
    out = _check(tmp_path, monkeypatch, capsys, url=PG, extra="daemon:\n  cron_interval: 5m\n")
    assert ("cron on replicas (PostgreSQL): interval 5m (daemon.cron_interval): a source another box polled "
            "within 2m30s is left to it") in out
    out = _check(tmp_path, monkeypatch, capsys, url=PG)
    assert "interval assumed: each source's `every` (5m), as daemon.cron_interval is unset" in out
    assert "warning" not in out
    out = _check(tmp_path, monkeypatch, capsys, url=PG, every_b="1h")
    assert "interval assumed: each source's `every` (5m, 1h), as daemon.cron_interval is unset" in out
    assert "warning: the sources' `every` differ (5m, 1h), so they cannot all be the cron interval" in out


def test_check_on_sqlite_says_the_cron_interval_only_when_set(tmp_path, monkeypatch, capsys):
    """One box: the interval decides nothing, so an unset one is not mentioned and a set one is said to apply
    only on PostgreSQL."""
    assert "cron" not in _check(tmp_path, monkeypatch, capsys)
    out = _check(tmp_path, monkeypatch, capsys, extra="daemon:\n  cron_interval: 5m\n")
    assert "cron: daemon.cron_interval (5m) applies only to cron on several boxes (PostgreSQL)" in out


def test_the_cron_interval_is_decided_once_for_check_and_the_pass():
    """`monitor check` and a `run --once` pass's log render one decision (`poll_turns.cron_interval`): what
    interval the poller gets, what it rested on, and the `every`s that disagree (regression: each had its own
    copy of the rule)."""
    from monitor.store.poll_turns import CronInterval, cron_interval

    assert cron_interval(300.0, [60.0, 3600.0]) == CronInterval(300.0, "daemon.cron_interval")
    assert cron_interval(300.0, []).window == 150.0
    one = cron_interval(None, [300.0, 300.0])
    assert (one.interval, one.rests_on, one.everys, one.window, one.disagreement) == (None, "every", (300.0,), 150.0, ())
    differ = cron_interval(None, [3600.0, 300.0, 300.0])
    assert (differ.window, differ.disagreement) == (None, (300.0, 3600.0))
