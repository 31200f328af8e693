"""Prometheus metrics: opt-in, bound where configured (loopback by default), figures that match the database."""

from __future__ import annotations

import signal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.config.settings import split_listen
from monitor.core.errors import MonitorError
from monitor.runtime.daemon import App, Paths, run_once
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.process import MonitorProcess
from tests.fakes.server import free_port
from tests.fakes.slack import TOKEN, Fault
from tests.test_end_to_end import NEGATIVE, POSITIVE, UNRELATED


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _app(tmp_path, feed_server, fake_slack, metrics: str = "") -> App:
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """, extra=metrics)
    return App(Paths(str(cfg), str(rules)))


def test_endpoint_serves_pipeline_figures(tmp_path, feed_server, fake_slack, slack_env):
    port = free_port()
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE, POSITIVE, UNRELATED])
    app = _app(tmp_path, feed_server, fake_slack, f"metrics:\n  listen: 127.0.0.1:{port}\n")
    try:
        # one failed attempt, then success: an answer that certainly posted nothing (a 5xx may have posted, so
        # it is looked up only after slack.timeout, past this pass's budget)
        fake_slack.faults.append(Fault(200, error="request_timeout"))
        run_once(app, delivery_budget_s=15)
        assert app.metrics.serve(app.config.metrics)
        resp = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert resp.status_code == 200
        m = _samples(resp.text)
        src = (("source", "news"),)
        assert m[("monitor_mentions_collected_total", src)] == 3
        assert m[("monitor_mentions_matched_total", src)] == 2
        assert m[("monitor_mentions_negative_total", src)] == 1
        assert m[("monitor_alerts_opened_total", (("route", "any-negative"),))] == 1
        assert m[("monitor_alerts_sent_total", (("route", "any-negative"),))] == 1
        assert m[("monitor_delivery_failures_total", (("reason", "transient"),))] == 1
        assert m[("monitor_slack_messages_sent_total", (("method", "post"),))] == 1
        assert m[("monitor_poll_duration_seconds_count", src)] == 1
        assert m[("monitor_polls_total", (("result", "ok"), ("source", "news")))] == 1
        assert m[("monitor_open_alerts", (("state", "open"),))] == 1
        assert m[("monitor_outbox_pending", ())] == 0
        assert m[("monitor_source_consecutive_failures", src)] == 0

        app.store.db.execute("UPDATE alerts SET state = 'acknowledged'")
        app.store.db.conn.commit()
        m = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        assert m[("monitor_open_alerts", (("state", "open"),))] == 0
        assert m[("monitor_open_alerts", (("state", "acknowledged"),))] == 1
    finally:
        app.close()


def test_off_by_default(tmp_path, feed_server, fake_slack, slack_env):
    app = _app(tmp_path, feed_server, fake_slack)
    try:
        assert app.config.metrics.listen is None
        assert app.metrics.serve(app.config.metrics) is False
    finally:
        app.close()


@pytest.mark.parametrize("listen, expected", [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464)),
    ("0.0.0.0:9100", ("0.0.0.0", 9100)),
])
def test_listen_address(listen, expected):
    assert split_listen(listen) == expected


def test_port_in_use_is_a_clear_error(tmp_path, feed_server, fake_slack, slack_env):
    port = free_port()
    app = _app(tmp_path, feed_server, fake_slack, f"metrics:\n  listen: 127.0.0.1:{port}\n")
    (tmp_path / "b").mkdir()
    other = _app(tmp_path / "b", feed_server, fake_slack, f"metrics:\n  listen: 127.0.0.1:{port}\n")
    try:
        app.metrics.serve(app.config.metrics)
        with pytest.raises(MonitorError, match=f"metrics.listen 127.0.0.1:{port}: cannot listen"):
            other.metrics.serve(other.config.metrics)
    finally:
        app.close()
        other.close()


def test_textfile_written_by_once(tmp_path, feed_server, fake_slack, slack_env):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    target = tmp_path / "textfile" / "monitor.prom"
    app = _app(tmp_path, feed_server, fake_slack, f"metrics:\n  textfile: {target}\n")
    try:
        run_once(app, delivery_budget_s=10)
    finally:
        app.close()
    m = _samples(target.read_text())
    assert m[("monitor_mentions_negative_total", (("source", "news"),))] == 1
    assert m[("monitor_poll_duration_seconds_count", (("source", "news"),))] == 1


def test_daemon_serves_metrics_on_loopback(tmp_path, feed_server, fake_slack):
    port = free_port()
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """, extra=f"metrics:\n  listen: ':{port}'\n")
    with MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)], env={"SLACK_BOT_TOKEN": TOKEN}) as d:
        d.wait_for("metrics served")
        d.wait_for("delivered")
        m = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        assert m[("monitor_alerts_sent_total", (("route", "any-negative"),))] == 1
        assert m[("monitor_polls_total", (("result", "ok"), ("source", "news")))] == 1
        d.signal(signal.SIGTERM)
        assert d.wait(timeout=30) == 0


def test_time_to_first_response_replies_and_actions_are_metrics(tmp_path, feed_server, fake_slack, slack_env):
    from monitor.respond.replies import ReplyService

    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    target = tmp_path / "textfile" / "monitor.prom"
    app = _app(tmp_path, feed_server, fake_slack, f"metrics:\n  textfile: {target}\n")
    try:
        run_once(app, delivery_budget_s=10)
        alert = app.store.one("SELECT id, route FROM alerts")
        ReplyService(app.store, lambda: app.rules, app.config, app.clock).mark(alert["id"], None, "amy")
        app.metrics.write_textfile(app.config.metrics)
    finally:
        app.close()
    m = _samples(target.read_text())
    route = (("route", alert["route"]),)
    assert m[("monitor_alert_time_to_first_response_seconds_count", route)] == 1
    assert m[("monitor_alert_time_to_first_response_seconds_sum", route)] >= 0
    assert m[("monitor_replies", (("state", "marked"),))] == 1
