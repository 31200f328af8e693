"""The firehose's routing: many stored mentions under one commit per 500, each still alone in its failure.

Apart from `pipeline` (whose `Pipeline.process_batch` calls it) because the stream's rate wants one commit for
many mentions while `process_pending` wants one per mention: the same stages, a different transaction shape.
Which failures count against a mention, and the breaker, are `failures`'; the outage is `pauses`'.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from monitor.core.errors import StorageUnavailable
from monitor.runtime.failures import PassBreaker, counts_against_mention
from monitor.runtime.pauses import RoutingOutage
from monitor.store.database import Store
from monitor.store.leases import LeaseLost

log = logging.getLogger("monitor.runtime.pipeline")      # said as the pipeline says it: one logger for routing


class Router(Protocol):
    """What the batch needs of `Pipeline` (named here, so this module does not import the one that calls it)."""

    store: Store
    outage: RoutingOutage

    def process(self, row: dict[str, Any]) -> None: ...

    def route_failed(self, row: dict[str, Any], exc: Exception) -> None: ...

    def slow_server(self, exc: Exception, waiting: int | None, probe: Exception | None = None) -> None: ...


class _ServerSlow(Exception):
    """`process_batch`'s breaker tripped: its transaction is rolled back (module doc)."""

    def __init__(self, failure: Exception):
        super().__init__(str(failure))
        self.failure = failure


def process_batch(pipeline: Router, ids: list[int]) -> int:
    """Route many stored mentions under one commit instead of one per mention (the firehose's rate).

    Each mention still goes through `process` (its own savepoint): one that fails is rolled back alone,
    logged, its failure counted once the batch is committed (a transaction of its own), and left
    unprocessed for `process_pending` to retry after its backoff; the others commit.
    """
    if not ids:
        return 0
    done = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        failed: list[tuple[dict[str, Any], Exception]] = []
        routed = 0
        breaker = PassBreaker()
        try:
            rows = pipeline.store.query(
                f"SELECT * FROM mentions WHERE id IN ({','.join('?' * len(chunk))}) AND processed_at IS NULL"
                " AND route_parked_at IS NULL ORDER BY id", tuple(chunk))
            with pipeline.store.tx():
                queue = list(rows)
                while queue:
                    row = queue.pop(0)
                    try:
                        pipeline.process(row)
                        routed += 1
                        queue[:0] = breaker.routed(row)  # those held are tried again, the server works
                        continue
                    except StorageUnavailable as exc:
                        if not counts_against_mention(exc):
                            raise             # not this mention's fault: the batch is rolled back, uncounted
                        failure: Exception = exc    # its savepoint was rolled back; the batch goes on
                    except LeaseLost:
                        raise
                    except Exception as exc:  # noqa: BLE001 - one bad mention never blocks its batch
                        failure = exc
                    found = breaker.failed(row, failure)
                    if found is None:         # nothing routed yet: rolled back uncounted; process_pending probes
                        raise _ServerSlow(failure)
                    failed += found
                failed += breaker.finished()
        except _ServerSlow as slow:
            pipeline.slow_server(slow.failure, len(ids) - start)
            return done
        except StorageUnavailable as exc:
            pipeline.outage.unavailable(exc, len(ids) - start)
            return done
        done += routed
        for row, error in failed:
            try:
                pipeline.route_failed(row, error)
            except StorageUnavailable as exc:
                pipeline.outage.unavailable(exc, len(failed))
                return done
            except Exception:  # noqa: BLE001 - the store is failing: the stream goes on, the next pass retries
                log.exception("routing failed and could not be counted; left for the next pass",
                              extra={"mention_id": row["id"]})
    pipeline.outage.available()
    return done
