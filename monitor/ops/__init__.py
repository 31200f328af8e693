"""Ops: what keeps the daemon observable and manageable. Prometheus metrics, systemd notify/watchdog and
credentials, the `monitor status` health report, and the `monitor ui` browser. Reads every table, writes none.
"""

from __future__ import annotations

__all__: list[str] = []
