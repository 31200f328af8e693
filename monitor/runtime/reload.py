"""Hot reload of rules.yaml when the file changes, as well as on SIGHUP.

Polling the file's (mtime, size, inode) from the daemon's tick is enough (a few seconds of delay) and works
everywhere, including editors that save by rename and config-management tools that replace the file. A
change that fails validation is reported once per change, not once per tick: the watcher remembers the
signature it last acted on, whatever the outcome.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

Signature = tuple[int, int, int] | None


def signature(path: str | Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class RulesWatcher:
    """Calls `reload()` when the file at `path` has changed since the last check (or the last reload)."""

    def __init__(self, path: str | Path, reload: Callable[[], bool]):
        self.path = str(path)
        self.reload = reload
        self.seen: Signature = signature(self.path)

    def check(self) -> bool | None:
        """None: unchanged (or gone: a missing file keeps the current rules silently until it is back)."""
        now = signature(self.path)
        if now is None or now == self.seen:
            return None
        self.seen = now
        return self.reload()

    def mark_current(self) -> None:
        """After a SIGHUP reload: the file as it is now has been handled."""
        self.seen = signature(self.path)
