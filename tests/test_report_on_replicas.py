"""The scheduled weekly report on PostgreSQL (the replicas' shared store), end to end: two replicas (`App`s on one
schema) due at the same moment run the daemon's own `weekly_report()`, which uploads through the real
`slack_sdk` WebClient (`files_upload_v2`) to the local Slack fake; the week is posted exactly once, its HTML
file written once, and the `reports` row says so.

Before round 20 this path was never run on PostgreSQL: `monitor report` there failed at once on a SQL
translation gap, so the scheduled report most likely never posted on replicas, and nothing said so but a
logged exception every five minutes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from monitor.config.settings import ReportConfig, load_config
from monitor.core.clock import FakeClock
from monitor.ops.dashboard import schedule
from monitor.runtime.daemon import App, Paths
from tests.dashboard_data import Built, build
from tests.fakes.slack import TOKEN, FakeSlack
from tests.replicas_helpers import pg_url_fixture  # noqa: F401 - `pg_url`

CHANNEL = "C0123ABCD"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """PostgreSQL is this file's subject: `pg_url` sets it; the suite-wide parametrisation is not wanted."""
    return "postgres"


def _replica(b: Built, slack: FakeSlack, folder: Path, at: float) -> App:
    """One replica as `monitor run` builds it, with the report configured and its clock at `at`."""
    base = load_config(b.config)
    cfg = type(base)(**{**base.__dict__,
                        "slack": base.slack.model_copy(update={"api_url": slack.api_url, "mode": "bot"}),
                        "report": ReportConfig(slack_channel=CHANNEL, folder=str(folder))})
    return App(Paths(str(b.config), str(b.rules)), clock=FakeClock(at), config=cfg)


@pytest.mark.slow
def test_weekly_report_on_postgresql_is_posted_once_by_two_replicas_due_at_once(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    (tmp_path / "data").mkdir()
    b = build(tmp_path / "data", days=3)
    assert b.db == pg_url
    slot = schedule.last_slot(b.now, "monday", "09:00", "UTC")
    with FakeSlack() as slack:
        replicas = [_replica(b, slack, tmp_path / f"reports-{i}", slot + 60) for i in range(2)]
        try:
            gate = threading.Barrier(len(replicas))
            results: list[str | None] = [None, None]

            def due(i: int) -> None:
                gate.wait()
                results[i] = replicas[i].weekly_report()

            threads = [threading.Thread(target=due, args=(i,)) for i in range(len(replicas))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            posted = [r for r in results if r]
            assert len(posted) == 1 and "slack F" in posted[0] and "html" in posted[0], results
            # the next checks, five minutes later on both replicas: nothing twice
            for app in replicas:
                app.clock.advance(300)
                assert app.weekly_report() is None
            rows = replicas[0].store.query("SELECT * FROM reports")
        finally:
            for app in replicas:
                app.close()
    done = [u for u in slack.uploads.values() if u["completed"]]
    assert len(slack.uploads) == 1 and len(done) == 1, slack.uploads
    assert done[0]["channel"] == CHANNEL and done[0]["data"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "Median time to acknowledge" in done[0]["initial_comment"] and "Acme" in done[0]["initial_comment"]
    assert len(rows) == 1 and rows[0]["posted_at"] is not None and rows[0]["attempts"] == 1
    assert rows[0]["slack_file_id"] == next(iter(slack.uploads)) and rows[0]["last_error"] is None
    files = [p for i in range(2) for p in (tmp_path / f"reports-{i}").glob("*.html")]
    assert len(files) == 1 and str(files[0]) == rows[0]["html_path"] and "Mentions report" in files[0].read_text()


class _Crash(BaseException):
    """Replica A dies (not an Exception: `App.weekly_report` catches those)."""


@pytest.mark.slow
def test_a_replica_killed_after_slack_shared_the_report_leaves_it_found_by_the_other(pg_url, tmp_path, monkeypatch):
    """Replica A is cut between Slack's answer and its commit; replica B, at its next check, finds the share in the
    channel's history by the file id A stored, and does not upload the week again."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    (tmp_path / "data").mkdir()
    b = build(tmp_path / "data", days=2)
    slot = schedule.last_slot(b.now, "monday", "09:00", "UTC")
    with FakeSlack() as slack:
        a, other = (_replica(b, slack, tmp_path / f"reports-{i}", slot + 60) for i in range(2))
        try:
            real = schedule._record_posted

            def die(*_a: object) -> None:
                raise _Crash()

            monkeypatch.setattr(schedule, "_record_posted", die)
            with pytest.raises(_Crash):
                a.weekly_report()
            monkeypatch.setattr(schedule, "_record_posted", real)
            other.clock.advance(300)
            assert "found in the channel" in (other.weekly_report() or "")
            other.clock.advance(300)
            assert other.weekly_report() is None
            rows = other.store.query("SELECT * FROM reports")
        finally:
            a.close()
            other.close()
    assert len(slack.uploads) == 1 and len(slack.shares(CHANNEL)) == 1
    assert rows[0]["posted_at"] and rows[0]["slack_ts"] == slack.shares(CHANNEL)[0]["ts"] and not rows[0]["in_flight_at"]
