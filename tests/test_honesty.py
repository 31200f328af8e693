"""Nothing held, dropped or faked without saying so: quiet hours announce every hold where people look, and
terminal output is a choice, never the silent fallback for a missing Slack token."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item
from tests.harness import spec_rules

NEGATIVE = Item("n1", "Acme support is terrible", "Acme customer service was unhelpful and rude, awful experience",
                published=time.time() - 60)
SCAM = Item("n2", "Acme billing is a scam", "Worst company ever, awful refund process, Acme stole my money",
            published=time.time() - 60)
QUIET = 'quiet_hours: {from: "22:00", to: "07:00", tz: Europe/Paris, except: [critical]}'


def _rules_quiet_now() -> str:
    """The spec's rules with a quiet window (UTC) around the real current time, so a CLI run is inside it."""
    now = time.gmtime()
    start, end = (now.tm_hour - 2) % 24, (now.tm_hour + 2) % 24
    assert QUIET in spec_rules()
    return spec_rules().replace(QUIET, f'quiet_hours: {{from: "{start:02d}:00", to: "{end:02d}:00", tz: UTC, '
                                       f'except: [critical]}}')


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_"))}
    return {**env, **extra}


def _monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=90,
                          env=_env())


def test_quiet_hours_holds_are_said_at_start_in_the_summary_and_in_alerts(tmp_path, feed_server):
    """Regression: at night `make run` showed only critical alerts and nothing said the others were held."""
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE, SCAM])
    cfg, rules = write_config(tmp_path, rules=_rules_quiet_now(), sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    # the window's end as written into the rules (regression: read from the clock after the run, the expected
    # release moved an hour when the run crossed HH:00, and the test failed at 04:59:59)
    release = re.search(r'to: "(\d\d:00)"', rules.read_text()).group(1) + " UTC"
    proc = _monitor("run", "--once", "--config", str(cfg), "--rules", str(rules))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"WARNING quiet hours: .* quiet NOW: other alerts are held until " + release, proc.stderr)
    held_logs = [ln for ln in proc.stderr.splitlines() if "alert held by quiet hours" in ln]
    assert len(held_logs) >= 1 and all(release in ln for ln in held_logs)
    summary = proc.stderr.strip().splitlines()[-1]
    n = len(held_logs)
    assert f"{n} alert(s) held by quiet hours" in summary, summary
    assert "Slack →" not in proc.stdout                     # nothing was printed as sent
    listing = _monitor("alerts", "--config", str(cfg), "--rules", str(rules))
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count(f"[held by quiet hours until {release}]") == n
    one = _monitor("alerts", "1", "--config", str(cfg), "--rules", str(rules))
    assert f"held by quiet hours until {release}" in one.stdout
    assert re.search(r"next: first message at \d{4}-\d\d-\d\dT", one.stdout), one.stdout
    assert "held " in one.stdout and f"quiet hours until {release}" in one.stdout   # the event
    status = _monitor("status", "--config", str(cfg), "--rules", str(rules))
    assert re.search(rf"quiet hours: .*quiet NOW.*; {n} alert\(s\) held", status.stdout), status.stdout
    # a second pass holds nothing twice: no new hold log line for the same alerts
    again = _monitor("run", "--once", "--config", str(cfg), "--rules", str(rules))
    assert "alert held by quiet hours" not in again.stderr
    assert f"{n} alert(s) held by quiet hours" in again.stderr


def test_shipped_rules_have_quiet_hours_off_and_say_so():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "rules.yaml").read_text()
    assert "# quiet_hours:" in text and "\nquiet_hours:" not in text


def test_a_missing_slack_token_is_a_config_error_not_a_terminal_fallback(tmp_path):
    """Regression: without a token the daemon printed alerts to the terminal and looked healthy."""
    cfg, rules = write_config(tmp_path, sources="[]\n", slack_mode="bot")
    for args in (["run", "--once"], ["run"]):
        proc = _monitor(*args, "--config", str(cfg), "--rules", str(rules))
        assert proc.returncode == 2, (args, proc.stderr)
        assert "no Slack token in $SLACK_BOT_TOKEN" in proc.stderr
        assert "slack.mode: terminal" in proc.stderr and "Traceback" not in proc.stderr
    check = _monitor("check", "--config", str(cfg), "--rules", str(rules))      # valid files; says what run will do
    assert check.returncode == 0
    assert "$SLACK_BOT_TOKEN is not set here" in check.stderr and "would refuse to start (exit 2)" in check.stderr


def test_an_unreadable_token_file_is_the_same_error(tmp_path):
    cfg, rules = write_config(tmp_path, sources="[]\n", slack_mode="bot")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "SLACK_BOT_TOKEN").write_bytes(b"\xff\xfe not utf-8")
    proc = subprocess.run([sys.executable, "-m", "monitor", "run", "--once", "--config", str(cfg), "--rules",
                           str(rules)], capture_output=True, text=True, timeout=60,
                          env=_env(CREDENTIALS_DIRECTORY=str(creds)))
    assert proc.returncode == 2 and "no Slack token in $SLACK_BOT_TOKEN" in proc.stderr


def test_terminal_mode_must_be_chosen_and_then_prints(tmp_path, feed_server):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, slack_mode="terminal", rules=spec_rules().replace(QUIET + "\n", ""),
                              sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    proc = _monitor("run", "--once", "--config", str(cfg), "--rules", str(rules))
    assert proc.returncode == 0, proc.stderr
    assert "Slack → #comms-alerts" in proc.stdout
    assert "slack.mode is terminal: alerts are printed here and sent to nobody" in proc.stderr


def test_replay_uses_publication_time_and_skips_what_was_too_old_to_alert(tmp_path):
    """Regression: replay filtered on collection time and "would have alerted" on mentions the daemon had
    skipped as older than their source's max_age."""
    from monitor.store.database import Store
    cfg, rules = write_config(tmp_path, rules=spec_rules().replace(QUIET + "\n", ""), sources="""\
        - {id: news, kind: rss, url: 'http://127.0.0.1:9/x.xml', max_age: 3d}
    """)
    now = time.time()
    store = Store(str(tmp_path / "monitor.db"))
    text = "Acme customer service was unhelpful and rude, awful experience"
    with store.tx() as db:
        for ext, published in (("old", now - 10 * 86400), ("stale", now - 5 * 86400), ("fresh", now - 3600)):
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, published, collected_at)"
                       " VALUES ('news', 'rss', ?, ?, ?, ?)", (ext, f"{text} ({ext})", published, now - 600))
    store.close()
    proc = _monitor("replay", "--since", "7d", "--config", str(cfg), "--rules", str(rules))
    assert proc.returncode == 0, proc.stderr
    would = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(would) == 1 and '"mentions": 1' in would[0]
    assert ("2 mention(s) published in the last 7d (1 skipped: older than their source's max_age when collected, "
            "never alerted); 1 alert(s)") in proc.stderr


def test_once_says_which_sources_are_in_back_off_and_until_when(tmp_path):
    cfg, rules = write_config(tmp_path, sources="""\
        - {id: down, kind: rss, url: 'http://127.0.0.1:9/x.xml'}
    """)
    first = _monitor("run", "--once", "--config", str(cfg), "--rules", str(rules))
    assert "1 failed" in first.stderr
    from monitor.store.database import Store
    store = Store(str(tmp_path / "monitor.db"))
    with store.tx() as db:            # as after a few failures in a row: the next try is minutes away
        db.execute("UPDATE sources SET next_run = ? WHERE id = 'down'", (time.time() + 600,))
    store.close()
    second = _monitor("run", "--once", "--config", str(cfg), "--rules", str(rules))
    assert re.search(r"not polled: down: backing off until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", second.stderr), second.stderr
