"""Whether a config file changed: its (mtime, size, inode) signature, shared by the daemon's reload watcher
(`monitor.runtime.reload`) and the dashboard's view of rules.yaml (`monitor.ops.dashboard.liverules`).

A stat is enough (and cheap enough to do per request) and works with editors that save by rename and tools
that replace the file."""

from __future__ import annotations

import os
from pathlib import Path

Signature = tuple[int, int, int] | None


def signature(path: str | Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
