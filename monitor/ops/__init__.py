"""Ops: what keeps the daemon observable and manageable. Prometheus metrics, systemd notify/watchdog and
credentials, the `monitor status` health report, the `monitor ui` dashboard and the weekly report
(`dashboard/`). Reads every table; writes only `reports` (the weekly report's progress), and feedback clicks
through alerting's functions.
"""

from __future__ import annotations

__all__: list[str] = []
