"""Hot reload of both files: SIGHUP and (settled) file changes swap rules and apply monitor.yaml live where
they can; what needs a restart is said; a broken file keeps the last good config and is reported once per
content to the ops owner without a ping; open alerts keep the policy they opened with."""

from __future__ import annotations

import os
import signal
import time

import pytest

from monitor.runtime.daemon import Daemon
from tests.harness import Harness, spec_rules

BROKEN = spec_rules().replace("notify: support-lead\n    - after: 30m", "notify: suport-lead\n    - after: 30m")


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, spec_rules())
    yield harness
    harness.close()


def _write(path, text: str) -> None:
    path.write_text(text)
    st = os.stat(path)                         # make sure the mtime moves even on coarse filesystems
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def _notices(h: Harness) -> list[str]:
    return [r.text for r in h.sender.roots() if "reload failed" in r.text]


def test_broken_rules_on_sighup_keep_the_old_rules_and_are_reported(h):
    daemon = Daemon(h.app)
    saved = {s: signal.getsignal(s) for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)}
    try:
        daemon.install_signals()
        good = h.app.rules
        h.rules_path.write_text(BROKEN)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):                         # the handler reloads on a thread
            if h.app.store.one("SELECT 1 AS x FROM deliveries WHERE kind = 'notice'"):
                break
            time.sleep(0.02)
        assert h.app.rules is good
        h.deliver()
        (notice,) = _notices(h)
        assert "#comms-alerts" == h.sender.roots()[0].channel
        assert 'unknown owner "suport-lead"' in notice and "rules.yaml:" in notice
        assert "@here" not in notice and "<!here>" not in notice      # regression: config noise paged comms
        # the old rules keep running: a negative mention still reaches the default route's owner
        h.mention()
        h.advance(30)
        assert any(r.channel == "#comms-alerts" and "reload failed" not in r.text for r in h.sender.roots())
        # a file change that is still broken is not reported again on every tick
        h.advance(10, step=2)
        daemon._tick_job()
        h.deliver()
        assert len(_notices(h)) == 1
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def _settle(h: Harness, daemon: Daemon) -> None:
    daemon._tick_job()                 # sees the change...
    h.clock.advance(2.5)
    daemon._tick_job()                 # ...and acts once it has been stable for 2 s


def test_file_change_reloads_from_the_tick(h):
    daemon = Daemon(h.app)
    _write(h.rules_path, spec_rules().replace("notify: comms-oncall\n  group_wait", "notify: support-lead\n  group_wait"))
    _settle(h, daemon)
    assert h.app.rules.defaults.notify == "support-lead"
    assert h.app.outbox.fallback[0].owner == "support-lead"
    _write(h.rules_path, BROKEN)
    _settle(h, daemon)
    daemon._tick_job()
    h.deliver()
    assert h.app.rules.defaults.notify == "support-lead"      # last good rules kept
    assert len(_notices(h)) == 1


def test_open_alerts_keep_their_policy_across_a_reload(h):
    h.mention(reach=25_000)                                   # angry-influencer → standard: 30m then 2h
    h.advance(30)
    t0 = h.alerts()[0]["notified_at"]
    changed = spec_rules().replace("    - after: 30m             # not acknowledged within 30 minutes\n"
                                   "      notify: comms-oncall\n", "").replace("after: 2h", "after: 5m")
    assert changed != spec_rules()
    _write(h.rules_path, changed)
    _settle(h, Daemon(h.app))
    assert len(h.app.rules.escalation_policies["standard"]) == 2
    h.advance(t0 + 29 * 60 - h.clock.now(), step=60)
    assert h.sender.roots("U0HEAD") == [] and h.sender.roots("#comms-alerts") == []
    h.advance(60)
    assert len(h.sender.roots("#comms-alerts")) == 1          # the old policy's level 2, at its old time
    h.mention("Acme customer service was unhelpful, rude, and slow", reach=30_000)   # a new alert
    h.advance(30 + 5 * 60)
    new = h.alerts()[-1]
    assert new["level"] == 1 and len(h.sender.roots("U0HEAD")) == 1   # the new policy: head-of-comms at 5m


def test_a_half_written_file_is_not_reported_debounce(h):
    """Regression: the watcher reloaded on every save and a half-edited file paged the comms channel."""
    daemon = Daemon(h.app)
    _write(h.rules_path, spec_rules()[:200])          # the editor is still writing
    daemon._tick_job()
    h.clock.advance(1.0)
    _write(h.rules_path, spec_rules()[:900])          # still writing, a second later
    daemon._tick_job()
    h.clock.advance(1.5)
    daemon._tick_job()                                # changed 1.5 s ago: not settled yet
    fixed = spec_rules().replace("after: 2h", "after: 3h")
    _write(h.rules_path, fixed)                       # the final save
    daemon._tick_job()
    h.deliver()
    assert _notices(h) == [] and h.app.store.one("SELECT COUNT(*) AS n FROM deliveries")["n"] == 0
    h.clock.advance(2.5)
    daemon._tick_job()
    assert h.app.rules.escalation_policies["standard"][2].after == 3 * 3600


def test_the_same_broken_content_is_reported_once_sighup_or_watcher(h):
    """Regression: a SIGHUP on the same unchanged broken file sent the notice again."""
    daemon = Daemon(h.app)
    _write(h.rules_path, BROKEN)
    _settle(h, daemon)
    daemon.reload()                                   # SIGHUP, same bytes
    daemon.reload()
    h.deliver()
    assert len(_notices(h)) == 1
    assert h.app.metrics.registry.get_sample_value("monitor_config_last_reload_successful") == 0
    _write(h.rules_path, BROKEN + "\n# another broken version\n")
    _settle(h, daemon)
    h.deliver()
    assert len(_notices(h)) == 2                      # new content, new report
    _write(h.rules_path, spec_rules())
    _settle(h, daemon)
    assert h.app.metrics.registry.get_sample_value("monitor_config_last_reload_successful") == 1
    assert h.app.metrics.registry.get_sample_value(
        "monitor_config_last_reload_success_timestamp_seconds") == pytest.approx(h.clock.now())


def test_config_errors_go_to_the_ops_owner(h):
    with_ops = spec_rules().replace("defaults:\n", "defaults:\n  ops: support-lead\n", 1)
    _write(h.rules_path, with_ops)
    daemon = Daemon(h.app)
    _settle(h, daemon)
    assert h.app.rules.defaults.ops == "support-lead"
    _write(h.rules_path, with_ops.replace("notify: support-lead\n    - after: 30m", "notify: suport-lead\n    - after: 30m"))
    _settle(h, daemon)
    h.deliver()
    (notice,) = [r for r in h.sender.roots() if "reload failed" in r.text]
    assert notice.channel == h.app.rules.owners["support-lead"].slack.lstrip("@") != "#comms-alerts"


def test_sighup_reloads_monitor_yaml_live_and_says_what_needs_a_restart(h):
    """Regression: SIGHUP ignored config/monitor.yaml."""
    daemon = Daemon(h.app)
    cfg = h.cfg.read_text()
    assert "widget" not in cfg
    changed = (cfg.replace("brands:\n", "brands:\n  widget:\n    query: widgetco\n", 1)
               .replace("sources:\n  []\n", "sources:\n  - {id: extra, kind: rss, url: 'http://127.0.0.1:9/x.xml'}\n")
               .replace("sentiment:", "sentiment:") + "daemon:\n  max_concurrent_polls: 7\n")
    assert "extra" in changed
    _write(h.cfg, changed)
    daemon.reload()
    assert "widget" in h.app.config.brands and "widget" in h.app.analyzer.config.brands
    assert [s.id for s in h.app.config.sources] == ["extra"] and "extra" in daemon.polls._entries
    assert h.app.config.daemon.max_concurrent_polls == 64          # kept until a restart, and said so
    h.deliver()
    (note,) = [r.text for r in h.sender.roots() if "restart required" in r.text]
    assert "monitor.yaml changed: restart required for daemon.max_concurrent_polls" in note
    daemon.reload()                                                  # same content: said once
    h.deliver()
    assert len([r for r in h.sender.roots() if "restart required" in r.text]) == 1
    # the source removed again, and a broken file keeps the last good config
    _write(h.cfg, cfg + "daemon:\n  max_concurrent_polls: 7\n")
    _settle(h, daemon)
    assert h.app.config.sources == [] and "extra" not in daemon.polls._entries
    _write(h.cfg, cfg.replace("brands:", "brandz:"))
    _settle(h, daemon)
    assert "acme" in h.app.config.brands
    h.deliver()
    assert any("monitor.yaml` reload failed" in r.text and 'unknown key "brandz"' in r.text for r in h.sender.roots())


def test_status_says_the_daemon_runs_an_older_config_than_the_file(h):
    from monitor.ops import health
    daemon = Daemon(h.app)
    assert health.config_problems(h.app.store) == []
    _write(h.rules_path, BROKEN)
    _settle(h, daemon)
    (problem,) = health.config_problems(h.app.store)
    assert problem.startswith("config: rules.yaml reload failed at ") and "running with the last good config" in problem
    assert 'unknown owner "suport-lead"' in problem
    rep = health.report(h.app.config, h.app.store, h.clock.now())
    assert not rep["healthy"] and problem in rep["problems"]
    _write(h.rules_path, spec_rules())
    _settle(h, daemon)
    assert health.config_problems(h.app.store) == []
    _write(h.cfg, h.cfg.read_text() + "daemon:\n  max_concurrent_polls: 9\n")
    _settle(h, daemon)
    (note,) = health.config_problems(h.app.store)
    assert "monitor.yaml changed: restart required for daemon.max_concurrent_polls" in note


def test_storage_unaccent_applies_live_and_needs_no_restart(h):
    """Regression (round 22): editing `storage.unaccent` said "monitor.yaml changed: restart required" and
    `monitor status` kept the config problem until a restart, though only reports read it. Now it applies at
    once; another storage key still waits for the restart, and says so."""
    daemon = Daemon(h.app)
    cfg = h.cfg.read_text()
    assert "\nstorage:\n" in cfg and h.app.config.storage.unaccent == "required"
    _write(h.cfg, cfg.replace("\nstorage:\n", "\nstorage:\n  unaccent: optional\n", 1))
    _settle(h, daemon)
    assert h.app.config.storage.unaccent == "optional"
    from monitor.ops import health
    assert health.config_problems(h.app.store) == []
    h.deliver()
    assert not [r.text for r in h.sender.roots() if "restart required" in r.text]
    _write(h.cfg, cfg.replace("\nstorage:\n", "\nstorage:\n  unaccent: optional\n  connect_timeout: 7s\n", 1))
    _settle(h, daemon)
    (note,) = health.config_problems(h.app.store)
    assert "restart required for storage.connect_timeout" in note and "unaccent" not in note
    assert h.app.config.storage.unaccent == "optional" and h.app.config.storage.connect_timeout != 7.0


def test_storage_retention_applies_on_reload_at_the_next_retention_run(h):
    """Regression (round 22): editing `storage.retention` said "restart required" and the daemon went on
    pruning by the old value until it was restarted, though every retention run reads it afresh. Now a reload
    applies it: no restart note, no config problem, and the next run prunes by the new value."""
    from monitor.ops import health
    daemon = Daemon(h.app)
    h.mention("I love my Acme blender, works great")            # no alert: retention may prune it
    assert h.app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 1
    h.clock.advance(10 * 86400)
    daemon._retention_job()                                       # 90 days by default: kept
    assert h.app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 1
    cfg = h.cfg.read_text()
    _write(h.cfg, cfg.replace("\nstorage:\n", "\nstorage:\n  retention: 7d\n", 1))
    _settle(h, daemon)
    assert h.app.config.storage.retention == 7 * 86400
    assert health.config_problems(h.app.store) == []
    h.deliver()
    assert not [r.text for r in h.sender.roots() if "restart required" in r.text]
    h.clock.advance(86400)                                        # the next daily run
    daemon._retention_job()
    assert h.app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 0


def test_a_reload_that_removes_a_mastodon_instance_stops_its_token_going_there_at_once(h, monkeypatch):
    """Regression (round 22): replies read the sources from the config the daemon started with, so an instance
    removed from a source by a reload still got the source's token until a restart. Now the reply to a mention
    from it fails at once with the reason, and the instance sees no request."""
    from tests.alert_factory import make_alert
    from tests.fakes.mastodon import FakeMastodon
    token = "mastodon-write-token-0123456789"
    monkeypatch.setenv("TEST_MASTODON_TOKEN", token)
    daemon = Daemon(h.app)
    with FakeMastodon(write_token=token) as masto:
        here = f"http://127.0.0.1:{masto.port}"
        source = ("sources:\n  - id: fedi\n    kind: mastodon\n    instances: [{}]\n    tags: [acme]\n"
                  "    token_env: TEST_MASTODON_TOKEN\n    enabled: false\n    every: 1m\n")
        base = h.cfg.read_text()
        assert "sources:\n  []\n" in base
        _write(h.cfg, base.replace("sources:\n  []\n", source.format(here), 1))
        _settle(h, daemon)
        assert h.app.replies.config.source("fedi") is not None
        st = masto.post("acme is broken")
        alert_id = make_alert(h.app.store, source=("fedi", "mastodon"), text="Acme is broken, terrible",
                              raw={"id": st["id"], "instance_url": here})
        _write(h.cfg, base.replace("sources:\n  []\n", source.format("https://mastodon.example"), 1))
        _settle(h, daemon)
        reply = h.app.replies.submit(alert_id, "Sorry, please DM us.", "amy")
        assert h.app.replies.post(reply.id) is None
        row = h.app.replies.get(reply.id)
        assert row.state == "failed" and "not an instance configured" in (row.last_error or ""), row
        assert masto.requests == []
