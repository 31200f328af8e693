"""The weekly report is posted once across a crash: marked in flight before the upload, the file id Slack reserves
stored before the step that shares it, and a report found in flight looked for in the channel's history by that
id before anything is uploaded again; never uploaded blindly while the history cannot be read, once at most after
LOOKUP_WINDOW_S. The real slack_sdk WebClient against the local fake Slack (tests/fakes/slack.py).

Regression: before this, a crash between Slack's answer to files_upload_v2 and the commit posted the week twice
(the schedule's docstring said so: "Slack's file API has no idempotency key")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.config.settings import ReportConfig, load_config
from monitor.ops import health
from monitor.ops.dashboard import schedule
from monitor.ops.dashboard.upload import SHARE_SETTLE_S, ReportUploader
from monitor.store.database import Store
from tests.dashboard_data import Built, build
from tests.fakes.slack import TOKEN, FakeSlack, Fault

CHANNEL = "C0123ABCD"
pytestmark = pytest.mark.slow      # each renders the report PNG (seconds); one waits out a real timeout


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the code under test may catch it)."""


def die(*_a: Any, **_kw: Any) -> None:
    raise Crash()


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite: the report's own logic (two replicas on PostgreSQL: tests/test_report_on_replicas.py)."""
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("report"), days=2)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with FakeSlack() as s:
        yield s


@pytest.fixture
def store(built: Built, tmp_path: Any) -> Iterator[Store]:
    """A copy of the module's database (its `reports` row is this test's alone)."""
    src = Store(built.db)
    src.db.conn.execute("VACUUM INTO ?", (str(tmp_path / "w.db"),))
    src.close()
    s = Store(tmp_path / "w.db")
    yield s
    s.close()


def _cfg(built: Built, slack: FakeSlack, timeout: float = 15.0) -> Any:
    base = load_config(built.config)
    return type(base)(**{**base.__dict__,
                         "slack": base.slack.model_copy(update={"api_url": slack.api_url, "timeout": timeout}),
                         "report": ReportConfig(slack_channel=CHANNEL)})


def _slot(built: Built) -> float:
    return schedule.last_slot(built.now, "monday", "09:00", "UTC")


def _row(store: Store) -> dict[str, Any]:
    row = store.one("SELECT * FROM reports")
    assert row is not None
    return row


def _calls(slack: FakeSlack, method: str) -> int:
    return sum(c.method == method for c in slack.calls)


def _crash_after_slacks_answer(store: Store, cfg: Any, at: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload goes through; the process dies right before recording Slack's answer."""
    real = schedule._record_posted
    monkeypatch.setattr(schedule, "_record_posted", die)
    with pytest.raises(Crash):
        schedule.run_weekly(store, cfg, at)
    monkeypatch.setattr(schedule, "_record_posted", real)


def test_a_report_killed_between_slacks_answer_and_the_commit_is_found_not_posted_again(
        built, slack, store, monkeypatch):
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    _crash_after_slacks_answer(store, cfg, t0, monkeypatch)
    assert len(slack.shares(CHANNEL)) == 1
    row = _row(store)
    assert row["in_flight_at"] == t0 and row["slack_file_id"] == next(iter(slack.uploads)) and not row["posted_at"]
    # the restarted daemon's first check: Slack shares asynchronously, so "not there yet" is not trusted yet
    out = schedule.run_weekly(store, cfg, t0 + 5)
    assert out is not None and "in flight" in out and len(slack.uploads) == 1
    out = schedule.run_weekly(store, cfg, t0 + 300)          # the next check (5 minutes) looks
    assert out is not None and "found in the channel" in out, out
    assert len(slack.uploads) == 1 and len(slack.shares(CHANNEL)) == 1
    assert _calls(slack, "conversations.history") == 1
    row = _row(store)
    assert row["posted_at"] and row["in_flight_at"] is None and row["slack_ts"] == slack.shares(CHANNEL)[0]["ts"]
    assert schedule.run_weekly(store, cfg, t0 + 600) is None


def test_a_report_cut_before_slack_shared_it_is_posted_once(built, slack, store, monkeypatch):
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    monkeypatch.setattr(ReportUploader, "complete", die)      # the file reserved and sent; the share never asked
    with pytest.raises(Crash):
        schedule.run_weekly(store, cfg, t0)
    monkeypatch.undo()
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    assert _row(store)["slack_file_id"] and not slack.shares()
    out = schedule.run_weekly(store, cfg, t0 + 300)
    assert out is not None and out.startswith("slack F"), out
    assert _calls(slack, "conversations.history") == 1          # looked first, found nothing, uploaded
    assert len(slack.shares(CHANNEL)) == 1 and _row(store)["posted_at"]


def test_a_report_cut_before_slack_reserved_the_file_is_posted_at_once_without_looking(
        built, slack, store, monkeypatch):
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    monkeypatch.setattr(ReportUploader, "reserve", die)
    with pytest.raises(Crash):
        schedule.run_weekly(store, cfg, t0)
    monkeypatch.undo()
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    row = _row(store)
    assert row["in_flight_at"] == t0 and row["slack_file_id"] is None
    out = schedule.run_weekly(store, cfg, t0 + 1)             # nothing can have been shared: no wait, no lookup
    assert out is not None and out.startswith("slack F"), out
    assert _calls(slack, "conversations.history") == 0 and len(slack.shares(CHANNEL)) == 1


def test_no_answer_to_the_share_is_looked_up_not_uploaded_again(built, slack, store):
    """A real timeout: Slack shared the file, its answer came after the client's deadline."""
    cfg, t0 = _cfg(built, slack, timeout=1.0), _slot(built) + 60
    slack.complete_delay = 2.5
    out = schedule.run_weekly(store, cfg, t0)
    assert out is not None and out.startswith("slack unknown"), out
    slack.complete_delay = 0.0
    assert "not confirmed in Slack" in (health.weekly_report(cfg, store) or {})["problem"]
    out = schedule.run_weekly(store, cfg, t0 + 300)
    assert out is not None and "found in the channel" in out, out
    assert len(slack.shares(CHANNEL)) == 1 and len(slack.uploads) == 1


def test_a_5xx_to_the_share_is_not_taken_as_a_refusal(built, slack, store):
    """A 5xx page may come after Slack acted: looked up (not there here), then uploaded once."""
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    slack.fault_when = lambda c: Fault(503) if c.method == "files.completeUploadExternal" \
        and _calls(slack, c.method) == 1 else None
    out = schedule.run_weekly(store, cfg, t0)
    assert out is not None and out.startswith("slack unknown"), out
    out = schedule.run_weekly(store, cfg, t0 + 300)
    assert out is not None and out.startswith("slack F"), out
    assert len(slack.shares(CHANNEL)) == 1 and _calls(slack, "conversations.history") == 1


@pytest.mark.parametrize("error", ["internal_error", "fatal_error"])
def test_an_internal_error_to_the_share_is_looked_up_not_uploaded_again(built, slack, store, error):
    """Slack documents internal_error and fatal_error as "some aspect of the operation may have succeeded": here
    the file is shared, then the answer is that error (HTTP 200, ok:false, Slack's JSON). Looked up, found, once.
    Regression: `upload.refused` took every ok:false JSON answer as a refusal, cleared the in-flight mark and
    uploaded the report again at the next check: the week was posted twice (the alerts' `may_have_acted` had
    the rule; the report's share did not follow it)."""
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    slack.fault_when = lambda c: Fault(200, error=error, after=True) if c.method == "files.completeUploadExternal" \
        and _calls(slack, c.method) == 1 else None
    out = schedule.run_weekly(store, cfg, t0)
    assert out is not None and out.startswith("slack unknown"), out
    assert len(slack.shares(CHANNEL)) == 1 and _row(store)["in_flight_at"] == t0
    out = schedule.run_weekly(store, cfg, t0 + 300)
    assert out is not None and "found in the channel" in out, out
    assert len(slack.shares(CHANNEL)) == 1 and len(slack.uploads) == 1


def test_a_lookup_that_fails_is_said_and_retried_never_posted_blindly(built, slack, store, monkeypatch, caplog):
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    _crash_after_slacks_answer(store, cfg, t0, monkeypatch)
    slack.scopes -= {"channels:history"}
    with caplog.at_level(logging.WARNING, logger="monitor.ops.dashboard.schedule"):
        out = schedule.run_weekly(store, cfg, t0 + 300)
    assert out is not None and "missing_scope" in out, out
    assert "not uploaded again" in caplog.text
    problem = (health.weekly_report(cfg, store) or {})["problem"]           # `monitor status`
    assert "channels:history" in problem and "not confirmed in Slack" in problem, problem
    slack.scopes |= {"channels:history"}
    slack.fault_when = lambda c: Fault(500) if c.method == "conversations.history" else None   # Slack down
    out = schedule.run_weekly(store, cfg, t0 + 600)
    assert out is not None and "HTTP 500" in out and len(slack.uploads) == 1, out
    slack.fault_when = None
    out = schedule.run_weekly(store, cfg, t0 + 900)
    assert out is not None and "found in the channel" in out, out
    assert len(slack.shares(CHANNEL)) == 1 and not (health.weekly_report(cfg, store) or {})["problem"]


def test_past_the_lookup_window_it_is_posted_once_more_never_a_third_time(built, slack, store, monkeypatch, caplog):
    """The documented choice: after LOOKUP_WINDOW_S without a readable history, "nothing lost" wins once."""
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    _crash_after_slacks_answer(store, cfg, t0, monkeypatch)
    slack.scopes -= {"channels:history"}
    assert "missing_scope" in (schedule.run_weekly(store, cfg, t0 + 300) or "")
    late = t0 + schedule.LOOKUP_WINDOW_S + 1
    with caplog.at_level(logging.WARNING, logger="monitor.ops.dashboard.schedule"):
        _crash_after_slacks_answer(store, cfg, late, monkeypatch)       # the blind upload, and a crash again
    assert "may appear twice" in caplog.text
    assert len(slack.shares(CHANNEL)) == 2 and _row(store)["blind_posts"] == 1
    for t in (late + 300, late + 2 * schedule.LOOKUP_WINDOW_S):
        out = schedule.run_weekly(store, cfg, t)
        assert out is not None and out.startswith("slack unknown"), out
    assert len(slack.shares(CHANNEL)) == 2                          # never a third copy
    assert "channels:history" in (health.weekly_report(cfg, store) or {})["problem"]
    slack.scopes |= {"channels:history"}
    out = schedule.run_weekly(store, cfg, late + 3 * schedule.LOOKUP_WINDOW_S)
    assert out is not None and "found in the channel" in out and len(slack.shares(CHANNEL)) == 2


def test_the_lookup_pages_through_a_busy_channel(built, slack, store, monkeypatch):
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    _crash_after_slacks_answer(store, cfg, t0, monkeypatch)
    client = WebClient(token=TOKEN, base_url=slack.api_url)
    for i in range(450):                     # newer than the share: it is on the third page of 200
        client.chat_postMessage(channel=CHANNEL, text=f"chatter {i}")
    out = schedule.run_weekly(store, cfg, t0 + SHARE_SETTLE_S + 1)
    assert out is not None and "found in the channel" in out, out
    pages = [c for c in slack.calls if c.method == "conversations.history"]
    assert len(pages) == 3 and not pages[0].args.get("cursor") and all(p.args.get("cursor") for p in pages[1:])
    with pytest.raises(SlackApiError, match="invalid_cursor"):
        client.conversations_history(channel=CHANNEL, cursor="not-ours")


def test_the_report_is_uploaded_without_alt_txt_so_slack_shares_it_in_the_channel(built, slack, store):
    """Regression (python-slack-sdk #1818, open, server-side): with `alt_txt` given to files.getUploadURLExternal
    Slack answers ok to every step and never shares the file, so the week was recorded as posted and never seen.
    The fake behaves so; the report now sends none."""
    cfg, t0 = _cfg(built, slack), _slot(built) + 60
    schedule.run_weekly(store, cfg, t0)
    reserve = [c for c in slack.calls if c.method == "files.getUploadURLExternal"]
    assert len(reserve) == 1 and "alt_txt" not in reserve[0].args
    assert len(slack.shares(CHANNEL)) == 1 and _row(store)["posted_at"]
