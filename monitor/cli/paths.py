"""Where the two files are when nobody says: `$MONITOR_CONFIG`/`$MONITOR_RULES`, then /etc/mention-monitor/,
then the working directory (the checkout layout `make run` uses).

Each file is looked up on its own, so a packaged install can keep rules in /etc and a developer can point at
one file with an environment variable. The first candidate that exists wins; when none does, the
working-directory path is returned so the "file not found" error names the place a newcomer expects.
"""

from __future__ import annotations

import os
from pathlib import Path

ETC = Path("/etc/mention-monitor")
DEFAULTS = {"config": ("MONITOR_CONFIG", "monitor.yaml", "config/monitor.yaml"),
            "rules": ("MONITOR_RULES", "rules.yaml", "rules.yaml")}


def default_path(which: str, environ: dict[str, str] | None = None, etc: Path | None = None) -> str:
    """The path `--config` (which="config") or `--rules` (which="rules") means when not given."""
    env = os.environ if environ is None else environ
    var, etc_name, local = DEFAULTS[which]
    if env.get(var):
        return env[var]                     # explicit, even if missing: the error then names it
    candidate = (etc or ETC) / etc_name
    if candidate.is_file():
        return str(candidate)
    return local
