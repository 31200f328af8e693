"""The weekly report in `monitor run`: rendered once a week, posted to Slack and/or written to a folder.

`reports` (owned here, written only through `ReportRow`) has one row per period, written before anything is
sent and marked after each step succeeds, so a restart, a cron `--once` run or a second daemon tick never
posts a week twice, and a failed upload is retried at the next check (every 5 minutes) until it succeeds.

Nothing twice across a crash too, as the alerts' outbox: the row is marked in flight before Slack hears of the
upload, and the file id Slack reserves is stored before the step that shares it (`upload` module). A row
found in flight was cut between those writes and the commit of Slack's answer (a kill, a timeout, a refused
write): without a file id nothing was shared, so it is uploaded; with one, the share is looked for in the
channel's history by that id, and uploaded again only if it is not there. If the history cannot be read (the
bot lacks channels:history, Slack is down) it is not uploaded blindly: the log and `monitor status` say so and
the next check looks again. After LOOKUP_WINDOW_S of that, "nothing lost" wins once: it is uploaded one more
time with a WARNING that it may appear twice; never a third time without a successful look. A slot missed by
more than a day (the daemon was down, or `report:` was just added) is skipped and logged, not posted late.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.notify.blockkit import escape, trim
from monitor.ops.dashboard import pages, report
from monitor.ops.dashboard.figures import Window
from monitor.ops.dashboard.upload import (
    HISTORY_SCOPE,
    SHARE_SETTLE_S,
    LookupFailed,
    NotShared,
    ReportUploader,
)
from monitor.ops.health import LATEST_REPORT_SQL
from monitor.store.database import Store

log = logging.getLogger(__name__)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LATE_LIMIT_S = 86400.0
MAX_ATTEMPTS = 50
LOOKUP_WINDOW_S = 3600.0       # an upload of unknown outcome waits this long for a readable history, then goes once


@dataclass(frozen=True)
class ReportRow:
    """One period's row of `reports`. `in_flight_at`: an upload began and its outcome is not recorded yet;
    `slack_file_id`: the file Slack reserved for the latest upload (shared once `posted_at` is set);
    `slack_ts`: the share's message when it was found in the history; `blind_posts`: uploads made without
    being able to look first (at most one)."""

    period: str
    created_at: float
    since: float
    until: float
    html_path: str | None = None
    posted_at: float | None = None
    slack_file_id: str | None = None
    slack_ts: str | None = None
    last_error: str | None = None
    attempts: int = 0
    in_flight_at: float | None = None
    blind_posts: int = 0


_COLUMNS = tuple(f.name for f in fields(ReportRow))
_WRITTEN = _COLUMNS[4:]        # everything after the period's identity


def _read(store: Store, period: str) -> ReportRow | None:
    row = store.one(f"SELECT {', '.join(_COLUMNS)} FROM reports WHERE period = ?", (period,))
    return ReportRow(**row) if row else None


def _create(store: Store, row: ReportRow) -> ReportRow:
    """The period's row, once (a second daemon tick or replica that raced us reads the winner's)."""
    with store.tx() as db:
        db.execute("INSERT OR IGNORE INTO reports (period, created_at, since, until) VALUES (?,?,?,?)",
                   (row.period, row.created_at, row.since, row.until))
    found = _read(store, row.period)
    assert found is not None
    return found


def _save(store: Store, row: ReportRow) -> ReportRow:
    """The one write of a row's progress: every column after its identity, from the record."""
    with store.tx() as db:
        db.execute(f"UPDATE reports SET {', '.join(c + ' = ?' for c in _WRITTEN)} WHERE period = ?",
                   (*(getattr(row, c) for c in _WRITTEN), row.period))
    return row


@dataclass(frozen=True)
class Slot:
    period: str        # "2026-W48" (ISO week of the slot) and the brand scope
    at: float          # the scheduled instant; the report covers [at - since, at)


def last_slot(now: float, day: str, at: str, tz: str) -> float:
    """The latest scheduled instant at or before `now` (wall clock in `tz`, right across DST)."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(now, zone)
    hh, mm = (int(x) for x in at.split(":"))
    back = (local.weekday() - DAYS.index(day)) % 7
    d = (local - timedelta(days=back)).date()
    when = datetime(d.year, d.month, d.day, hh, mm, tzinfo=zone)
    if when.timestamp() > now:
        d = d - timedelta(days=7)
        when = datetime(d.year, d.month, d.day, hh, mm, tzinfo=zone)
    return when.timestamp()


def filename(period: str) -> str:
    return f"report-{period}.html"


def write_html(folder: str, name: str, text: str) -> str:
    """Atomically (a temporary file renamed): a reader never sees half a report."""
    target = Path(os.path.expanduser(folder))
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".report-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target / name)
    return str(target / name)


def slack_text(o: report.Overview, link: str | None) -> str:
    """The figures as text beside the image (Slack mrkdwn, collected titles escaped)."""
    lines = [f"*Weekly mentions report* — {escape(o.period_text())}"]
    lines += [f"• {label}: *{escape(value)}*" + (f" ({escape(ch)})" if ch else "") for label, value, ch in o.figures()]
    if o.stories:
        lines.append("*Top stories:* " + "; ".join(
            f"#{s['id']} {escape(trim(' '.join((s['title'] or '').split()), 80))} ({s['mention_count']})"
            for s in o.stories[:3]))
    lines.append(f"*SLA breaches:* {len(o.breaches)}")
    problems = [ln for ln in (o.health.lines if o.health else []) if ln.severity != "info"]
    if problems:         # the figures may be incomplete (a source down that week): said beside them
        lines.append(f"*Monitor health when made:* {len(problems)} problem(s): " + "; ".join(
            escape(trim(ln.text, 200)) for ln in problems[:3]))
    if link:
        lines.append(f"<{link}|Open the dashboard>")
    return trim("\n".join(lines), 3500)


def run_weekly(store: Store, config: Any, now: float, client: Any | None = None) -> str | None:
    """Do whatever this week's report(s) still need (one per brand in `report.brands`, else one for all);
    returns what happened (for logs and tests), or None when nothing was due."""
    cfg = config.report
    if cfg is None or not (cfg.slack_channel or cfg.folder):
        return None
    done = [r for brand in (cfg.brands or [None]) if (r := _run_one(store, config, now, brand, client))]
    return "; ".join(done) or None


def _run_one(store: Store, config: Any, now: float, brand: str | None, client: Any | None) -> str | None:
    cfg = config.report
    tz = config.dashboard.tz
    at = last_slot(now, cfg.day, cfg.at, tz)
    week = datetime.fromtimestamp(at, ZoneInfo(tz)).isocalendar()
    period = f"{week[0]}-W{week[1]:02d}" + (f"-{brand}" if brand else "")
    row = _read(store, period)
    if row is None:
        if now - at > LATE_LIMIT_S:
            return None                          # a missed slot is not posted days late; next week's will be
        row = _create(store, ReportRow(period, now, at - cfg.since, at))
        log.info("weekly report due", extra={"period": period})
    need_html = bool(cfg.folder) and not row.html_path
    need_post = bool(cfg.slack_channel) and not row.posted_at and row.attempts < MAX_ATTEMPTS
    if not (need_html or need_post):
        return None
    w = Window(at - cfg.since, at, tz, brand)
    o = report.overview(store, w, now, ack_target=cfg.ack_target, draw=need_html, config=config)
    link = config.dashboard.url
    done = []
    if need_html:
        path = write_html(cfg.folder, filename(period), pages.report_html(o, link))
        row = _save(store, replace(row, html_path=path))
        log.info("weekly report written", extra={"period": period, "path": path})
        done.append(f"html {path}")
    if need_post:
        done.append(_post(store, config, o, row, client, now))
    return "; ".join(done)


def _post(store: Store, config: Any, o: report.Overview, row: ReportRow, client: Any | None, now: float) -> str:
    cfg = config.report
    period = row.period
    try:
        up = ReportUploader(client if client is not None else _client(config))
    except Exception as exc:  # noqa: BLE001 - no token, webhook mode: recorded, logged, retried at the next check
        return _failed(store, row, _words(exc))
    if row.in_flight_at is not None:
        said, row = _look(store, up, cfg.slack_channel, row, now)
        if said is not None:
            return said
    data = report.png(o)
    row = _save(store, replace(row, in_flight_at=now, slack_file_id=None))    # durable before Slack hears of it
    try:
        reserved = up.reserve(f"mentions-report-{period}.png", len(data))
    except NotShared as exc:
        return _failed(store, row, str(exc))
    row = _save(store, replace(row, slack_file_id=reserved.file_id))     # before the one step that shares it
    try:
        up.send(reserved, data)
        up.complete(reserved, f"Mentions report {period}", cfg.slack_channel, slack_text(o, config.dashboard.url))
    except NotShared as exc:
        return _failed(store, row, str(exc))
    except Exception as exc:  # noqa: BLE001 - a timeout, a reset, a 5xx: Slack may have shared it
        error = f"no answer to the upload ({_words(exc)}); it is looked for in the channel before any retry"
        _save(store, replace(row, attempts=row.attempts + 1, last_error=error[:300]))
        log.warning("weekly report upload outcome unknown", extra={"period": period, "error": error})
        return f"slack unknown: {error}"
    _record_posted(store, replace(row, attempts=row.attempts + 1), None)
    log.info("weekly report posted", extra={"period": period, "channel": cfg.slack_channel,
                                            "file_id": reserved.file_id})
    return f"slack {reserved.file_id}"


def _look(store: Store, up: ReportUploader, channel: str, row: ReportRow, now: float) -> tuple[str | None, ReportRow]:
    """The last upload's answer never came (a crash, a timeout): was it shared? Returns what this check did, or
    (None, row) to upload now."""
    assert row.in_flight_at is not None
    period, age = row.period, now - row.in_flight_at
    if row.slack_file_id is None:                # Slack had not reserved the file: nothing can have been shared
        log.info("weekly report upload was cut before Slack reserved the file; uploading it", extra={"period": period})
        return None, row
    if age < SHARE_SETTLE_S:                     # Slack shares asynchronously: too early to trust "not there"
        return f"slack in flight: looked for in the channel from {SHARE_SETTLE_S:.0f}s after the upload", row
    try:
        ts = up.find_share(channel, row.slack_file_id, row.in_flight_at)
    except LookupFailed as exc:
        if age <= LOOKUP_WINDOW_S or row.blind_posts >= 1:
            error = (f"the last upload ({row.slack_file_id}) may have been posted and the channel's history cannot "
                     f"be read to check ({exc}); not uploaded again until it can (grant {HISTORY_SCOPE})")
            if error[:300] != row.last_error:
                log.log(logging.WARNING if row.blind_posts == 0 else logging.ERROR,
                        "weekly report outcome unknown and not checkable; not uploaded again",
                        extra={"period": period, "error": str(exc)})
            _save(store, replace(row, last_error=error[:300]))
            return f"slack unknown: {exc}", row
        log.warning("weekly report outcome still not checkable after %.0f minutes; uploading it once more: it may "
                    "appear twice in the channel (grant %s to prevent this)", LOOKUP_WINDOW_S / 60, HISTORY_SCOPE,
                    extra={"period": period, "error": str(exc)})
        return None, _save(store, replace(row, blind_posts=row.blind_posts + 1))
    if ts:
        _record_posted(store, row, ts)
        log.info("weekly report found in the channel's history; not uploaded again",
                 extra={"period": period, "file_id": row.slack_file_id, "ts": ts})
        return f"slack {row.slack_file_id} (found in the channel)", row
    log.info("weekly report in flight is not in the channel; uploading it", extra={"period": period})
    return None, row


def _failed(store: Store, row: ReportRow, error: str) -> str:
    """Certainly not shared: recorded (`monitor status`), logged, retried at the next check."""
    _save(store, replace(row, in_flight_at=None, attempts=row.attempts + 1, last_error=error[:300]))
    log.warning("weekly report not posted to Slack; retrying at the next check",
                extra={"period": row.period, "error": error})
    return f"slack failed: {error}"


def _record_posted(store: Store, row: ReportRow, ts: str | None) -> None:
    """The commit after Slack's answer (a crash just before it is what `_look` resolves)."""
    _save(store, replace(row, posted_at=store.now(), slack_ts=ts, in_flight_at=None, last_error=None))


def _words(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _client(config: Any) -> Any:
    from slack_sdk import WebClient

    if config.slack.mode == "webhook":
        raise RuntimeError("slack.mode is webhook: incoming webhooks cannot upload files; use a bot token")
    token = os.environ.get(config.slack.token_env)
    if not token:
        raise RuntimeError(f"no ${config.slack.token_env}: the report cannot be uploaded")
    return WebClient(token=token, base_url=config.slack.api_url, timeout=int(max(1, config.slack.timeout)),
                     retry_handlers=[])


def status(store: Store) -> dict[str, Any] | None:
    """The latest report row, for `monitor status`-style reporting and tests."""
    return store.one(LATEST_REPORT_SQL)
