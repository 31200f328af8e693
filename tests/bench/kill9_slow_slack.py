"""kill -9 the delivering daemon N times (default 100) while a slow Slack answers: lost and duplicated posts.

    .venv/bin/python -m tests.bench.kill9_slow_slack [N] [--no-history]

`--no-history` withholds channels:history/groups:history/im:history from the fake bot: the outbox then retries
a message whose outcome is unknown at most once, so duplicates are possible (at most one per message).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.fakes import slack as fake_slack
from tests.test_hostile_kill9 import kill_loop


def main() -> None:
    kills = int(next((a for a in sys.argv[1:] if a.isdigit()), "100"))
    if "--no-history" in sys.argv:
        original = fake_slack.FakeSlack.__init__

        def no_history(self, *a, **kw):          # type: ignore[no-untyped-def]
            original(self, *a, **kw)
            self.scopes -= {"channels:history", "groups:history", "im:history"}

        fake_slack.FakeSlack.__init__ = no_history  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        out = kill_loop(Path(tmp), messages=2 * kills, kills=kills, seed=18, budget_s=kills * 8.0)
    print(f"kills={out['kills']} posts={out['posts']} duplicates={out['duplicates']} lost={out['lost']} "
          f"history_lookups={out['lookups']}")


if __name__ == "__main__":
    main()
