"""`python -m tests.bench.stall`: the stall check (`monitor.ops.stall.routing_stalled`) at 100,000 mentions, on SQLite
and on a local PostgreSQL (tests/pgserver), with its index `mentions_processed` (schema v18) and after dropping it.
Prints the best of 7 runs of each. Figures: README "Routing stalled"."""

from __future__ import annotations

import os
import tempfile
import time

from monitor.ops import stall
from monitor.store.database import Store
from tests.pgserver import fresh_schema_url

N = 100_000
NOW = time.time()
INSERT = ("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at, status)")


def fill(s: Store) -> None:
    """N mentions collected over the past days, all routed but one in 1,000; one daemon registered."""
    with s.tx() as db:
        if s.dialect == "sqlite":
            db.conn.executemany(INSERT + " VALUES ('rss-a', 'rss', ?, 'a mention', ?, ?, 'routed')",
                                [(f"e{i}", NOW - 7200 - i, None if i % 1000 == 0 else NOW - 7200 - i) for i in range(N)])
        else:
            db.execute(INSERT + f" SELECT 'rss-a', 'rss', 'e' || g, 'a mention', {NOW} - 7200 - g, CASE WHEN g % 1000"
                       f" = 0 THEN NULL ELSE {NOW} - 7200 - g END, 'routed' FROM generate_series(0, {N - 1}) g")
        db.execute("INSERT INTO replicas (id, hostname, pid, started_at, seen_at) VALUES ('r1', 'elsewhere', 1, ?, ?)",
                   (NOW - 9000, NOW - 5))
        db.execute("ANALYZE mentions")


def best(s: Store) -> float:
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        assert stall.routing_stalled(s, NOW, paused=False) is not None
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    for kind in ("sqlite", "postgres"):
        s = Store(os.path.join(tempfile.mkdtemp(), "b.db") if kind == "sqlite" else fresh_schema_url())
        fill(s)
        after = best(s)
        with s.tx() as db:
            db.execute("DROP INDEX mentions_processed")
            db.execute("ANALYZE mentions")
        before = best(s)
        print(f"{kind}: routing_stalled at {N:,} mentions: {after * 1000:.2f} ms with mentions_processed, "
              f"{before * 1000:.2f} ms without (best of 7)")
        s.close()


if __name__ == "__main__":
    main()
