"""The language detector's model, restricted to our labels, kept decompressed in a cache directory.

Why: py3langid ships its model LZMA-compressed (4.5 MB → 55 MB), and decompressing it is three quarters of
the ~0.6 s the first text of every process paid (`monitor score`, each daemon start, each test that starts the
CLI). Restricting the labels (`set_languages`) does not help: it runs after the whole model is read. So the
restricted arrays are written once, uncompressed, and later processes map them read-only (about 20 ms; the
pages are shared by every process on the machine, and the full 142-label model is never resident).

Why it cannot change a result: the arrays are the very ones the identifier classifies with (float32 class
columns of our labels, the byte DFA, the priors), saved and read back bit for bit, and keyed by py3langid's
version, the model file's size and mtime, and the label list; any other model or list gets its own entry.

Where: ``$MONITOR_CACHE_DIR``, else systemd's ``$CACHE_DIRECTORY`` (the unit's ``CacheDirectory=``), else
``$XDG_CACHE_HOME/mention-monitor``, else ``~/.cache/mention-monitor``. If it cannot be written or read, the
model is decompressed as before, and the log says why once per process (never silent, never fatal).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1                                   # bump when what is written changes
_MAPPED = ("ptc", "pc", "nextmove", "row", "out")


def cache_root() -> Path:
    for var in ("MONITOR_CACHE_DIR", "CACHE_DIRECTORY"):
        if os.environ.get(var):
            return Path(os.environ[var].split(":")[0])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "mention-monitor" if xdg else Path.home() / ".cache" / "mention-monitor"


def load(languages: tuple[str, ...]) -> Any:
    """A py3langid ``LanguageIdentifier`` (normalised probabilities) that chooses among `languages` only."""
    from importlib.metadata import version

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    model = MODEL_DIR / MODEL_FILE
    st = model.stat()
    key = hashlib.sha256(repr((FORMAT, version("py3langid"), st.st_size, st.st_mtime_ns, languages)).encode())
    entry = cache_root() / f"langid-{key.hexdigest()[:16]}"
    if entry.is_dir():
        try:
            return _read(entry)
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
    """Into a private directory renamed into place: a reader sees a whole entry or none. Other entries (an
    older py3langid's) are removed; a process still mapping one keeps its pages until it exits."""
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
    for old in entry.parent.glob("langid-*"):
        if old != entry:
            shutil.rmtree(old, ignore_errors=True)


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
