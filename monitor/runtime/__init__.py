"""Runtime: the daemon and cron pass that drive every stage.

The `Pipeline` stores collected mentions (the only writer of `mentions`) and routes them through the
analyser into alerting; the `Poller` and its bounded, host-aware dispatcher poll sources on schedule; stream
runners keep pushed sources connected; `reload` watches the config files; `daemon` wires it all together
with the outbox, the alert clock, signals and systemd.
"""

from __future__ import annotations

from monitor.runtime.daemon import App, Paths, run_daemon, run_once

__all__ = ["App", "Paths", "run_daemon", "run_once"]
