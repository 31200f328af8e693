"""Config and rules validation: every error names file, line, key path and a hint; exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core.errors import ConfigValidationError
from tests.conftest import RULES, write_config

REPO = Path(__file__).resolve().parent.parent


def _issues(fn, path) -> list[str]:
    with pytest.raises(ConfigValidationError) as exc:
        fn(path)
    return [str(i) for i in exc.value.issues]


def test_shipped_config_and_rules_are_valid():
    config = load_config(REPO / "config/monitor.yaml")
    rules = load_rules(REPO / "rules.yaml")
    assert config.sources and config.brands
    assert [r.name for r in rules.routes] == ["data-security", "security-safety", "angry-influencer", "bad-review",
                                              "storm", "french-market", "unscored", "any-negative"]


def test_misspelt_owner_names_line_and_suggests(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(RULES.replace("notify: support-lead", "notify: suport-lead"))
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "suport-lead" in text)
    assert _issues(load_rules, bad) == [
        f'{bad}:{line} routes[1].notify: unknown owner "suport-lead" (did you mean "support-lead"?)']


def test_monitor_check_exits_2_with_did_you_mean(tmp_path):
    cfg, rules = write_config(tmp_path, sources="- {id: a, kind: rss, url: 'http://x'}\n")
    rules.write_text(RULES.replace("notify: support-lead", "notify: suport-lead"))
    proc = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(cfg), "--rules", str(rules)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert 'routes[1].notify: unknown owner "suport-lead" (did you mean "support-lead"?)' in proc.stderr
    assert f"{rules}:" in proc.stderr


@pytest.mark.parametrize("sources, expected", [
    ("- {id: a, kind: rs, url: 'http://x'}", 'sources[0].kind: unknown source kind "rs" (did you mean "rss"?)'),
    ("- {id: a, kind: rss, url: 'http://x', evry: 5m}", 'sources[0].evry: unknown key "evry" (did you mean "every"?)'),
    ("- {id: a, kind: rss, url: 'http://x', every: 5 minutes}", 'sources[0].every: bad duration "5 minutes"'),
    ("- {id: a, kind: rss, url: 'ftp://x'}", 'sources[0].url: url "ftp://x" must start with http'),
    ("- {id: a, kind: rss}", 'sources[0].url: missing required key "url"'),
    ("- {id: a, kind: rss, url: 'http://x'}\n- {id: a, kind: rss, url: 'http://y'}", 'duplicate source id "a"'),
])
def test_source_errors(tmp_path, sources, expected):
    cfg, _ = write_config(tmp_path, sources=sources + "\n")
    issues = _issues(load_config, cfg)
    assert any(expected in i for i in issues), issues
    assert all(i.startswith(f"{cfg}:") for i in issues)


def test_bad_query_points_at_position(tmp_path):
    cfg, _ = write_config(tmp_path, sources="[]\n", brands="acme: {query: '(acme OR widget'}\n")
    (issue,) = _issues(load_config, cfg)
    assert "brands.acme.query" in issue and "position" in issue


def test_every_error_reported_at_once(tmp_path):
    cfg, _ = write_config(tmp_path, sources="- {id: a, kind: rs}\n- {id: b, kind: rss, url: 'http://x', x: 1}\n",
                          extra="colour: blue\n")
    assert len(_issues(load_config, cfg)) == 3


@pytest.mark.parametrize("edit, expected", [
    (("escalation: critical", "escalation: critcal"), 'unknown escalation policy "critcal" (did you mean "critical"?)'),
    (("after: 10m", "after: ten minutes"), 'bad duration "ten minutes"'),
    (("routes:\n", "quiet_hours: {from: '22:00', to: '07:00', tz: Mars/Olympus}\nroutes:\n"), 'unknown time zone "Mars/Olympus"'),
    (("routes:\n", "routes:\n  - name: everything\n    notify: comms-oncall\n"), 'can never match'),
    (("  notify: comms-oncall\n  group_wait", "  notify: comms-oncall\n  notfy: x\n  group_wait"), 'unknown key "notfy" (did you mean "notify"?)'),
    (("  - name: bad-review", "  - name: data-security"), 'duplicate route name "data-security"'),
    (("owners:\n", "owners:\n  comms-oncall: {slack: '#other'}\n"), "duplicate key"),
])
def test_rules_errors(tmp_path, edit, expected):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace(*edit, 1))
    issues = _issues(load_rules, path)
    assert any(expected in i for i in issues), issues


def test_yaml_syntax_error_has_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("owners:\n  a: {slack: '#x'\ndefaults: {}\n")
    (issue,) = _issues(load_rules, path)
    assert issue.startswith(f"{path}:") and "YAML syntax error" in issue


@pytest.mark.parametrize("value, expected", [
    ("5s", "daemon.cron_interval: cron_interval 5s must be between 10s and 1d"),
    ("2d", "daemon.cron_interval: cron_interval 172800s must be between 10s and 1d"),
    ("5", "daemon.cron_interval: duration 5 has no unit"),
    ("every five", 'daemon.cron_interval: bad duration "every five"'),
])
def test_cron_interval_is_a_duration_checked_at_load_with_its_line(tmp_path, value, expected):
    cfg, _ = write_config(tmp_path, sources="[]\n", extra=f"daemon:\n  max_route_attempts: 5\n  cron_interval: {value}\n")
    line = next(i for i, text in enumerate(cfg.read_text().splitlines(), 1) if text.startswith("  cron_interval:"))
    (issue,) = _issues(load_config, cfg)
    assert issue.startswith(f"{cfg}:{line} {expected}"), issue


def test_cron_interval_is_read_as_seconds(tmp_path):
    cfg, _ = write_config(tmp_path, sources="[]\n", extra="daemon:\n  cron_interval: 5m\n")
    assert load_config(cfg).daemon.cron_interval == 300.0
    cfg, _ = write_config(tmp_path, sources="[]\n")
    assert load_config(cfg).daemon.cron_interval is None
