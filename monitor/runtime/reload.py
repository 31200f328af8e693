"""Hot reload of both files (config/monitor.yaml and rules.yaml): on SIGHUP, and when a file changes.

Polling each file's (mtime, size, inode) from the daemon's tick is enough (a few seconds of delay) and works
everywhere, including editors that save by rename and config-management tools that replace the file.

Two rules keep reloads quiet for the people who get the notices:
- debounce: a changed file is only read once it has been stable for `settle_s` (2 s), so a half-written
  save is never reported as broken;
- one report per content: the outcome of a given file content (by SHA-256) is reported once, whether it
  came from the watcher or from a SIGHUP; the same broken bytes a second time are logged at debug level only.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config.files import Signature, signature
from monitor.store.database import Store

__all__ = ["FileWatcher", "ReloadWatcher", "ReportedOnce", "Signature", "content_hash", "record_state", "signature"]


def content_hash(path: str | Path) -> str | None:
    """SHA-256 of the file's bytes (None when unreadable: the loader then says why)."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


@dataclass
class FileWatcher:
    """Says a file changed once the change has settled: same signature for `settle_s` seconds."""

    path: str
    settle_s: float = 2.0
    now: Callable[[], float] = time.monotonic
    seen: Signature = None
    _pending: tuple[Signature, float] | None = None

    def __post_init__(self) -> None:
        self.seen = signature(self.path)

    def changed(self) -> bool:
        current = signature(self.path)
        if current is None or current == self.seen:     # a missing file keeps the current config until it is back
            self._pending = None
            return False
        if self._pending is None or self._pending[0] != current:
            self._pending = (current, self.now())       # still being written, or a new save: wait for it to settle
            return False
        if self.now() - self._pending[1] < self.settle_s:
            return False
        self.seen, self._pending = current, None
        return True

    def mark_current(self) -> None:
        """After a SIGHUP reload: the file as it is now has been handled."""
        self.seen, self._pending = signature(self.path), None


@dataclass
class ReloadWatcher:
    """Both files; calls `reload(which)` ("config" or "rules") for each one that changed and settled."""

    paths: dict[str, str]
    reload: Callable[[str], bool]
    settle_s: float = 2.0
    now: Callable[[], float] = time.monotonic
    watchers: dict[str, FileWatcher] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.watchers = {which: FileWatcher(path, self.settle_s, self.now) for which, path in self.paths.items()}

    def check(self) -> dict[str, bool]:
        """Which files were reloaded this call, and whether each reload succeeded."""
        return {which: self.reload(which) for which, w in self.watchers.items() if w.changed()}

    def mark_current(self) -> None:
        for w in self.watchers.values():
            w.mark_current()


def record_state(store: Store, which: str, path: str, ok: bool, message: str | None, at: float) -> None:
    """The one writer of `config_state`: what `monitor status` reports about the running config."""
    with store.tx() as db:
        db.execute("INSERT INTO config_state (file, path, ok, at, message) VALUES (?, ?, ?, ?, ?)"
                   " ON CONFLICT (file) DO UPDATE SET path = excluded.path, ok = excluded.ok, at = excluded.at,"
                   " message = excluded.message",
                   (which, path, int(ok), at, message[:2000] if message else None))


class ReportedOnce:
    """Remembers which (file, content) outcomes were already reported."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str | None, bool]] = set()

    def first(self, path: str, digest: str | None, ok: bool) -> bool:
        key = (path, digest, ok)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
