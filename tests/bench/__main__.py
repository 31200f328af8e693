"""`make bench`: every scenario against local servers, figures as ratios to a baseline run in this process."""

from __future__ import annotations

import importlib
import resource
import sys
import time

SCENARIOS = [
    ("pipeline", "tests.bench.pipeline", "mentions/s through match+score+store+route vs bare VADER"),
    ("matching", "tests.bench.matching", "brand matching with 10 vs 1,000 keywords"),
    ("scoring", "tests.bench.scoring", "sentiment scoring vs bare VADER"),
    ("firehose", "tests.bench.firehose", "Jetstream posts/s with 1,000 brand keywords vs bare JSON decoding"),
    ("latency", "tests.bench.latency", "stream post to fake Slack, default settings: trickle and burst"),
    ("slack", "tests.bench.slack", "hostile-alert rendering; outbox throughput vs a bare WebClient loop"),
    ("lifecycle", "tests.bench.lifecycle", "grouping storm vs distinct stories; timer tick cost"),
    ("polling", "tests.bench.polling", "1,000 RSS sources, 90% answering 304, vs the same round without conditional GET"),
    ("scale_polling", "tests.bench.scale_polling", "5,000 RSS sources on 50 hosts at a 5-minute interval, time "
     "compressed 10x: CPU per round vs bare HTTP, drift, threads, memory"),
    ("operations", "tests.bench.operations", "retention pruning, metrics scrape and status on 200k mentions"),
    ("dashboard", "tests.bench.dashboard", "dashboard pages rendered on 100k mentions over 30 days"),
    ("startup", "tests.bench.startup", "new processes: `monitor --help`, `status`, `score`, App() vs "
     "importing the libraries alone"),
    ("replicas", "tests.bench.replicas", "mentions routed/s by 1, 2 and 3 replicas on one PostgreSQL, beside "
     "one process on SQLite"),
]


def main(argv: list[str]) -> int:
    wanted = set(argv) or {name for name, _, _ in SCENARIOS}
    for name, module, what in SCENARIOS:
        if name not in wanted:
            continue
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            print(f"[{name}] skipped: {exc}")
            continue
        t0 = time.perf_counter()
        figures = mod.run()
        took = time.perf_counter() - t0
        print(f"[{name}] {what}  ({took:.1f}s)")
        for key, value in figures.items():
            print(f"    {key:<28} {value:,.3f}" if isinstance(value, float) else f"    {key:<28} {value}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak_mb:,.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
