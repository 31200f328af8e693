"""At most once: what the outbox does about a post whose outcome it does not know.

Before each post the row is marked in flight (`in_flight_at`, committed) and the post carries the delivery's
id as Slack message metadata. A row found in flight means the answer never came (a timeout, a `kill -9`, a
database that refused to record Slack's ok) or came as an error that may follow the post (a 5xx,
`internal_error`: `senders.may_have_acted`). Such a row is looked for in the channel's history since it went
in flight before anything is posted again. The lookup has three answers: found (recorded as sent), not there
(posted), and "cannot tell" (a Slack error or 429 mid-lookup, more pages than we read): then it is not posted
blindly but waits and is looked for again, said at WARNING and in `monitor status`; after LOOKUP_WINDOW_S of
"cannot tell", "nothing lost" wins once: it is posted one more time with a WARNING that it may appear twice,
and a second unknown outcome that stays uncheckable that long is marked failed rather than risk a third copy
(the weekly report's rule, `ops/dashboard/schedule.py`). Without the history scopes waiting cannot change the
answer, so it is retried once at once, and the log says so (a 5xx: retried with backoff until Slack is back,
said each time: failing it would lose alerts in every outage). A lookup refused for a dead token halts delivery
with the row still in flight: that token could neither post nor read, so nothing is posted blind. An outcome the database refuses to record (disk
full) is kept in memory (`Stall`) and written again before anything else is sent; meanwhile the outbox is
stopped, loudly.

Two parts of the Outbox live here: `InFlight` decides what to do with a post of unknown outcome and has
`Outcomes` write it; `Stall` holds what Slack has and the database could not record yet.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from monitor.core.clock import Clock
from monitor.core.errors import SlackFatal, StorageError
from monitor.notify.lanes import monotonic
from monitor.notify.outcomes import Outcomes
from monitor.notify.senders import ERRED, HISTORY_SCOPES, CannotTell, HistoryUnavailable, Sender
from monitor.store.database import Store

log = logging.getLogger("monitor.notify.outbox")

STALL_REMINDER_S = 60.0
LOOKUP_WINDOW_S = 3600.0       # "cannot tell" this long after it went in flight: posted once more, said
UNKNOWN = "outcome unknown: "  # how the last error of a post in flight begins (then why: a timeout, a 5xx...)


def delivery_key(row: dict[str, Any]) -> str:
    """The id carried in the message metadata: unique across databases sharing a channel (row id + birth)."""
    return f"{int(row['id'])}-{int(float(row['created_at']) * 1000)}"


class InFlight:
    """Looks for a post of unknown outcome in the channel before it is posted again; holds no state of its own."""

    def __init__(self, store: Store, clock: Clock, outcomes: Outcomes):
        self.store = store
        self.clock = clock
        self.outcomes = outcomes            # writes what was decided: failed, backed off, halted, counted

    def already_posted(self, row: dict[str, Any], channel: str, thread_ts: str | None,
                       sender: Sender) -> tuple[str, str] | bool | None:
        """A post whose outcome is unknown: (channel, ts) if Slack has it, False to post (again), None to wait."""
        find = getattr(sender, "find_posted", None)
        where = self._channel_id(row, channel)
        if find is not None:
            try:
                found = find(where, delivery_key(row), float(row["in_flight_at"]), thread_ts)
            except SlackFatal as exc:         # a dead token (TokenRefused): it cannot tell, nor can it post
                self.outcomes.halt(row, exc, f"; delivery {row['id']} may be in Slack already: it is looked for there once "
                           "the token works, not posted again blind")
                return None
            except HistoryUnavailable as exc:
                log.warning("cannot look for a message whose outcome is unknown (%s): grant the bot %s for "
                            "at-most-once delivery", exc, HISTORY_SCOPES, extra={"delivery_id": row["id"]})
            except CannotTell as exc:
                return self._cannot_tell(row, exc)
            else:
                if found:
                    return found
                log.info("message with unknown outcome is not in Slack; posting it", extra={"delivery_id": row["id"]})
                return False
        if str(row["last_error"] or "").startswith(UNKNOWN + ERRED):
            # Slack answered the post with an error (a 5xx): without the history there is no telling, and most such
            # answers come from an outage that posted nothing; retried with backoff as before, said, never failed
            log.warning("retrying a message Slack answered with an error: it may appear twice in Slack (grant %s "
                        "to make delivery at-most-once)", HISTORY_SCOPES, extra={"delivery_id": row["id"],
                                                                                 "error": row["last_error"]})
            return False
        if row["unknown_outcomes"] >= 1:
            self.outcomes.finish(row, "failed", "outcome unknown twice and the channel history cannot be checked; not posted "
                         f"again to avoid duplicates (grant {HISTORY_SCOPES})", logging.ERROR)
            return None
        self.outcomes.unknown_again(row)
        log.warning("retrying a message whose outcome is unknown, once: it may appear twice in Slack (grant %s "
                    "to make delivery at-most-once)", HISTORY_SCOPES, extra={"delivery_id": row["id"]})
        return False

    def _cannot_tell(self, row: dict[str, Any], exc: CannotTell) -> bool | None:
        """The lookup could not finish: wait and look again (None), or, past LOOKUP_WINDOW_S, post once more (False)."""
        age = self.clock.now() - float(row["in_flight_at"])
        if age <= LOOKUP_WINDOW_S:
            self.outcomes.backoff(row, f"not confirmed in Slack: {exc}; not posted again until the channel's history can be "
                          f"read (posted once more after {LOOKUP_WINDOW_S / 60:.0f} min if it never can)",
                          at_least=exc.retry_after)
            return None
        if row["unknown_outcomes"] >= 1:
            self.outcomes.finish(row, "failed", f"outcome unknown twice and the channel's history could not be read for "
                         f"{LOOKUP_WINDOW_S / 60:.0f} min ({exc}); not posted a third time", logging.ERROR)
            return None
        self.outcomes.unknown_again(row)
        log.warning("message with unknown outcome still not checkable after %.0f min (%s); posting it once more: it "
                    "may appear twice in Slack", LOOKUP_WINDOW_S / 60, exc, extra={"delivery_id": row["id"]})
        return False

    def _channel_id(self, row: dict[str, Any], channel: str) -> str:
        """An earlier delivery to this channel already told us its id: spares a conversations.list."""
        if channel[:1] in ("C", "G", "D") and channel.isupper():
            return channel
        known = self.store.one("SELECT slack_channel FROM deliveries WHERE channel = ? AND slack_channel IS NOT NULL"
                               " ORDER BY id DESC LIMIT 1", (row["channel"],))
        return known["slack_channel"] if known else channel



class Stall:
    """Slack said ok, the database refused to record it (disk full): kept here, written again before anything
    else is sent. `stalled` says why, in logs, `monitor status` and systemd's STATUS (through `on_alarm`)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.unrecorded: dict[int, tuple[str, str]] = {}    # delivery id -> (channel, ts) Slack gave
        self.stalled: str | None = None
        self.on_alarm: Callable[[], object] | None = None    # the daemon refreshes systemd's STATUS line
        self._logged = float("-inf")

    def keep(self, delivery_id: int, channel: str, ts: str, exc: Exception) -> None:
        self.unrecorded[delivery_id] = (channel, ts)
        self.stall(f"Slack has delivery {delivery_id} but the database cannot record it ({exc})")

    def flush(self, write: Callable[[int, str, str], None]) -> bool:
        """Write the outcomes the database refused before; True when none is left (sending may go on)."""
        for delivery_id, (channel, ts) in list(self.unrecorded.items()):
            try:
                write(delivery_id, channel, ts)
            except (StorageError, sqlite3.Error) as exc:
                self.stall(f"Slack has delivery {delivery_id} but the database cannot record it ({exc})")
                return False
            del self.unrecorded[delivery_id]
            log.warning("recorded a delivery the database had refused; the outbox resumes",
                        extra={"delivery_id": delivery_id})
        if self.stalled:
            self.stalled = None
            if self.on_alarm:
                self.on_alarm()
        return True

    def stall(self, reason: str) -> None:
        first = self.stalled is None
        self.stalled = reason
        mono = monotonic(self.clock)
        if first or mono - self._logged >= STALL_REMINDER_S:
            self._logged = mono
            log.critical("OUTBOX STOPPED: %s; nothing is sent until the write succeeds (free disk space?)", reason,
                         extra={"unrecorded": sorted(self.unrecorded)})
        if first and self.on_alarm:
            self.on_alarm()
