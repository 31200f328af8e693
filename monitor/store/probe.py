"""The server probe: does the database answer a routing-shaped write in time? Asked by the routing pass's breaker.

Why it lives in the store: the store package owns its tables' writes, one writer per table. The probe writes a
stand-in row into `mentions` (and marks it routed, the first write routing makes) and rolls both back, so it
never leaves a row; before, the runtime (`runtime.failures.probe_server`) held that SQL itself, a second writer of
`mentions` outside the store. Same session as the caller's next statements would use (the store's pool), so
under the same `statement_timeout`: a slow, overloaded or locked-up server fails it like the mentions did.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from monitor.core.errors import StorageError, StorageUnavailable

if TYPE_CHECKING:
    from monitor.store.database import Store

log = logging.getLogger("monitor.store.probe")
PROBE_SOURCE = "monitor:probe"      # the stand-in's source_id: no configured source can have it (a colon)


class _RollBack(Exception):
    """Leaves the probe's transaction so that it is rolled back: the stand-in mention is never committed."""


def probe(store: Store) -> StorageUnavailable | None:
    """Insert a stand-in mention and mark it routed in one transaction that is rolled back. None: the server
    answered in time (a refusal is an answer too); else the store's error (a statement timeout: the server is
    slow; a lost connection: an outage)."""
    key = f"probe-{uuid.uuid4().hex}"
    try:
        with store.tx() as db:
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at)"
                       " VALUES (?, 'probe', ?, '', db_now())", (PROBE_SOURCE, key))
            db.execute("UPDATE mentions SET processed_at = db_now() WHERE source_id = ? AND external_id = ?",
                       (PROBE_SOURCE, key))
            raise _RollBack
    except _RollBack:
        return None
    except StorageUnavailable as exc:
        return exc
    except StorageError as exc:
        log.debug("the server probe was refused (it answered): %s", exc)
        return None
