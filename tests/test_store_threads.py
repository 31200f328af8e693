"""The Store is shared by the daemon's threads (polls, ticks, delivery, Slack actions): every use of its SQLite
connection goes through its lock. Pinned by the bug that broke it: the spike counter read the connection directly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_outside_the_store_touches_its_connection_directly():
    """`store.db.execute(...)` outside monitor/store skips the lock; use `store.query`/`store.one`/`store.tx()`.
    The one exception: metrics on PostgreSQL read through `store.db`, whose every execute is a locked transaction."""
    reach = re.compile(r"(store|\bdb)\.db\b")
    allowed = {"monitor/ops/metrics.py:yield from self._families(self._store.db)"}
    offenders = [f"{p.relative_to(ROOT).as_posix()}:{line.strip()}" for p in (ROOT / "monitor").rglob("*.py")
                 if p.relative_to(ROOT / "monitor").parts[0] != "store"
                 for line in p.read_text(encoding="utf-8").splitlines() if reach.search(line)]
    assert [o for o in offenders if o not in allowed] == []


def test_spike_counts_wait_for_the_store_lock(tmp_path):
    """Regression (CI: `monitor demo` hung with its main thread in `Thread.start`): the spike counter ran on the
    Store's shared SQLite connection without its lock. It must wait while another thread holds the lock."""
    import threading

    from monitor.alerting.spike import db_counter
    from monitor.store import Store
    store = Store(tmp_path / "m.db")
    count = db_counter(store, "acme")
    done = threading.Event()
    with store._lock:
        worker = threading.Thread(target=lambda: (count(0.0, 1e12), done.set()), daemon=True)
        worker.start()
        assert not done.wait(0.3), "the count ran while another thread held the store"
    assert done.wait(10)
    store.close()


DEADLOCK_SCRIPT = """
import faulthandler, sys, threading, time
from monitor.alerting.spike import db_counter
from monitor.store import Store
faulthandler.dump_traceback_later(20, exit=True)        # a deadlock holds the GIL: only the C watchdog can report
store = Store(sys.argv[1])
count = db_counter(store, "acme")
stop = threading.Event()

def leases():                                           # statements that call back into Python (db_now())
    while not stop.is_set():
        with store.tx() as db:
            db.execute("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2000)"
                       " SELECT SUM(db_now()) FROM r").fetchone()

def spikes():
    while not stop.is_set():
        count(0.0, 1e12)

for target in (leases, spikes):
    threading.Thread(target=target, daemon=True).start()
end = time.monotonic() + 3
while time.monotonic() < end:                           # the daemon starting its threads, as in `monitor demo`
    started = threading.Event()
    threading.Thread(target=started.set, daemon=True).start()
    started.wait()
stop.set()
print("no deadlock")
"""


def test_spike_counts_beside_db_now_statements_do_not_deadlock_the_daemon(tmp_path):
    """Regression: the GIL/SQLite-mutex deadlock itself, in a child process (a deadlocked test process could not
    even fail). Without the lock it froze within a second or two on this machine."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", DEADLOCK_SCRIPT, str(tmp_path / "m.db")], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "no deadlock" in proc.stdout, proc.stderr[-3000:]
