"""sd_notify over a real unix datagram socket: READY, WATCHDOG from the scheduler loop, RELOADING, STOPPING;
and credentials from $CREDENTIALS_DIRECTORY."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.ops.systemd import Notifier, load_credentials
from monitor.runtime.daemon import App, Daemon, Paths
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import TOKEN
from tests.timing import assert_within


class NotifySocket:
    """What systemd listens on: a datagram socket; each message is one datagram of KEY=value lines."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path if not path.startswith("@") else "\0" + path[1:])
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._recv, daemon=True)
        self._thread.start()

    def _recv(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def with_key(self, key: str) -> list[tuple[float, dict[str, str]]]:
        return [(t, m) for t, m in list(self.messages) if key in m]

    def wait_for(self, key: str, count: int = 1, timeout: float = 15.0) -> list[tuple[float, dict[str, str]]]:
        deadline = time.monotonic() + timeout
        while len(self.with_key(key)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{key} x{count} not received; got {[m for _, m in self.messages]}")
            time.sleep(0.02)
        return self.with_key(key)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    s = NotifySocket(str(tmp_path / "notify.sock"))
    yield s
    s.close()


def test_notifier_speaks_the_datagram_protocol(notify_socket):
    n = Notifier({"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "3000000"})
    assert n.enabled and n.watchdog_interval == 1.5
    assert n.ready("3 sources")
    assert n.watchdog()
    assert n.stopping()
    notify_socket.wait_for("STOPPING")
    msgs = [m for _, m in notify_socket.messages]
    assert msgs[0] == {"READY": "1", "STATUS": "3 sources"}
    assert msgs[1] == {"WATCHDOG": "1"} and msgs[2] == {"STOPPING": "1"}
    n.close()


def test_abstract_namespace_socket():
    name = f"@monitor-test-{uuid.uuid4().hex}"
    s = NotifySocket(name)
    try:
        assert Notifier({"NOTIFY_SOCKET": name}).ready()
        s.wait_for("READY")
    finally:
        s.close()


@pytest.mark.parametrize("env, interval", [
    ({}, None),                                                        # not under systemd: nothing sent
    ({"WATCHDOG_USEC": "2000000"}, None),                              # no socket to ping
    ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),   # for another process
    ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 1.0),
    ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "junk"}, None),
])
def test_watchdog_is_honoured_only_when_meant_for_this_process(env, interval):
    assert Notifier(env).watchdog_interval == interval


def test_outside_systemd_notifications_are_no_ops():
    n = Notifier({})
    assert not n.enabled and not n.ready() and not n.watchdog()


def test_a_vanished_socket_is_logged_not_fatal(tmp_path, caplog):
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert n.ready() is False
    assert "systemd notification failed" in caplog.text


def test_daemon_process_ready_watchdog_reload_stopping(tmp_path, feed_server, fake_slack, notify_socket):
    feed_server.feeds["/news.xml"] = Feed([])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    env = {"SLACK_BOT_TOKEN": TOKEN, "NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "600000"}
    with MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)], env=env) as daemon:
        ready = notify_socket.wait_for("READY")
        assert "1 source(s)" in ready[0][1]["STATUS"]
        pings = notify_socket.wait_for("WATCHDOG", count=4)
        gaps = [b[0] - a[0] for a, b in zip(pings, pings[1:], strict=False)]
        # every WatchdogSec/2 (0.3 s, the promise), inside the 0.6 s limit; the other 0.3 s is the machine's,
        # scaled by load (tests/timing.py): a loaded CI box is slow to run the job, not a daemon that forgot it
        assert_within(max(gaps), 0.3, 0.3, f"the longest gap between pings ({gaps})")
        daemon.signal(signal.SIGHUP)
        notify_socket.wait_for("RELOADING")
        notify_socket.wait_for("READY", count=2)
        assert "MONOTONIC_USEC" in notify_socket.with_key("RELOADING")[0][1]
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, daemon.log()
    notify_socket.wait_for("STOPPING")


def test_watchdog_pings_stop_when_the_scheduler_loop_is_stuck(tmp_path, feed_server, fake_slack, slack_env,
                                                              notify_socket):
    feed_server.feeds["/news.xml"] = Feed([])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    app = App(Paths(str(cfg), str(rules)))
    notifier = Notifier({"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "400000"})
    daemon = Daemon(app, stagger_s=0, notifier=notifier, drain_timeout=2)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        notify_socket.wait_for("WATCHDOG", count=3)
        # Wedge the scheduler loop itself: it cannot look at its job store, so it dispatches nothing.
        with daemon.scheduler._jobstores_lock:
            stuck_at = time.monotonic()
            time.sleep(1.5)
            during = [t for t, _ in notify_socket.with_key("WATCHDOG") if t > stuck_at + 0.3]
        assert during == [], "no ping while the loop is stuck: systemd would restart the daemon"
        before = len(notify_socket.with_key("WATCHDOG"))
        notify_socket.wait_for("WATCHDOG", count=before + 2)       # and pings resume when it is unstuck
    finally:
        daemon.stop.set()
        thread.join(timeout=10)
        app.close()


def test_stalled_delivery_loop_withholds_the_ping(tmp_path, feed_server, fake_slack, slack_env, notify_socket, caplog):
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources="[]\n")
    app = App(Paths(str(cfg), str(rules)))
    daemon = Daemon(app, notifier=Notifier({"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "1000000"}))
    daemon._watchdog_job()
    notify_socket.wait_for("WATCHDOG", count=1)
    daemon.deliver_heartbeat = time.monotonic() - Daemon.DELIVERY_STALL_S - 1
    daemon._watchdog_job()
    time.sleep(0.3)
    assert len(notify_socket.with_key("WATCHDOG")) == 1
    assert "withholding the watchdog ping" in caplog.text
    app.close()


def test_credentials_directory_becomes_environment(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "SLACK_BOT_TOKEN").write_text("xoxb-from-credential\n")
    (creds / "TWITTER_BEARER_TOKEN").write_text("already-set-wins")
    (creds / "not-an-env-name").write_text("ignored")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "from-env")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert load_credentials() == ["SLACK_BOT_TOKEN"]
    assert os.environ["SLACK_BOT_TOKEN"] == "xoxb-from-credential"
    assert os.environ["TWITTER_BEARER_TOKEN"] == "from-env"
    assert "not-an-env-name" not in os.environ


def test_cli_uses_a_credential_and_never_logs_it(tmp_path, feed_server, fake_slack):
    """`LoadCredential=SLACK_BOT_TOKEN:…`: the token reaches Slack from the file, and no log line shows it."""
    from tests.test_end_to_end import NEGATIVE
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "SLACK_BOT_TOKEN").write_text(TOKEN + "\n")
    with MonitorProcess(["run", "--once", "--config", str(cfg), "--rules", str(rules), "--log-level", "DEBUG"],
                        env={"CREDENTIALS_DIRECTORY": str(creds)}, unset=["SLACK_BOT_TOKEN"]) as once:
        assert once.wait(timeout=60) == 0, once.log()
    posts = fake_slack.posts()
    assert len(posts) == 1 and posts[0].token == TOKEN
    assert TOKEN not in once.log()
