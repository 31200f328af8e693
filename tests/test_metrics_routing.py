"""The mentions failing to route are counted by one query (`health.ROUTE_FAILURES_SQL`, owned by `monitor status`),
which /metrics runs too: the metric and `monitor status --json` agree, and there is no second copy to drift."""

from __future__ import annotations

import inspect
import json
import time

import pytest
from prometheus_client import generate_latest
from prometheus_client.core import CollectorRegistry

from monitor.cli import main
from monitor.ops import metrics
from monitor.ops.metrics import StoreCollector
from monitor.store.database import Store
from tests.conftest import write_config


@pytest.fixture
def sqlite_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)


def test_metric_and_status_agree_on_failing_and_parked_mentions(tmp_path, capsys, sqlite_only):
    cfg, _ = write_config(tmp_path, sources="[]\n", slack_mode="bot")
    store = Store(tmp_path / "monitor.db")
    now = time.time()
    ins = ("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, route_attempts, route_error,"
           " route_failed_at, route_parked_at, processed_at) VALUES ('s', 'rss', ?, 'acme', ?, ?, 'boom', ?, ?, ?)")
    try:
        with store.tx() as db:
            for i in range(2):                                   # failing, retried
                db.execute(ins, (f"r{i}", now, 2, now, None, None))
            for i in range(3):                                   # parked
                db.execute(ins, (f"p{i}", now, 5, now, now, None))
            db.execute(ins, ("done", now, 1, now, None, now))    # failed once, then routed: not counted
    finally:
        store.close()
    assert main(["status", "--config", str(cfg), "--json"]) == 1
    routing = json.loads(capsys.readouterr().out)["routing"]
    registry = CollectorRegistry()
    registry.register(StoreCollector(str(tmp_path / "monitor.db")))
    text = generate_latest(registry).decode()
    assert f'monitor_mentions_route_failed{{state="parked"}} {float(routing["parked"])}' in text
    assert f'monitor_mentions_route_failed{{state="retrying"}} {float(routing["retrying"])}' in text
    assert (routing["parked"], routing["retrying"]) == (3, 2)


def test_metrics_has_no_copy_of_the_routing_query():
    assert "route_attempts" not in inspect.getsource(metrics)
