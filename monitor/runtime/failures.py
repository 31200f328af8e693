"""The pipeline's failure accounting: which failures count against a mention, and what happens to the others.

Routing a mention can fail in three ways, and only the first counts against it (`route_failed`: `route_attempts`,
`route_error`, a growing backoff, parked after `daemon.max_route_attempts`):

    failure while routing one mention
    ├── its own: analysis raised, a rule broke, the database refused its row (StorageRejected)  → COUNTED
    ├── StorageUnavailable raised by its own statement (STATEMENT_FAILURES: 40001, 40P01, 57014)
    │     ├── the pass has routed a mention already (the server works)                          → COUNTED
    │     └── none routed yet: held (PassBreaker); when SLOW_SERVER_FAILURES fail alike
    │           the server is probed (`Store.probe`, a routing-shaped write, rolled back)
    │           ├── the probe answers in time: the failures were the mentions' own              → COUNTED
    │           └── the probe fails too: the server is slow as a whole                           → NOT counted
    │                 (the pass stops, routing is paused: `pauses`)
    └── any other StorageUnavailable (lost connection, SQLite busy, admin shutdown, pool timeout)
          and LeaseLost: no mention is to blame                                                  → NOT counted
                (the pass stops, routing is paused: `pauses`)

Why a probe: before it, three poison mentions of one kind alone in the queue tripped the breaker at every pass
and were never counted (nothing else routed, so nothing ever settled it), and the mentions it held as suspects
lived in memory only. The probe asks the server the question directly, in the same session and so under the same
`statement_timeout`: a stand-in mention is inserted and marked routed (the first write routing makes), then
rolled back (`Store.probe`: the store owns the writes to its tables, this rolled-back one too). A slow, overloaded or locked-up server fails it like the mentions; a server that answers it has
shown the failures were theirs. Nothing about the suspects needs to outlive the process any more: a restart tries
them again, and a trip probes again. The probe costs one statement timeout per tripped pass.
"""

from __future__ import annotations

import logging
from typing import Any

from monitor.core.errors import StorageError, StorageUnavailable
from monitor.core.scrub import inert, scrub_urls
from monitor.store.database import Store

# a child of the pipeline's logger: the failure accounting is one of its stages, and its logging config covers it
log = logging.getLogger("monitor.runtime.pipeline.failures")
ROUTE_BACKOFF_S = 30.0    # a failed mention is retried after 30 s, then 1 m, 2 m... (doubling, at most 30 m)
ROUTE_BACKOFF_MAX_S = 1800.0
ROUTE_ERROR_CHARS = 300
_QUOTE = 16               # an error message quoting this many characters of the mention is withheld
# PostgreSQL SQLSTATEs that are "unavailable" but tied to the statement that raised them: counted (module doc)
STATEMENT_FAILURES = {"40001", "40P01", "57014"}     # serialization failure, deadlock, statement timeout

SLOW_SERVER_FAILURES = 3
"""How many mentions, the first of a pass, must all fail with statement failures of one SQLSTATE class (and none be
routed) before the pass asks whether the server is at fault (`Store.probe`). One is a poison mention; two poison
mentions side by side happen; three in a row of the same kind, with not one mention routed, may be a server that
is slow, overloaded or locked up as a whole: worth one probe. Small, so a slow server costs each pass at most
three statement timeouts and the probe's."""


def counts_against_mention(exc: StorageUnavailable) -> bool:
    """True when this unavailable error came from the mention's own statement (see the module doc)."""
    return exc.sqlstate in STATEMENT_FAILURES


def sqlstate_class(exc: Exception) -> str | None:
    """The SQLSTATE class (first two characters) of a statement failure; None for any other failure."""
    if isinstance(exc, StorageUnavailable) and counts_against_mention(exc):
        return (exc.sqlstate or "")[:2]
    return None


Failure = tuple[dict[str, Any], Exception]


class PassBreaker:
    """One pass's circuit breaker (module doc): holds the statement failures of the mentions tried before any is
    routed and hands them back to be tried again once one is; trips when SLOW_SERVER_FAILURES of them fail
    alike, and the pass then probes the server. `suspects`: the failures a tripped earlier pass held (the probe
    failed too), tried again after this pass's first routed one or once a probe answers."""

    def __init__(self, suspects: list[Failure] | None = None):
        self.suspects: list[Failure] = list(suspects or [])
        self.held: list[Failure] = []     # this pass's statement failures, none routed yet
        self.settled = False              # a mention was routed, or the failures differ: count as they come

    def routed(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """`row` was routed, so the server works: the rows held (and the suspects) to be tried again now."""
        self.settled = True
        again = {int(r["id"]): r for r, _e in self.suspects + self.held}
        again.pop(int(row["id"]), None)
        self.suspects, self.held = [], []
        return list(again.values())

    def server_answers(self) -> tuple[list[Failure], list[dict[str, Any]]]:
        """The probe answered in time after a trip: the server works. Returns (the failures of this pass, to
        count now: they were the mentions' own; the suspects of an earlier pass, to try again now)."""
        self.settled = True
        mine = {int(r["id"]) for r, _e in self.held}
        count, again = self.held, [r for r, _e in self.suspects if int(r["id"]) not in mine]
        self.suspects, self.held = [], []
        return count, again

    def failed(self, row: dict[str, Any], exc: Exception) -> list[Failure] | None:
        """The failures to count now ([]: held for now); None: the breaker trips, the pass probes the server."""
        kind = sqlstate_class(exc)
        if self.settled or kind is None:     # the server works, or the mention's own failure (analysis, constraint)
            return [(row, exc)]
        if any(sqlstate_class(e) != kind for _r, e in self.suspects + self.held):
            self.settled = True              # failures of different kinds: not one trouble of the server
            found, self.held = [*self.held, (row, exc)], []
            return found
        self.held.append((row, exc))
        if self.suspects:                    # no mention routed since a pass tripped on this: probe again
            return None
        return None if len(self.held) >= SLOW_SERVER_FAILURES else []

    def trip(self) -> None:
        """The probe failed too: the pass stops, what it held joins the suspects, not counted (one per mention)."""
        self.suspects = list({int(r["id"]): (r, e) for r, e in self.suspects + self.held}.values())
        self.held = []

    def finished(self) -> list[Failure]:
        """No more mentions in this pass: what it held (fewer than trip the breaker) is counted as before, unless
        a tripped pass left suspects (then it joins them: the server has not been seen working since)."""
        if self.suspects:
            self.trip()
            return []
        found, self.held = self.held, []
        return found


def route_failed(store: Store, row: dict[str, Any], exc: Exception, limit: int) -> None:
    """Count a failed routing of `row` in its own transaction (the routing itself was rolled back), release
    its claim, set its backoff, and park it after `limit` (`daemon.max_route_attempts`) failures (logged once
    at ERROR). The one writer of the mention's `route_*` columns.

    If even this write fails the store itself is failing, not the mention: that error is raised, so the
    pass stops as before and nothing is counted against the mention.
    """
    mention_id = int(row["id"])
    error = route_error(exc, row)
    now = store.now()
    with store.tx() as db:
        cur = db.execute("SELECT route_attempts FROM mentions WHERE id = ? AND processed_at IS NULL",
                         (mention_id,)).fetchone()
        if cur is None:         # routed after all (the failure came after its commit, e.g. on_alert)
            log.warning("after routing mention %s: %s", mention_id, error, exc_info=exc,
                        extra={"mention_id": mention_id})
            return
        attempts = int(cur[0] or 0) + 1
        parked = attempts >= limit
        backoff = min(ROUTE_BACKOFF_S * 2 ** (attempts - 1), ROUTE_BACKOFF_MAX_S)
        db.execute("UPDATE mentions SET route_attempts = ?, route_error = ?, route_failed_at = ?,"
                   " route_retry_at = db_now() + ?, route_parked_at = ?, claimed_until = NULL WHERE id = ?",
                   (attempts, error, now, backoff, now if parked else None, mention_id))
    extra = {"mention_id": mention_id, "source_id": row.get("source_id"), "attempt": attempts,
             "max_attempts": limit, "error": error}
    if parked:
        log.error("mention %s parked after %s failed routing attempts (%s); it is kept and no longer routed: "
                  "fix the cause, then `monitor retry-mentions --id %s` (or --all)", mention_id, attempts,
                  error, mention_id, exc_info=exc, extra=extra)
    else:
        log.warning("routing mention %s failed (attempt %s of %s): %s; the others go on, it is retried in %s s",
                    mention_id, attempts, limit, error, int(backoff), exc_info=exc, extra=extra)


def route_error(exc: BaseException, row: dict[str, Any]) -> str:
    """The exception's type and message for the `route_error` column and `monitor status`: capped, made inert,
    secrets out of URLs, and withheld when it quotes the mention (an untrusted text is never echoed back)."""
    message = scrub_urls(str(exc))[:ROUTE_ERROR_CHARS]
    quoted = [str(row.get(k) or "") for k in ("text", "title", "author")]
    kind = type(exc).__name__
    driver = getattr(exc, "driver", None) if isinstance(exc, StorageError) else None
    if driver and message.startswith(f"{driver}: "):        # the store's error already names the driver's
        kind, message = driver, message[len(driver) + 2:]
    if any(message[i:i + _QUOTE] in q for i in range(max(0, len(message) - _QUOTE + 1)) for q in quoted
           if len(q) >= _QUOTE):
        message = "(message withheld: it quotes the mention)"
    return inert(f"{kind}: {message}" if message else kind)[:ROUTE_ERROR_CHARS]


def retry_mentions(store: Store, ids: list[int] | None = None, *, all_or_none: bool = False) -> list[int]:
    """`monitor retry-mentions`: reset the failure count of these mentions (None: every failing or parked one)
    so the next pass routes them again. Routed mentions are left alone. Returns the ids reset; with
    `all_or_none`, nothing is reset unless every id given is failing or parked (then the ids that are)."""
    where = "processed_at IS NULL AND (route_attempts > 0 OR route_parked_at IS NOT NULL)"
    params: tuple[Any, ...] = ()
    if ids is not None:
        if not ids:
            return []
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params = tuple(ids)
    with store.tx() as db:
        found = [int(r[0]) for r in db.execute(f"SELECT id FROM mentions WHERE {where} ORDER BY id", params).fetchall()]
        if ids is not None and all_or_none and len(found) < len(set(ids)):
            return found
        if found:
            db.execute(f"UPDATE mentions SET route_attempts = 0, route_retry_at = NULL, route_parked_at = NULL,"
                       f" claimed_until = NULL WHERE id IN ({','.join('?' * len(found))})", tuple(found))
    if found:
        log.warning("%s mention(s) reset for routing on the next pass", len(found), extra={"mention_ids": found[:50]})
    return found


