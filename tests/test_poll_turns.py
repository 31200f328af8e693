"""Polls shared among replicas (monitor/store/poll_turns.py), one step at a time on the session's PostgreSQL.

Regression (CI, round 21: test_sigstop_of_the_stream_and_channel_lease_holder_past_the_ttl...): a replica frozen
past its TTL between claiming a poll and sending its request woke up and asked the feed 3 s after the replica
that had taken the round over: one poll, two requests at the host. Its commits were refused by the fence, but
the request still left, because marking the request as sent swallowed the lost lease. Now the request is held.
"""

from __future__ import annotations

import time

import pytest

from monitor.sources.politeness import HostLimiter, on_first_request
from monitor.store.database import Store
from monitor.store.leases import Coordinator, LeaseLost
from monitor.store.poll_turns import PollTurns, Turn
from tests.replicas_helpers import pg_url_fixture

pg_url = pg_url_fixture          # a fresh schema per test
TTL = 1.0


@pytest.fixture
def replicas(pg_url):
    stores = [Store(pg_url), Store(pg_url)]
    coords = [Coordinator(s, ttl=TTL, holder=f"box{i}:{100 + i}:abc") for i, s in enumerate(stores)]
    yield [PollTurns(c) for c in coords]
    for c, s in zip(coords, stores, strict=True):
        c.halt()
        s.close()


def frozen_past_the_ttl(turns: PollTurns) -> None:
    """What SIGSTOP does to a replica's leases: no renewals, and time passes."""
    turns.coord.halt()
    time.sleep(TTL + 0.3)


def test_a_replica_frozen_past_its_ttl_before_its_request_left_sends_no_request_after_the_takeover(replicas):
    a, b = replicas
    turn_a, _ = a.begin("feed", "example.org", 10.0)
    assert isinstance(turn_a, Turn)
    frozen_past_the_ttl(a)
    turn_b, wait = b.begin("feed", "example.org", 10.0)          # the claim and the host lease have lapsed
    assert isinstance(turn_b, Turn), wait
    b.sent(turn_b)
    limiter, asked = HostLimiter(interval=0.0), []
    with pytest.raises(LeaseLost), on_first_request(lambda: a.sent(turn_a)):
        with limiter.slot("example.org"):                        # where every HTTP kind asks for its slot
            asked.append("request")
    assert asked == []                                           # the host never saw the woken replica
    due = a.coord.store.one("SELECT due_at - ? AS ahead, by_replica FROM poll_due WHERE source_id = 'feed'",
                            (turn_b.started,))
    assert due is not None and due["by_replica"] == b.coord.holder and abs(due["ahead"] - 10.0) < 1e-6
    a.end(turn_a, 0.0)                                           # the poll's end says nothing more


def test_a_source_claimed_by_another_replica_holds_the_request_even_with_the_host_lease_still_held(replicas):
    """The claim row, not only the lease, decides: `by_replica` names who may move the schedule."""
    a, b = replicas
    turn_a, _ = a.begin("feed", "example.org", 10.0)
    assert isinstance(turn_a, Turn)
    with a.coord.store.tx() as db:                               # another replica's claim (a forced poll, say)
        db.execute("UPDATE poll_due SET by_replica = ? WHERE source_id = 'feed'", (b.coord.holder,))
    with pytest.raises(LeaseLost, match="took this poll over"):
        a.sent(turn_a)
    a.end(turn_a, 0.0)


def test_a_poll_whose_claim_stands_moves_the_schedule_every_after_its_start(replicas):
    a, _ = replicas
    turn, _ = a.begin("feed", "example.org", 10.0)
    assert isinstance(turn, Turn)
    a.sent(turn)
    a.sent(turn)                                                 # once: later requests of the poll change nothing
    row = a.coord.store.one("SELECT due_at - ? AS ahead FROM poll_due WHERE source_id = 'feed'", (turn.started,))
    assert row is not None and abs(row["ahead"] - 10.0) < 1e-6
    a.end(turn, 0.0)
