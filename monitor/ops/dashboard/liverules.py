"""rules.yaml as the dashboard sees it now: read again when the file changes, as the daemon does.

`monitor ui` runs for weeks; quiet hours, `except:` and routes decide what the alerts board and the health
strip call "held by quiet hours". Each request stats the file (cheap); a changed file is read once it has
not been written for SETTLE_S (a save in progress is never half-read) and validated whole by the same
`load_rules` the daemon's reload uses. A file that does not validate (or is gone) keeps the last good rules,
and says so: `problem` is shown as a warning line in the health strip (and logged once per content) until
the file is fixed. The daemon reports its own reload outcome separately (`config_state`, `monitor status`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from monitor.config.files import Signature, signature
from monitor.config.rules import Rules, load_rules

log = logging.getLogger(__name__)
SETTLE_S = 2.0              # as the daemon's reload watcher: a file written this recently may be half-saved


class LiveRules:
    def __init__(self, path: str | os.PathLike[str] | None, rules: Rules | None, problem: str | None = None):
        self.path = str(path) if path is not None else None
        self.rules = rules                  # the last good rules (None: never loaded)
        self.problem = problem              # why the file on disk is not what is shown, or None
        self.version = 0                    # bumped on every swap: caches built on older rules are dropped
        self._seen: Signature = signature(self.path) if self.path else None
        self._lock = threading.Lock()

    def current(self) -> tuple[Rules | None, str | None]:
        """The rules to use now and, when the file on disk could not be used, why (in plain words)."""
        if self.path is None:
            return self.rules, self.problem
        sig = signature(self.path)
        if sig == self._seen or (sig is not None and time.time() - sig[0] / 1e9 < SETTLE_S):
            return self.rules, self.problem
        with self._lock:
            if sig != self._seen:
                self._seen = sig
                self._load()
            return self.rules, self.problem

    def _load(self) -> None:
        name = Path(self.path or "rules.yaml").name
        kept = ("the dashboard keeps showing quiet hours and routes from the last good version until it is fixed"
                if self.rules is not None else "no rules are loaded, so alerts held by quiet hours show as open")
        try:
            rules = load_rules(self.path or "")
        except Exception as exc:  # noqa: BLE001 - whatever the file holds, the dashboard serves on and says so
            first = " ".join(str(exc).split())[:300]
            self.problem = f"{name} was changed but cannot be used ({first}): {kept}"
            log.error("dashboard: %s reload failed, %s: %s", name, kept, first)
            return
        self.rules, self.problem = rules, None
        self.version += 1
        log.info("dashboard: %s reloaded", name, extra={"routes": len(rules.routes)})
