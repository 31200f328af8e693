"""The SQL a piece of code sends through `Store.query` (and so `Store.one`), recorded for a test to read its plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from monitor.store.database import Store


@contextmanager
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Within the block, every (sql, params) passed to `Store.query` is appended to the list yielded."""
    sent: list[tuple[str, Any]] = []
    query = Store.query

    def recording(self: Store, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        sent.append((sql, params))
        return query(self, sql, params)

    with monkeypatch.context() as m:
        m.setattr(Store, "query", recording)
        yield sent
