"""Hostile input and clumsy ops (issue 18, items 7-10 and 12-14, and `verbatim`): DNS rebinding, links that
browsers read differently, secrets in source URLs, a second daemon through a symlink, terminal control
characters in remote errors, YAML alias tricks, a corrupted database. Each test names the bug it pins."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys

import pytest

from monitor.core import logs
from monitor.core.errors import ConfigValidationError, FetchError, LockHeld, StorageError
from monitor.core.model import Target
from monitor.core.yamlfile import parse_yaml
from monitor.notify.blockkit import alert_message, link_host, plain_message, safe_link
from monitor.sources.fetch import HttpConfig, fetch, make_client
from monitor.store.database import Store
from monitor.store.runlock import RunLock
from tests.conftest import write_config
from tests.fakes.hostile import Canary
from tests.fakes.server import LocalServer, Reply
from tests.health_fixtures import damage
from tests.timing import Stopwatch

# -- 7: not-global addresses and DNS rebinding ----------------------------------------------------------------


def test_a_redirect_into_cgnat_is_refused():
    """Regression: 100.64.0.0/10 is neither private nor global; its metadata address was followed."""
    with LocalServer(lambda r: Reply(302, b"", {"Location": "http://100.100.100.200/latest/meta-data/"})) as srv:
        cfg = HttpConfig(per_host_interval=0)
        with Stopwatch() as sw, make_client(cfg) as client, pytest.raises(FetchError, match="refused"):
            fetch(client, srv.url + "/", cfg)
        sw.assert_within(0.0, 2.0, "refusing")       # refused before any connection attempt (2 s idle, scaled by load)


def test_dns_rebinding_between_check_and_connect_is_refused(monkeypatch):
    """The name resolves to a public address when the redirect is checked and to an internal one when the
    client connects: the address actually connected to is the one checked (core/netguard)."""
    with Canary() as canary, LocalServer(lambda r: Reply(
            302, b"", {"Location": f"http://rebind.example:{canary.port}/internal"})) as srv:
        real = socket.getaddrinfo
        answers = iter(["93.184.216.34"])               # what the redirect check sees, then...

        def getaddrinfo(host, port, *a, **kw):
            if host == "rebind.example":
                addr = next(answers, "127.0.0.2")     # ...the internal service, at connect time
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, port or 0))]
            return real(host, port, *a, **kw)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        cfg = HttpConfig(per_host_interval=0, connect_timeout=1, deadline=3)
        with make_client(cfg) as client, pytest.raises(FetchError, match="not a public address"):
            fetch(client, srv.url + "/", cfg)
        assert canary.requests == []


def test_the_guard_refuses_any_library_connecting_to_an_internal_address():
    from monitor.core.netguard import WATCHDOG

    with Canary() as canary, WATCHDOG.guard(5, trusted=["http://127.0.0.1:1/"]) as guard:
        with pytest.raises(ConnectionRefusedError, match="not a public address"):
            socket.create_connection(("127.0.0.2", canary.port), timeout=1)
        assert guard.refused == ["127.0.0.2"] and canary.requests == []


def test_a_stop_reaches_the_guards_armed_inside_the_block():
    """A capped `fetch` arms a guard of its own inside a stream's `opening` block: cancelling the block's guard
    (a stop) must cancel it too, and any guard armed there after the stop (the mastodon back-fill's pages)."""
    from monitor.core.netguard import WATCHDOG

    with WATCHDOG.guard(5) as outer:
        with WATCHDOG.guard(5) as inner:
            outer.cancel()
            assert inner.cancelled and not inner.fired
        with WATCHDOG.guard(5) as later:
            assert later.cancelled
    with WATCHDOG.guard(5) as alone:
        assert not alone.cancelled


def test_the_configured_host_and_environment_proxies_stay_reachable(monkeypatch):
    """Internal sources keep working: their own address (on its port, or 80/443 for an http->https hop) and a
    proxy from the environment are trusted; another port of the same internal host is not."""
    from monitor.core.netguard import Guard

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.3:3128")
    guard = Guard(trusted=["http://127.0.0.1:8080/feed"])
    assert guard.allowed("127.0.0.1", 8080) and guard.allowed("127.0.0.1", 443)
    assert guard.allowed("127.0.0.3", 3128)
    assert not guard.allowed("127.0.0.1", 6379) and not guard.allowed("10.0.0.5", 80)
    assert not guard.allowed("100.100.100.200", 80) and guard.allowed("93.184.216.34", 80)


# -- 8: links as browsers read them ------------------------------------------------------------------------


@pytest.mark.parametrize("url, host", [
    ("https://evil.example\\@bank.com/login", "evil.example"),        # browsers: backslash is a slash
    ("https://evil.example\\\\@bank.com/", "evil.example"),
    ("  https://bank.com/ok", "bank.com"),
    ("https://x@bank%2Ecom/", "bank.com"),                            # percent-decoded host, as browsers do
])
def test_links_are_labelled_with_the_host_a_browser_opens(url, host):
    """Regression: `https://evil.example\\@bank.com/login` was labelled bank.com; browsers open evil.example."""
    assert link_host(url) == host
    link = safe_link(url, "open")
    assert link.endswith(f"({host})>") and link.startswith(f"<https://{host}/") or f"@{host}/" in link


# -- verbatim ------------------------------------------------------------------------------------------------


def test_every_mrkdwn_text_with_collected_text_is_verbatim():
    msg = alert_message({"id": 1, "brand": "Acme", "state": "open"},
                        {"text": "@channel acme is down http://x.example #general", "author": "@here",
                         "url": "https://x.example/1", "source_kind": "rss", "source_id": "news"},
                        {"score": -0.8}, Target("ops", "#ops"))
    texts = [b["text"] for b in msg["blocks"] if b["type"] == "section"]
    texts += [e for b in msg["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert texts and all(t["type"] != "mrkdwn" or t.get("verbatim") is True for t in texts)
    assert plain_message("x")["blocks"][0]["text"]["verbatim"] is True


# -- 9 and 12: secrets in URLs, control characters -----------------------------------------------------------

SECRET_URL = ("https://admin:hunter2pass@feeds.example/rss?private_token=glpat-SECRET1&x=1"
              "&X-Amz-Signature=abcdef0123&sig=SASsig99&key=APIKEY77")
SECRETS = ("hunter2pass", "glpat-SECRET1", "abcdef0123", "SASsig99", "APIKEY77")


def test_scrub_urls_removes_userinfo_and_signed_parameters():
    from monitor.core.scrub import scrub_urls

    out = scrub_urls(f"HTTP 500 from {SECRET_URL} (retrying)")
    assert not any(s in out for s in SECRETS) and "feeds.example/rss?" in out and "x=1" in out


def test_remote_control_characters_are_inert():
    from monitor.core.scrub import inert

    assert inert("a\x1b[2J\rforged\nline\u202e") == "a\\x1b[2J\\x0dforged\\x0aline\\u202e"


def test_secrets_in_a_source_url_reach_no_log_status_db_or_slack_notice(tmp_path):
    """Regression: `http://admin:pass@…`, `?private_token=`, `X-Amz-Signature=` appeared in logs, `monitor
    status`, the database and the Slack health notice; and a server's ESC/CR/LF reached the terminal."""
    with LocalServer(lambda r: Reply(500, b"boom")) as srv:
        url = SECRET_URL.replace("https://", "http://").replace("feeds.example", f"127.0.0.1:{srv.port}")
        cfg, rules = write_config(tmp_path, sources=f"- {{id: leaky, kind: rss, url: '{url}', "
                                  "failure_alert_after: 1}\n")
        env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")}
        args = ["--config", str(cfg), "--rules", str(rules)]
        run = subprocess.run([sys.executable, "-m", "monitor", "run", "--once", *args], capture_output=True,
                             text=True, timeout=60, env=env)
        status = subprocess.run([sys.executable, "-m", "monitor", "status", *args], capture_output=True,
                                text=True, timeout=60, env=env)
    store = Store(tmp_path / "monitor.db", readonly=True)
    try:
        db_text = repr(store.query("SELECT * FROM sources")) + repr(store.query("SELECT payload FROM deliveries"))
    finally:
        store.close()
    assert "HTTP 500" in db_text and "Traceback" not in run.stderr
    for where, text in (("run", run.stdout + run.stderr), ("status", status.stdout + status.stderr),
                        ("database / Slack notice", db_text)):
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{leaked} in {where}"


def test_log_lines_cannot_be_forged_by_remote_text():
    stream = io.StringIO()
    logs.setup("INFO", "text", stream)
    try:
        logging.getLogger("monitor.test").error("poll failed: %s", "boom\x1b[2J\r\n2026-01-01T00:00:00Z INFO ok")
    finally:
        logs.setup("WARNING", "text", sys.stderr)
    out = stream.getvalue()
    assert out.count("\n") == 1 and "\x1b" not in out and "\r" not in out and "\\x1b" in out


# -- 10: a second daemon through a symlink ------------------------------------------------------------------


def test_a_second_run_through_a_symlink_or_hard_link_is_refused(tmp_path):
    """Regression: `--db link.db` (a symlink to the live database) ran a second daemon: 20 messages, 37 posts."""
    real = tmp_path / "real.db"
    Store(real).close()
    (tmp_path / "link.db").symlink_to(real)
    os.link(real, tmp_path / "hard.db")
    with RunLock(str(real)):
        with pytest.raises(LockHeld):
            RunLock(str(tmp_path / "link.db")).acquire()
        code = ("import sys\nfrom monitor.store.runlock import RunLock\n"
                "try:\n    RunLock(sys.argv[1]).acquire()\nexcept Exception as e:\n    print(e); sys.exit(3)\n")
        other = subprocess.run([sys.executable, "-c", code, str(tmp_path / "hard.db")], capture_output=True,
                               text=True, timeout=30)
        assert other.returncode == 3 and "another path" in other.stdout
    with RunLock(str(tmp_path / "link.db")):          # free again once released
        pass


# -- 13: YAML alias tricks ------------------------------------------------------------------------------------

BOMB = ("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(7)))


@pytest.mark.parametrize("text, message", [
    ("routes: &r [{name: x, when: *r}]\n", "recursive alias"),
    (BOMB, "alias bomb"),
])
def test_yaml_alias_tricks_are_refused_with_file_and_line(text, message):
    """Regression: a recursive alias crashed the reload thread; an alias bomb took `monitor check` to 2.5 GB."""
    with Stopwatch() as sw, pytest.raises(ConfigValidationError, match=message) as err:
        parse_yaml(text, "rules.yaml")
    assert "rules.yaml:" in str(err.value)
    sw.assert_within(0.0, 2.0, "refusing")       # no expansion: 2 s on an idle machine, scaled by load


def test_a_recursive_alias_in_rules_yaml_is_a_reload_failure_not_a_dead_thread(tmp_path):
    from tests.harness import Harness, spec_rules

    h = Harness(tmp_path, spec_rules())
    try:
        good = h.app.rules
        h.rules_path.write_text("routes: &r [{name: x, when: *r}]\n")
        assert h.app.reload_rules() is False and h.app.rules is good
        assert h.app.store.one("SELECT 1 AS x FROM deliveries WHERE kind = 'notice'")
    finally:
        h.close()


# -- 14: a corrupted database ---------------------------------------------------------------------------------


def _corrupt(db) -> None:
    """Garbage over a real leaf page (was: at a fixed byte offset, which assumed the page size and the layout)."""
    store = Store(db)
    try:
        damage(store, "feedback")
    finally:
        store.close()


def test_a_corrupted_database_is_one_line_in_status_and_stops_the_start_with_an_ops_alert(tmp_path):
    """Regression: `monitor status` printed a 30-line traceback; the daemon logged "poll crashed" forever."""
    cfg, rules = write_config(tmp_path, sources="[]\n")
    _corrupt(tmp_path / "monitor.db")
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")}
    args = ["--config", str(cfg), "--rules", str(rules)]
    status = subprocess.run([sys.executable, "-m", "monitor", "status", *args], capture_output=True, text=True,
                            timeout=60, env=env)
    assert status.returncode == 1 and "Traceback" not in status.stderr
    said = [line for line in (status.stdout + status.stderr).splitlines() if "corrupted" in line]
    assert len(said) == 1 and "recover" in said[0], status.stdout + status.stderr
    run = subprocess.run([sys.executable, "-m", "monitor", "run", "--once", *args], capture_output=True, text=True,
                         timeout=60, env=env)
    assert run.returncode == 1 and "Traceback" not in run.stderr and "corrupted" in run.stderr
    assert "cannot start" in run.stdout + run.stderr          # the ops message (console sender: no token)


def test_quick_check_is_silent_on_a_sound_database(tmp_path):
    store = Store(tmp_path / "ok.db")
    try:
        assert store.quick_check() is None
    finally:
        store.close()


def test_storage_error_message_names_the_recovery():
    with pytest.raises(StorageError, match="recover"):
        raise StorageError(__import__("monitor.store.database", fromlist=["corrupted"]).corrupted("x.db", "bad"))
