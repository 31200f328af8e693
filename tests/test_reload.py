"""Hot reload: SIGHUP and file changes swap rules; a broken file keeps the last good rules and is reported
to the default owner; open alerts keep the policy they opened with."""

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


def test_file_change_reloads_from_the_tick(h):
    daemon = Daemon(h.app)
    _write(h.rules_path, spec_rules().replace("notify: comms-oncall\n  group_wait", "notify: support-lead\n  group_wait"))
    daemon._tick_job()
    assert h.app.rules.defaults.notify == "support-lead"
    assert h.app.outbox.fallback[0].owner == "support-lead"
    _write(h.rules_path, BROKEN)
    daemon._tick_job()
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
    Daemon(h.app)._tick_job()
    assert len(h.app.rules.escalation_policies["standard"]) == 2
    h.advance(t0 + 29 * 60 - h.clock.now(), step=60)
    assert h.sender.roots("U0HEAD") == [] and h.sender.roots("#comms-alerts") == []
    h.advance(60)
    assert len(h.sender.roots("#comms-alerts")) == 1          # the old policy's level 2, at its old time
    h.mention("Acme customer service was unhelpful, rude, and slow", reach=30_000)   # a new alert
    h.advance(30 + 5 * 60)
    new = h.alerts()[-1]
    assert new["level"] == 1 and len(h.sender.roots("U0HEAD")) == 1   # the new policy: head-of-comms at 5m
