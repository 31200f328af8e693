"""The command line as a user meets it: global options anywhere, a default config search, one-line usage
errors with exit 2 (never a traceback), a quiet closed pipe, and the terminal's own feedback actions."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.alerting.lifecycle import list_feedback
from monitor.cli import build_parser, main
from monitor.cli import paths as cli_paths
from monitor.store.database import Store
from tests.alert_factory import make_alert


def _run(*args: str, env: dict[str, str] | None = None, stdin: str = "", cwd: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=60,
                          input=stdin, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "monitor.db"
    store = Store(str(path))
    try:
        for i in range(300):
            make_alert(store, text=f"Acme support is terrible, case {i}")
    finally:
        store.close()
    return path


def test_global_options_work_before_or_after_the_command():
    parser = build_parser()
    before = parser.parse_args(["--config", "a.yaml", "--db", "x.db", "--log-level", "debug", "alerts", "--open"])
    after = parser.parse_args(["alerts", "--open", "--config", "a.yaml", "--db", "x.db", "--log-level", "debug"])
    assert vars(before) == vars(after)
    assert (before.config, before.db, before.log_level) == ("a.yaml", "x.db", "DEBUG")
    plain = parser.parse_args(["alerts"])
    assert plain.config is None and plain.rules is None and plain.log_format == "text"


def test_default_config_search_order(tmp_path, monkeypatch):
    etc = tmp_path / "etc"
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    assert cli_paths.default_path("config", {}, etc) == "config/monitor.yaml"
    assert cli_paths.default_path("rules", {}, etc) == "rules.yaml"
    etc.mkdir()
    (etc / "monitor.yaml").write_text("x: 1\n")
    assert cli_paths.default_path("config", {}, etc) == str(etc / "monitor.yaml")
    assert cli_paths.default_path("rules", {}, etc) == "rules.yaml"          # each file on its own
    assert cli_paths.default_path("config", {"MONITOR_CONFIG": "/srv/m.yaml"}, etc) == "/srv/m.yaml"
    assert cli_paths.default_path("rules", {"MONITOR_RULES": "/srv/r.yaml"}, etc) == "/srv/r.yaml"


def test_monitor_config_env_is_used_by_commands(tmp_path):
    from tests.conftest import write_config
    cfg, rules = write_config(tmp_path, sources="[]\n")
    proc = _run("check", env={"MONITOR_CONFIG": str(cfg), "MONITOR_RULES": str(rules)}, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert str(cfg) in proc.stdout and str(rules) in proc.stdout


def test_alerts_with_db_needs_no_config(db, tmp_path):
    proc = _run("alerts", "--db", str(db), "--limit", "2", cwd=str(tmp_path))     # no config/monitor.yaml here
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("#") == 2 and "owners=comms-oncall" in proc.stdout


@pytest.mark.parametrize("args, reason", [
    (["snooze", "4", "--for", "90"], 'bad duration "90"'),
    (["replay", "--since", "7"], 'bad duration "7"'),
    (["alerts", "seven"], "alert id must be a number"),
    (["alerts", "--limit", "-3"], "whole number"),
    (["ui", "--port", "99999"], "TCP port"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, reason):
    """Regression: `snooze 4 --for 90` and `replay --since 7` printed a traceback and exited 1."""
    proc = _run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert reason in proc.stderr


def test_closed_pipe_exits_quietly(db):
    """Regression: `monitor alerts --json | head` printed BrokenPipeError."""
    proc = subprocess.run(f"{sys.executable} -m monitor alerts --json --db {db} --limit 300 | head -n 1",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == "", proc.stderr


def test_not_negative_from_the_terminal_is_the_button(db):
    store = Store(str(db))
    try:
        alert_id = store.one("SELECT MAX(id) AS id FROM alerts")["id"]
    finally:
        store.close()
    proc = _run("not-negative", str(alert_id), "--db", str(db), env={"USER": "ops-olga"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"alert #{alert_id} is resolved (not negative)"
    store = Store(str(db))
    try:
        fb = list_feedback(store)
        assert [(f["alert_id"], f["verdict"], f["actor"]) for f in fb] == [(alert_id, "not_negative", "cli:ops-olga")]
        state = store.one("SELECT state, resolution FROM alerts WHERE id = ?", (alert_id,))
        assert (state["state"], state["resolution"]) == ("resolved", "not_negative")
    finally:
        store.close()


def test_resolve_says_resolved_once_and_actor_comes_from_the_os(db):
    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME")}
    first = subprocess.run([sys.executable, "-m", "monitor", "resolve", "1", "--db", str(db)], capture_output=True,
                           text=True, timeout=60, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "alert #1 is resolved"  # regression: "resolved (resolved)"
    again = _run("resolve", "1", "--db", str(db))
    assert again.stdout.strip() == "alert #1 is already resolved"
    import pwd
    store = Store(str(db))
    try:
        row = store.one("SELECT resolved_by FROM alerts WHERE id = 1")
    finally:
        store.close()
    assert row["resolved_by"] == f"cli:{pwd.getpwuid(os.getuid()).pw_name}"


def test_score_answers_a_blank_line_with_a_line():
    proc = _run("score", "--config", "/nonexistent.yaml", stdin="awful service\n\ngreat\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and '"skipped": "blank line"' in lines[1]


_COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
_JUNK = st.sampled_from(["--for", "90", "--since", "7", "--limit", "x", "-1", "abc", "--json", "--open",
                         "--port", "0", "--set", "=", "--by", "", "1e9", "99999999999999999999", "--rating",
                         "nan", "--reach", "ten", "--log-level", "loud", "--log-format", "xml", "--bogus",
                         "é", "\t", "--", "-", "rss", "twitter", "#tag", "--db"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(_COMMANDS), junk=st.lists(_JUNK, min_size=1, max_size=5))
def test_no_command_prints_a_traceback_on_malformed_arguments(tmp_path, monkeypatch, capsys, command, junk):
    """Every command, fed malformed arguments: exit 1 or 2 with a message, never a traceback."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n{bad json\n"))
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / "missing.yaml"))
    monkeypatch.setenv("MONITOR_RULES", str(tmp_path / "missing-rules.yaml"))
    monkeypatch.setattr("monitor.ops.ui.UI.serve", lambda *a, **k: None, raising=False)
    argv = [command, *junk]
    if command in ("run", "ui", "preview", "demo"):
        argv.append("--no-such-option")             # these would start servers or fetch: stop at the parser
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out
    assert code in (0, 1, 2)
    if code == 2:
        assert out.err.strip(), "a usage error says why"


def test_unreadable_credentials_directory_is_an_error_not_a_log_line(tmp_path):
    proc = _run("check", "--config", str(tmp_path / "c.yaml"), env={"CREDENTIALS_DIRECTORY": str(tmp_path / "gone")})
    assert proc.returncode == 2
    assert "cannot read $CREDENTIALS_DIRECTORY" in proc.stderr and "Traceback" not in proc.stderr


def test_owners_by_name_or_channel_levels_as_in_the_ui_and_no_stale_ack(tmp_path):
    """Regressions: owners shown as "inline"; the UI numbered levels from 0 and the CLI from 1; a reopened
    alert still showed its old acknowledgement."""
    import sqlite3

    import yaml

    from monitor.alerting.lifecycle import transition
    from monitor.core.model import Target
    path = tmp_path / "m.db"
    store = Store(str(path))
    try:
        alert_id = make_alert(store, targets=(Target("inline", "#comms-fr"),))
        transition(store, alert_id, "ack", "alice")
        transition(store, alert_id, "reopen", "bob")
    finally:
        store.close()
    listing = _run("alerts", "--db", str(path))
    assert "owners=#comms-fr" in listing.stdout and "inline" not in listing.stdout
    assert "level=1" in listing.stdout and " ack " not in listing.stdout
    one = _run("alerts", str(alert_id), "--db", str(path))
    assert "level 1" in one.stdout and "acknowledged by" not in one.stdout
    meta = yaml.safe_load((Path(__file__).resolve().parents[1] / "monitor/data/datasette.yaml").read_text())
    sql = meta["databases"]["monitor"]["queries"]["open_alerts"]["sql"]
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    (row,) = conn.execute(sql).fetchall()
    assert (row["level"], row["owners"], row["acked_by"]) == (1, "#comms-fr", None)
