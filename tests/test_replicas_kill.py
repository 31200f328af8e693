"""The acceptance run of issue 15: `kill -9` of the worst replica to lose, mid-load, mid-poll, mid-escalation.

Three real `monitor run` replicas on one PostgreSQL, three slow feed hosts (two feeds each) that log every
request, a local Jetstream, a FakeSlack with latency, seven channels and a three-level escalation policy whose
levels come seconds apart (`tests.replicas_helpers.Rig`). The first replica starts alone, so it takes the
stream and every channel with traffic; the other two join; the victim is read from the `leases` table (the
stream lease and the most channel leases), killed the moment it holds a host lease (mid-poll) if that comes
within one `every`, and always while an announced escalating alert has a level still to fire (read from
its row), so a level falls due across the kill. Then everything the issue lists is checked in this one run,
and the figures are printed.
The SIGSTOP, rolling SIGTERM and `pg_ctl restart` scenarios (tests/test_replicas.py) run the same checks.
"""

from __future__ import annotations

import signal

import pytest

from tests.replicas_helpers import Rig, pg_url_fixture  # noqa: F401 - the `pg_url` fixture


@pytest.mark.slow
def test_kill_9_of_the_stream_and_channel_lease_holder_mid_load_loses_nothing_sends_nothing_twice_and_escalates_once(
        tmp_path, pg_url):
    with Rig(tmp_path, pg_url) as rig:
        rig.start()
        kill = rig.hit_the_worst(signal.SIGKILL)
        rig.proc(kill.victim or 0).wait(10)
        rig.stream_resumed(kill)
        rig.settle()
        figures = rig.check(in_flight=1)             # at most the root in flight at the kill, per channel
        print("kill -9 of the stream + channel holder:", figures)
