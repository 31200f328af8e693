"""The alerting clock: what the daemon runs every half second and cron once per pass.

Three steps in a fixed order, each its own module: spike detection may open an alert, a group whose
`group_wait` ended is flushed (its first message queued), then every due timer fires (escalations, repeats,
reminders, acknowledgement time-outs, snoozes ending). Keeping the order here, not inside the timers,
means following one tick reads three calls.
"""

from __future__ import annotations

import logging

from monitor.alerting.grouping import flush_due
from monitor.alerting.spike import detect
from monitor.alerting.timers import run_due
from monitor.analyse.routing import Router
from monitor.config.rules import Rules
from monitor.store.database import Store

log = logging.getLogger(__name__)


def tick(store: Store, rules: Rules, brands: list[str], *, router: Router | None = None,
         flush_waiting: bool = False) -> dict[str, int]:
    """One pass over every timer that is due. The daemon calls it every few seconds, cron once per run."""
    spikes = detect(store, rules, router or Router(rules), brands)
    flushed = flush_due(store, rules, waiting_too=flush_waiting)
    fired = run_due(store, rules)
    if spikes or flushed or fired:
        log.info("timers", extra={"spikes": spikes, "flushed": flushed, "fired": fired})
    return {"spikes": spikes, "flushed": flushed, "fired": fired}
