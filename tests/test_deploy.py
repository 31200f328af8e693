"""The shipped deployment files work: the systemd unit's command line, directives and exposure figure, and
the crontab example's commands, run as cron would run them."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import build_parser
from monitor.config.settings import DaemonConfig
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.slack import TOKEN
from tests.test_end_to_end import NEGATIVE

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "monitor.service"
CRONTAB = REPO / "deploy" / "crontab.example"


def unit_directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    text = UNIT.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key, []).append(value.strip())
    return out


def test_unit_has_what_ops_rely_on():
    d = unit_directives()
    required = {"Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "DynamicUser": "yes",
                "StateDirectory": "mention-monitor", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "NoNewPrivileges": "yes", "MemoryDenyWriteExecute": "yes",
                "CapabilityBoundingSet": "", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}
    for key, value in required.items():
        assert d.get(key) == [value], key
    assert "@system-service" in d["SystemCallFilter"]
    assert any(v.startswith("SLACK_BOT_TOKEN:") for v in d["LoadCredential"])
    watchdog = float(d["WatchdogSec"][0].rstrip("s"))
    assert watchdog >= 10
    stop = float(d["TimeoutStopSec"][0].rstrip("s"))
    assert stop > DaemonConfig().drain_timeout + 5, "systemd must not SIGKILL a drain in progress"


def test_unit_command_line_is_valid_for_the_cli():
    argv = shlex.split(unit_directives()["ExecStart"][0].replace("%S", "/var/lib"))
    assert argv[0].endswith("/.venv/bin/monitor")
    args = build_parser().parse_args(argv[1:])
    assert args.command == "run" and not args.once and args.log_format == "json"
    assert args.db == "/var/lib/mention-monitor/monitor.db"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_verifies_and_exposure_matches_the_readme(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's entry point for the check
    unit = tmp_path / "mention-monitor.service"
    monitor = Path(sys.executable).parent / "monitor"
    unit.write_text(UNIT.read_text().replace("/opt/mention-monitor/.venv/bin/monitor", str(monitor)))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert "mention-monitor.service" not in verify.stderr, verify.stderr        # no warnings about our unit
    sec = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True,
                         text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", sec.stdout)
    assert m, sec.stdout + sec.stderr
    assert float(m.group(1)) <= 2.0, sec.stdout
    version = subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True).stdout.split()[1]
    readme = (REPO / "README.md").read_text()
    quoted = re.search(r"exposure level\s+\*\*(\d+\.\d+) (\w+)\*\* \(systemd (\d+)\)", readme)
    assert quoted, "the README quotes the exposure figure and the systemd version that measured it"
    if quoted.group(3) == version:          # other versions weigh options differently
        assert quoted.group(1, 2) == m.group(1, 2), f"README says {quoted.group(1, 2)}, systemd {version} says {m.group(1, 2)}"


def test_crontab_commands_run_as_cron_would(tmp_path, feed_server, fake_slack):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "SLACK_BOT_TOKEN").write_text(TOKEN + "\n")
    subst = {"/opt/mention-monitor/.venv/bin/monitor": f"{sys.executable} -m monitor",
             "/etc/mention-monitor/credentials": str(creds), "/etc/mention-monitor/monitor.yaml": str(cfg),
             "/etc/mention-monitor/rules.yaml": str(rules), "/var/lib/mention-monitor": str(tmp_path / "state"),
             "/var/log/mention-monitor": str(tmp_path / "log"), "/opt/mention-monitor": str(REPO)}
    (tmp_path / "log").mkdir()
    env: dict[str, str] = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    commands: list[str] = []
    for raw in CRONTAB.read_text().splitlines():
        line = raw.strip()
        for old, new in subst.items():
            line = line.replace(old, new)
        if not line or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            key, _, value = line.partition("=")
            env[key] = value
            continue
        fields = line.split(None, 6)
        assert fields[5] == "mention-monitor", "cron.d lines name the user"
        commands.append(fields[6])
    assert len(commands) == 2
    shell = env.pop("SHELL")
    run, status = (subprocess.run([shell, "-c", c], env=env, capture_output=True, text=True, timeout=120)
                   for c in commands)
    assert run.returncode == 0, run.stderr
    assert len(fake_slack.posts()) == 1 and fake_slack.posts()[0].token == TOKEN
    log = (tmp_path / "log" / "monitor.log").read_text()
    assert '"message": "delivered"' in log and TOKEN not in log
    assert status.returncode == 0 and status.stdout == "", "healthy: cron has nothing to mail"


def test_unit_does_not_restart_a_bad_config_and_validates_before_reload():
    d = unit_directives()
    assert d["RestartPreventExitStatus"] == ["2"], "exit 2 (bad config) is not retried 5 times"
    reload = d["ExecReload"]
    assert len(reload) == 2 and reload[1] == "/bin/kill -HUP $MAINPID"
    check = build_parser().parse_args(shlex.split(reload[0])[1:])
    start = build_parser().parse_args(shlex.split(d["ExecStart"][0].replace("%S", "/var/lib"))[1:])
    assert check.command == "check" and (check.config, check.rules) == (start.config, start.rules)
    assert d["SyslogLevelPrefix"] == ["yes"]


def test_socket_bind_allows_the_slack_http_endpoint_and_metrics():
    from monitor.config.settings import SlackConfig
    allowed = set(unit_directives()["SocketBindAllow"])
    port = SlackConfig().http_listen.rpartition(":")[2]
    assert {f"tcp:{port}", "tcp:9464"} <= allowed


def test_error_lines_carry_the_journald_priority_prefix(tmp_path, monkeypatch):
    import logging
    import os

    from monitor.core import logs
    path = tmp_path / "journal"
    with open(path, "w") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        logs.setup("INFO", "json", stream=stream)
        logging.getLogger("monitor.x").error("boom")
        logging.getLogger("monitor.x").warning("careful")
        logging.getLogger("monitor.x").info("fine")
    lines = path.read_text().splitlines()
    assert [ln[:3] for ln in lines] == ["<3>", "<4>", "<6>"] and '"message": "boom"' in lines[0]
    other = tmp_path / "plain"
    with open(other, "w") as stream:                       # stderr redirected elsewhere: no prefix
        logs.setup("INFO", "text", stream=stream)
        logging.getLogger("monitor.x").error("boom")
    assert not other.read_text().startswith("<")


def test_crontab_names_mailto_directories_and_log_rotation():
    text = CRONTAB.read_text()
    assert re.search(r"^MAILTO=\S+", text, re.M)
    assert "install -d -o mention-monitor" in text and "/var/log/mention-monitor" in text
    rotate = (REPO / "deploy" / "logrotate.conf").read_text()
    assert "/var/log/mention-monitor/monitor.log" in rotate and "copytruncate" in rotate
