"""The language detector's model, restricted to our labels, kept decompressed in a cache directory.

Why: py3langid ships its model LZMA-compressed (4.5 MB → 55 MB), and decompressing it is three quarters of
the ~0.6 s the first text of every process paid (`monitor score`, each daemon start, each test that starts the
CLI). Restricting the labels (`set_languages`) does not help: it runs after the whole model is read. So the
restricted arrays are written once, uncompressed, and later processes map them read-only (about 20 ms; the
pages are shared by every process on the machine, and the full 142-label model is never resident).

Why it cannot change a result: the arrays are the very ones the identifier classifies with (float32 class
columns of our labels, the byte DFA, the priors), saved and read back bit for bit, and keyed by the model's
source (py3langid's version and the model file's content hash, `source_identity`) and the label list; any
other model or list gets its own entry. Two installations sharing the directory (an upgrade beside the old
virtualenv, two services) each keep theirs: before, an entry replaced every other one, so two versions
rebuilt each other's on every start. The directory is bounded all the same: the `KEEP` entries used last stay.

Where: ``$MONITOR_CACHE_DIR``, else systemd's ``$CACHE_DIRECTORY`` (the unit's ``CacheDirectory=``), else
``$XDG_CACHE_HOME/mention-monitor``, else ``~/.cache/mention-monitor``. If it cannot be written or read, the
model is decompressed as before, and the log says why once per process (never silent, never fatal).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1                                   # bump when what is written changes
_MAPPED = ("ptc", "pc", "nextmove", "row", "out")
KEEP = 4             # entries kept (about 50 MB each): a few installed versions or label lists, each its own
ABANDONED_S = 3600.0  # a private `.langid-*` directory this old was left by a killed writer (writing takes ~1 s)


def cache_root() -> Path:
    for var in ("MONITOR_CACHE_DIR", "CACHE_DIRECTORY"):
        if os.environ.get(var):
            return Path(os.environ[var].split(":")[0])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "mention-monitor" if xdg else Path.home() / ".cache" / "mention-monitor"


def load(languages: tuple[str, ...]) -> Any:
    """A py3langid ``LanguageIdentifier`` (normalised probabilities) that chooses among `languages` only."""
    key = hashlib.sha256(repr((FORMAT, source_identity(), languages)).encode())
    entry = cache_root() / f"langid-{key.hexdigest()[:16]}"
    if entry.is_dir():
        try:
            ident = _read(entry)
            _touch(entry)                    # used: among the last `KEEP`, so no other installation removes it
            return ident
        except (OSError, ValueError, KeyError) as exc:
            log.warning("language model cache %s unreadable (%s): rebuilt from the shipped model", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
    ident = _build(languages)
    try:
        _write(ident, entry)
    except OSError as exc:
        log.info("language model cache not written to %s (%s): each process decompresses the model (~0.5 s); "
                 "set $MONITOR_CACHE_DIR to a writable directory", entry.parent, exc)
    return ident


def source_identity() -> tuple[str, int, str]:
    """py3langid's version, the model file's size and its SHA-256: what the cached arrays are made from.

    The hash is the one the wheel's RECORD holds (free: no 4.5 MB read at each start) when the file still has
    the recorded size, else the file's own (~15 ms; an unpacked copy, a package without RECORD). Not the
    mtime: the same bytes installed twice share one entry, and a file changed in place gets another."""
    from importlib.metadata import PackageNotFoundError, files, version

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    model = (MODEL_DIR / MODEL_FILE).resolve()
    size = model.stat().st_size
    try:
        ver, listed = version("py3langid"), files("py3langid") or []
    except PackageNotFoundError:
        ver, listed = "unknown", []
    for f in listed:
        if f.hash and f.hash.mode == "sha256" and f.size == size and Path(str(f.locate())).resolve() == model:
            return ver, size, base64.urlsafe_b64decode(f.hash.value + "==").hex()     # RECORD's encoding
    with model.open("rb") as fh:
        return ver, size, hashlib.file_digest(fh, "sha256").hexdigest()


def _build(languages: tuple[str, ...]) -> Any:
    """The shipped model, decompressed and restricted (the slow path)."""
    import numpy as np
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # restricted once, before publication: the instance is never mutated afterwards,
    # so concurrent classify() calls are safe
    ident.set_languages([code for code in languages if code in ident.labels])
    # contiguous float32 makes the per-text row gather several times faster than float16 views
    ident.nb_ptc = np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)
    return ident


def _write(ident: Any, entry: Path) -> None:
    """Into a private directory renamed into place: a reader sees a whole entry or none. Then the directory
    is bounded (`_prune`)."""
    import numpy as np

    entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = Path(tempfile.mkdtemp(prefix=".langid-", dir=entry.parent))
    try:
        arrays = {"ptc": ident.nb_ptc, "pc": np.asarray(ident.nb_pc, dtype=np.float32),
                  "classes": np.array(ident.nb_classes), "nextmove": np.frombuffer(ident.tk_nextmove, np.uint32),
                  "row": np.asarray(ident.tk_row, dtype=np.uint32), "out": np.asarray(ident.tk_output, np.int32)}
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        os.rename(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if entry.is_dir():                   # another process wrote it first: the same bytes
            return
        raise
    _prune(entry.parent, keep=entry)


def _touch(entry: Path) -> None:
    try:
        os.utime(entry)
    except OSError:                          # a cache directory this user may read, not write: nothing to bound
        pass


def _prune(root: Path, keep: Path) -> None:
    """Remove the language entries beyond the `KEEP` used last (never `keep`, just written), and private
    directories a killed writer left. Each is first renamed out of the way (atomic: no reader finds half an
    entry under its name; one that already opened some files and not the rest gets an OSError, says so and
    rebuilds), then deleted. Deleting files another process has mapped is safe on Linux (and any POSIX
    system): unlinking removes the name, while the inode and its pages live until the last mapping is gone,
    so that process goes on reading the same bytes and the space is freed when it exits."""
    entries = sorted((p for p in root.glob("langid-*") if p != keep), key=_mtime, reverse=True)
    stale = entries[KEEP - 1:] + [p for p in root.glob(".langid-*") if time.time() - _mtime(p) > ABANDONED_S]
    for old in stale:
        gone = root / f".langid-gone-{os.getpid()}-{old.name}"
        try:
            os.rename(old, gone)             # another process pruning the same one: one rename wins
        except OSError:
            continue
        shutil.rmtree(gone, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read(entry: Path) -> Any:
    """Map the arrays read-only and check they fit together (a truncated or foreign file is a ValueError)."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    a = {name: np.asarray(np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False)) for name in _MAPPED}
    ptc, pc, nextmove, row, out = a["ptc"], a["pc"], a["nextmove"], a["row"], a["out"]
    classes = [str(c) for c in np.load(entry / "classes.npy", allow_pickle=False)]
    if (ptc.dtype != np.float32 or nextmove.dtype != np.uint32 or ptc.ndim != 2
            or not ptc.shape[1] == len(pc) == len(classes) or len(row) != len(out) or len(nextmove) % 256
            or int(row.max()) * 256 >= len(nextmove) or int(nextmove.max()) >= len(out)
            or int(out.max()) >= ptc.shape[0]):
        raise ValueError("arrays do not fit together")
    return LanguageIdentifier(ptc, pc, classes, nextmove.data, out.tolist(), norm_probs=True,
                              tk_row=row.tolist())
