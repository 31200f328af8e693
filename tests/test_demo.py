"""`monitor demo` (`make demo`): a newcomer sees alerts, grouping and escalation within a minute, offline,
through the real CLI and daemon on the bundled sample feed served from 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from monitor.cli.demo import SampleFeed, sample


def test_sample_has_english_french_a_breach_and_a_storm():
    items = sample()
    assert any(i.get("lang") == "fr" for i in items)
    assert sum("breach" in i["text"].lower() or "hacked" in i["text"].lower() for i in items) >= 2
    assert sum(bool(i.get("storm")) for i in items) >= 5
    feed = SampleFeed(items, started=1000.0)
    assert feed.render(1000.0).count("<item>") == sum(i["at"] == 0 for i in items)
    assert feed.render(2000.0).count("<item>") == len(items)
    feed.server.server_close()


def test_demo_shows_alerts_grouping_and_escalation_within_a_minute(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_", "HTTP"))}
    env["NO_PROXY"] = "*"
    env["PYTHONFAULTHANDLER"] = "1"          # a hang is diagnosed, not just timed out: SIGABRT dumps every thread
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "demo", "--for", "40s", "--dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        stdout, stderr = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        stdout, stderr = proc.communicate()
        pytest.fail(f"monitor demo still running after 90 s; its threads:\n{stderr[-6000:]}")
    proc_stdout, proc_stderr = stdout, stderr
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc_stderr[-3000:]
    assert elapsed < 60, elapsed
    out = proc_stdout
    assert "─── Slack → #comms-alerts" in out and "Route: any-negative" in out          # an English complaint
    assert "─── Slack → #comms-fr" in out and "Route: french-market" in out            # a French one
    assert "─── Slack → #security-incidents" in out and "Route: data-security" in out  # the breach, critical
    assert "more mention" in out and "of this story" in out                          # grouped as it grows
    assert "Escalated to level 2" in out and "─── Slack → #comms-leads" in out      # nobody acknowledged
    assert "Spike of negative mentions of acme" in out                               # the storm
    assert "Loving my new Acme blender" not in out and "road runner" not in out.lower()   # no noise
    assert f"monitor alerts --db {tmp_path / 'demo.db'}" in proc_stderr
    assert "Traceback" not in proc_stderr
