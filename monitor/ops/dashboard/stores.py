"""How the dashboard opens the store, on SQLite and on PostgreSQL alike (`Stores.read()`, `Stores.write()`).

SQLite: a read-only Store per request (opening a file is cheap, and each request sees the file as it is now,
a new schema or damage included) and a short-lived read-write Store per feedback click, as before.

PostgreSQL: one read-only Store (a pool whose sessions are read-only) shared by every request, and one
read-write Store for the clicks, opened on first use without migrating (the replicas own the schema; the reader
checked its version at start). A connection over the network is not cheap. While the server is down a query
raises StorageUnavailable (the page is a 503 in words) within `storage.connect_timeout`; the dashboard then
`retire()`s its stores, so the next request opens new ones (one connection tried first: a refused one answers at
once) and the pages work again as soon as the server is back, without a restart. Why not wait for the pool to
reconnect: psycopg_pool doubles its reconnection delay after each failure, so after a 23 s outage the pages came
back 13 s after the server did (measured), and later still after a longer one. A Store that could not be opened
is not kept either: the next request tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from monitor.store.database import Store, is_url

RETIRE_S = 30.0      # a retired store is closed this long after, once the requests that hold it are done


class Stores:
    """The dashboard's way to its database. Opening it on PostgreSQL connects once, so a server that is down or
    refuses the user fails the start in one line (StorageUnavailable/StorageError: the URL without its password)."""

    def __init__(self, target: str, connect_timeout: float | None = None):
        """`connect_timeout` (storage.connect_timeout): how long a PostgreSQL connection, or a pooled one while
        the server is down, is waited for before the page says so (None: the process's default)."""
        self.target = target
        self.connect_timeout = connect_timeout
        self.postgres = is_url(target)
        self._lock = threading.Lock()
        self._shared: dict[bool, Store] = {}
        if self.postgres:
            self._open(readonly=True)

    def _open(self, *, readonly: bool) -> Store:
        with self._lock:
            store = self._shared.get(readonly)
        if store is not None:
            return store
        # the reader checks the schema version (migrate=True on a read-only store only checks it); the writer
        # never migrates: the replicas own the schema. Opened outside the lock: a server that does not answer
        # holds up only the requests that need it.
        store = Store(self.target, readonly=readonly, migrate=readonly, connect_timeout=self.connect_timeout)
        with self._lock:
            kept = self._shared.setdefault(readonly, store)
        if kept is not store:            # another request opened one meanwhile
            store.close()
        return kept

    def retire(self) -> None:
        """The database did not answer (PostgreSQL): the next request opens new stores; these are closed after
        RETIRE_S, when the requests still using them are long done. Nothing to do on SQLite."""
        with self._lock:
            retired, self._shared = list(self._shared.values()), {}
        for store in retired:
            timer = threading.Timer(RETIRE_S, store.close)
            timer.daemon = True
            timer.start()

    def read(self) -> AbstractContextManager[Store]:
        """A read-only store for one request."""
        return self._use(readonly=True)

    def write(self) -> AbstractContextManager[Store]:
        """A read-write store for one feedback click (the same Store methods the CLI's commands use)."""
        return self._use(readonly=False)

    @contextmanager
    def _use(self, *, readonly: bool) -> Iterator[Store]:
        if self.postgres:
            yield self._open(readonly=readonly)
            return
        store = Store(self.target, readonly=readonly)
        try:
            yield store
        finally:
            store.close()

    @property
    def display(self) -> str:
        """The database, for the startup line: the URL without its password on PostgreSQL."""
        return self._open(readonly=True).display if self.postgres else self.target

    def close(self) -> None:
        with self._lock:
            for store in self._shared.values():
                store.close()
            self._shared.clear()
