"""kill -9 the daemon again and again while a slow Slack is answering: with the history scope granted, no
message is lost and none is posted twice (issue 18, item 5: "20 kill -9 during slow Slack, 20 duplicates").

Slack here posts at once and answers 0.3 s later, so most kills land between "Slack has it" and "we recorded
it": the row is left in flight, and the next daemon finds it in `conversations.history` by its metadata.
`tests/bench/kill9_slow_slack.py` runs the same with 100 kills for the README figure.

Regression (flaky under load, round 21): "assert 3 >= 5" kills. The 45 s budget is the test's own work, not a
promise: with two CPU burners beside other work on 2 cores (load 6-8) a daemon took 9-21 s from its start to
its first post, so only 3 rounds fit (4 runs of 4 failed so), and a round whose daemon had not posted within
the fixed 20 s wait was killed while still starting and counted anyway (it proves nothing: `lookups` was 0).
Kills now count only when they land mid-delivery (`landed`); when the unscaled budget gives fewer than
MIN_LANDED, the budget and the wait are widened by the machine's measured slowness (tests/timing.py), and so is
the final drain if it runs out. The promises (0 lost, 0 duplicates, a post found by lookup) are unchanged: those
4 failing runs lost nothing and posted nothing twice; not a product bug."""

from __future__ import annotations

import functools
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor.core.clock import SystemClock
from monitor.core.model import Target
from monitor.notify.queue import enqueue
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.process import kill9_loop, run_until
from tests.fakes.slack import TOKEN, FakeSlack
from tests.timing import slowness

CHANNELS = [Target("comms-oncall", "#comms-alerts"), Target("security", "#security-incidents"),
            Target("head-of-comms", "@U0HEAD")]
MIN_LANDED = 5          # kills that must land mid-delivery for the test to prove anything


def _sent(db: Path) -> int:
    store = Store(db, SystemClock(), readonly=True)
    try:
        return store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'sent'")["n"]
    finally:
        store.close()


def kill_loop(tmp_path: Path, *, messages: int, kills: int, post_delay: float = 0.3, seed: int | None = None,
              budget_s: float = 120.0, min_landed: int = 0) -> dict[str, int | float]:
    """Queue `messages`, then start and kill -9 the daemon `kills` times mid-delivery, then let it finish.

    `budget_s` and the drain's 60 s are our own work (daemon start-ups): when they do not give `min_landed`
    kills that landed mid-delivery, or the drain does not finish, they are widened by the machine's slowness."""
    rng = random.Random(seed)
    with FakeSlack(post_delay=post_delay) as slack:
        cfg, rules = write_config(tmp_path, sources="[]\n", slack_url=slack.api_url)
        cfg.write_text(cfg.read_text().replace("slack:\n", "slack:\n  interactive: off\n"))
        db = tmp_path / "monitor.db"
        store = Store(db, SystemClock())
        with store.tx() as tx:
            for i in range(messages):
                enqueue(tx, store.now(), f"kill:{i}", "post", CHANNELS[i % len(CHANNELS)], {"text": f"alert {i:03d}"})
        store.close()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN}
        env.pop("SLACK_APP_TOKEN", None)
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]

        def all_sent() -> bool:
            return _sent(db) >= messages

        rounds: list[tuple[float, bool]] = []
        loop = functools.partial(kill9_loop, cmd, env, done=all_sent, activity=lambda: len(slack.posts()),
                                 pause=lambda: rng.uniform(0.0, post_delay * 1.5),   # mostly while Slack answers
                                 rounds=rounds)
        started, factor = time.monotonic(), 1.0
        loop(max_kills=kills, deadline=started + budget_s)
        landed = sum(moved for _, moved in rounds)
        if landed < min_landed and not all_sent():
            factor = slowness()              # measured only when the unscaled budget was missed
            print(f"{landed} of {len(rounds)} kills landed in {budget_s:g}s (seconds to the first post: "
                  f"{[round(t, 1) for t, _ in rounds]}); machine slowness x{factor:.1f}: going on until "
                  f"{budget_s * factor:.0f}s", file=sys.stderr)
            loop(max_kills=kills - landed, deadline=started + budget_s * factor, wait_s=20.0 * factor)
        run_until(cmd, env, done=all_sent, timeout=60, step=0.05, stop_timeout=30)
        if not all_sent():
            factor = max(factor, slowness())
            run_until(cmd, env, done=all_sent, timeout=60 * factor, step=0.05, stop_timeout=30)
        counts = Counter(c.args["text"] for c in slack.posts())
        lost = messages - len([t for t in counts if t.startswith("alert ")])
        return {"kills": len(rounds), "landed": sum(moved for _, moved in rounds), "posts": len(slack.posts()),
                "duplicates": sum(n - 1 for n in counts.values()), "lost": lost,
                "lookups": sum(c.method == "conversations.history" for c in slack.calls),
                "slowest_start_s": round(max((t for t, _ in rounds), default=0.0), 1), "slowness": round(factor, 1)}


@pytest.mark.slow
def test_kill_9_during_slow_slack_loses_nothing_and_posts_nothing_twice(tmp_path):
    out = kill_loop(tmp_path, messages=24, kills=15, seed=int(os.environ.get("CRASH_SEED", "0")) or None,
                    budget_s=45, min_landed=MIN_LANDED)
    print(out)
    assert out["landed"] >= MIN_LANDED, out             # kills while a post was under way, not while starting
    assert out["lost"] == 0 and out["duplicates"] == 0, out
    assert out["lookups"] >= 1, out                     # some kill did land on an unrecorded post
