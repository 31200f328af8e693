"""The weekly report in `monitor run`: rendered once a week, posted to Slack and/or written to a folder.

`reports` (owned here) has one row per period, written before anything is sent and marked after each step
succeeds, so a restart, a cron `--once` run or a second daemon tick never posts a week twice, and a failed
upload is retried at the next check (every 5 minutes) until it succeeds. A crash between Slack's answer and
the commit can repeat one upload: Slack's file API has no idempotency key, so "nothing lost" wins over
"nothing twice" for this one message, as for chat.postMessage. A slot missed by more than a day (the daemon
was down, or `report:` was just added) is skipped and logged, not posted late.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.notify.blockkit import escape, trim
from monitor.ops.dashboard import pages, report
from monitor.ops.dashboard.figures import Window
from monitor.ops.health import LATEST_REPORT_SQL
from monitor.store.database import Store

log = logging.getLogger(__name__)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LATE_LIMIT_S = 86400.0
MAX_ATTEMPTS = 50


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
    row = store.one("SELECT * FROM reports WHERE period = ?", (period,))
    if row is None:
        if now - at > LATE_LIMIT_S:
            return None                          # a missed slot is not posted days late; next week's will be
        with store.tx() as db:
            db.execute("INSERT OR IGNORE INTO reports (period, created_at, since, until) VALUES (?,?,?,?)",
                       (period, now, at - cfg.since, at))
        row = store.one("SELECT * FROM reports WHERE period = ?", (period,))
        assert row is not None
        log.info("weekly report due", extra={"period": period})
    need_html = bool(cfg.folder) and not row["html_path"]
    need_post = bool(cfg.slack_channel) and not row["posted_at"] and row["attempts"] < MAX_ATTEMPTS
    if not (need_html or need_post):
        return None
    w = Window(at - cfg.since, at, tz, brand)
    o = report.overview(store, w, now, ack_target=cfg.ack_target, draw=need_html, config=config)
    link = config.dashboard.url
    done = []
    if need_html:
        path = write_html(cfg.folder, filename(period), pages.report_html(o, link))
        with store.tx() as db:
            db.execute("UPDATE reports SET html_path = ? WHERE period = ?", (path, period))
        log.info("weekly report written", extra={"period": period, "path": path})
        done.append(f"html {path}")
    if need_post:
        done.append(_post(store, config, o, period, client))
    return "; ".join(done)


def _post(store: Store, config: Any, o: report.Overview, period: str, client: Any | None) -> str:
    cfg = config.report
    try:
        if client is None:
            client = _client(config)
        resp = client.files_upload_v2(channel=cfg.slack_channel, file=report.png(o),
                                      filename=f"mentions-report-{period}.png", title=f"Mentions report {period}",
                                      alt_txt=f"Mentions report {period}: charts of mentions by sentiment, issue "
                                              "types and share of voice",
                                      initial_comment=slack_text(o, config.dashboard.url))
        file_id = str((resp.get("file") or {}).get("id") or "")
    except Exception as exc:  # noqa: BLE001 - any failure: recorded, logged, retried at the next check
        error = " ".join(str(exc).split())[:300]
        with store.tx() as db:
            db.execute("UPDATE reports SET attempts = attempts + 1, last_error = ? WHERE period = ?", (error, period))
        log.warning("weekly report not posted to Slack; retrying at the next check",
                    extra={"period": period, "error": error})
        return f"slack failed: {error}"
    with store.tx() as db:
        db.execute("UPDATE reports SET posted_at = ?, slack_file_id = ?, last_error = NULL,"
                   " attempts = attempts + 1 WHERE period = ?", (store.now(), file_id, period))
    log.info("weekly report posted", extra={"period": period, "channel": cfg.slack_channel, "file_id": file_id})
    return f"slack {file_id}"


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
