"""Start-up: how long a new process takes before it does its work, against the libraries' floor in the same run.

Every `monitor status`, `monitor score` and daemon start is a new process, and so is each test that starts the
daemon or the CLI, so import time and the cost of building the scorer are paid again and again. Each figure is the
median wall time of ``RUNS`` new processes (after one warm-up, so the file cache is warm), with its ratio to the
floor measured in the same run: a process that only imports the libraries every command needs (pydantic, httpx,
PyYAML, sqlite-utils), which no change here can cut (the machine's speed drifts; the ratio holds better than
seconds). Also the largest peak RSS of those processes. ``app`` is measured inside a child: the imports `monitor run` needs, then building
``App`` (config, rules, store, scorer with the learned model, outbox), then one score (where the lazily built parts
are built). ``run()`` returns figures; it asserts nothing about timing.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
ROOT = Path(__file__).resolve().parents[2]

FLOOR = "import httpx, pydantic, sqlite_utils, yaml"
_APP = """
import json, sys, time
t0 = time.perf_counter()
from monitor.runtime.daemon import App, Paths
t1 = time.perf_counter()
app = App(Paths(sys.argv[1], sys.argv[2]))
t2 = time.perf_counter()
app.analyzer.scorer.score("the app keeps crashing since the update", lang="en")
t3 = time.perf_counter()
app.close()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "first_score": t3 - t2}))
"""


def _config(tmp: Path) -> tuple[str, str]:
    """The shipped example config (two sources, terminal mode) with its database in ``tmp``, migrated."""
    text = (ROOT / "config" / "monitor.yaml").read_text(encoding="utf-8")
    config = tmp / "monitor.yaml"
    config.write_text(text.replace("path: var/monitor.db", f"path: {tmp / 'monitor.db'}"), encoding="utf-8")
    rules = tmp / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    _once([sys.executable, "-m", "monitor", "--config", str(config), "--rules", str(rules), "migrate"])
    return str(config), str(rules)


def _once(argv: list[str], stdin: bytes | None = None) -> tuple[float, bytes]:
    """One new process: (wall seconds, its stdout)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         cwd=ROOT, env=env)
    out, _ = p.communicate(stdin)
    return time.perf_counter() - t0, out


def _median(argv: list[str], stdin: bytes | None = None) -> float:
    _once(argv, stdin)                                        # warm-up: file cache, .pyc files
    return statistics.median(_once(argv, stdin)[0] for _ in range(RUNS))


def run() -> dict:
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        config, rules = _config(Path(d))
        cli = [py, "-m", "monitor", "--config", config, "--rules", rules]
        floor = _median([py, "-c", FLOOR])
        figures: dict[str, object] = {"floor: python, pydantic, httpx, yaml, sqlite-utils (s)": round(floor, 3)}
        for name, argv, stdin in (
            ("monitor --help", [py, "-m", "monitor", "--help"], None),
            ("monitor status", [*cli, "status"], None),
            ("monitor score (one line)", [*cli, "score"], b"this update broke everything\n"),
        ):
            took = _median(argv, stdin)
            figures[f"{name} (s)"] = round(took, 3)
            figures[f"{name} (x floor)"] = round(took / floor, 2)
        parts = [json.loads(_once([py, "-c", _APP, config, rules])[1]) for _ in range(RUNS)]
        for key in ("import", "build", "first_score"):
            figures[f"app: {key} (s, median)"] = round(statistics.median(p[key] for p in parts), 3)
    figures["peak RSS of any child (MB)"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return figures


if __name__ == "__main__":
    print(run())
