"""Grouping, as Alertmanager does it: one alert per story per route, not one per retweet.

A mention joins an unresolved alert of the same route and brand when it is the same story: it links the
same URL (after unwrapping redirectors and dropping tracking parameters), or its text is a near-duplicate
(retweets, quote chains, syndicated copies), measured with rapidfuzz's normalized Indel similarity against
`group_similarity`. A new group waits `group_wait` before its first message (so a burst arrives as one), then
changes are announced at most every `group_interval`; `repeat_after` re-announces an open alert (see
`monitor.alerting.timers`). While a spike of the brand fires, its mention alerts fold into the spike.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import sqlite_utils
from rapidfuzz import fuzz, process

from monitor.alerting import record
from monitor.alerting.lifecycle import levels_of, record_event, reschedule
from monitor.alerting.quiet import exempt, hold_until, release_text
from monitor.alerting.record import Alert
from monitor.alerting.view import alert_row, mention_lines, payload_for, root_payload, rows
from monitor.analyse.routing import RouteHit
from monitor.config.rules import Rules
from monitor.core.model import Mention, Target
from monitor.notify.queue import enqueue, queue_reply, queue_root_update
from monitor.store.database import Store, dumps, loads
from monitor.store.leases import advisory_lock, lock_row

log = logging.getLogger(__name__)

MIN_TEXT_FOR_SIMILARITY = 30       # two short "acme sucks" posts are two people, not one story
CANDIDATES = 200                   # unresolved alerts of a route and brand compared by text, newest first
_URL = re.compile(r"https?://[^\s<>\"'()]+", re.I)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|mc_[a-z]+|igshid|ref|ref_src|ref_url|cmpid|s|si|share)$", re.I)
_REDIRECT_PARAMS = ("url", "u", "q", "target", "dest", "destination", "redirect", "link")
_RT = re.compile(r"^(rt|qt)\s+@[\w.]+:?\s*", re.I)
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def canonical_url(url: str | None, depth: int = 0) -> str | None:
    """The story a URL points at: redirectors unwrapped, tracking parameters, scheme, www. and fragment dropped."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = parse_qsl(parts.query, keep_blank_values=False)
    if depth < 3:
        for key, value in query:             # google.com/url?q=…, l.facebook.com/l.php?u=…, out.reddit…
            if key.lower() in _REDIRECT_PARAMS and value.startswith(("http://", "https://")):
                return canonical_url(unquote(value), depth + 1)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
    kept = sorted((k, v) for k, v in query if not _TRACKING.match(k))
    path = re.sub(r"/+$", "", parts.path) or "/"
    return urlunsplit(("", host, path, urlencode(kept), "")).lstrip("/")


def story_keys(m: Mention) -> list[str]:
    """URL keys of a mention: the link it is, and every link it quotes (a tweet sharing an article)."""
    urls = [m.url] + _URL.findall(m.full_text)[:10]
    return list(dict.fromkeys(f"url:{c}" for c in (canonical_url(u) for u in urls) if c))


def story_text(m: Mention) -> str:
    """Text reduced to what a retweet or a syndicated copy keeps: words, lowercase, no links or RT prefix."""
    text = _URL.sub(" ", m.full_text)
    text = _RT.sub("", text.strip())
    text = _NON_WORD.sub(" ", text.lower())
    return _SPACE.sub(" ", text).strip()[:600]


def assign(db: sqlite_utils.Database, now: float, m: Mention, brand: str, hit: RouteHit, rules: Rules) -> tuple[int, bool]:
    """Join the mention to its story's alert (or a firing spike of the brand), or open a new alert.

    Returns (alert id, opened). The caller holds the transaction that marks the mention routed. The brand's
    lock (replicas) makes the read-then-insert below atomic: a near-duplicate routed at the same moment by
    another replica waits, then finds the alert this one opened.
    """
    advisory_lock(db, f"brand:{brand}")
    spike = rows(db, "SELECT id FROM alerts WHERE brand = ? AND kind = 'spike' AND state != 'resolved'"
                     " AND spike_firing = 1 ORDER BY id DESC LIMIT 1", (brand,))
    if spike:
        join(db, now, spike[0]["id"], m, [])
        return spike[0]["id"], False
    group_key = f"{hit.route or 'default'}|{brand}"
    since = now - rules.defaults.story_window    # an old, quiet alert is not today's story, even if unresolved
    keys = story_keys(m)
    if keys:
        marks = ",".join("?" * len(keys))
        same = rows(db, f"SELECT a.id FROM alert_stories s JOIN alerts a ON a.id = s.alert_id WHERE s.key IN ({marks})"
                        " AND a.group_key = ? AND a.state != 'resolved' AND a.updated_at >= ?"
                        " ORDER BY a.id DESC LIMIT 1", (*keys, group_key, since))
        if same:
            join(db, now, same[0]["id"], m, keys)
            return same[0]["id"], False
    text = story_text(m)
    if len(text) >= MIN_TEXT_FOR_SIMILARITY:
        cands = rows(db, "SELECT id, story_text FROM alerts WHERE group_key = ? AND state != 'resolved'"
                         " AND kind = 'mention' AND story_text IS NOT NULL AND updated_at >= ? ORDER BY id DESC LIMIT ?",
                     (group_key, since, CANDIDATES))
        choices = {c["id"]: c["story_text"] for c in cands}
        best = process.extractOne(text, choices, scorer=fuzz.ratio,
                                  score_cutoff=rules.defaults.group_similarity * 100)
        if best is not None:
            join(db, now, int(best[2]), m, keys)
            return int(best[2]), False
    return open_mention_alert(db, now, m, brand, hit, rules, group_key, keys, text), True


def snapshot(rules: Rules, hit: RouteHit) -> list[dict[str, Any]]:
    """The policy as it is now, owners resolved: an open alert keeps it through any reload."""
    if hit.policy and hit.policy in rules.escalation_policies:
        return [{"after": lvl.after or 0.0, "repeat": lvl.repeat,
                 "targets": [t.__dict__ for t in rules.targets(lvl.notify)]}
                for lvl in rules.escalation_policies[hit.policy]]
    return [{"after": 0.0, "repeat": 0, "targets": [t.__dict__ for t in hit.targets]}]


def open_alert(db: sqlite_utils.Database, now: float, *, kind: str, group_key: str, brand: str | None,
               hit: RouteHit, rules: Rules, title: str, story: str | None, wait: float) -> int:
    timing = rules.timing(hit.route)
    alert_id = record.insert(db, Alert(
        kind=kind, group_key=group_key, brand=brand, route=hit.route, policy=hit.policy,
        targets=dumps([t.__dict__ for t in hit.targets]), title=title, created_at=now, updated_at=now,
        policy_levels=dumps(snapshot(rules, hit)), timing=dumps(timing),
        quiet_exempt=int(exempt(rules, hit.route, hit.policy)), flush_at=now + wait, story_text=story))
    record_event(db, alert_id, now, "opened", None, hit.route or "default")
    return alert_id


def open_mention_alert(db: sqlite_utils.Database, now: float, m: Mention, brand: str, hit: RouteHit, rules: Rules,
                       group_key: str, keys: list[str], text: str) -> int:
    wait = rules.timing(hit.route)["group_wait"] or 0.0
    alert_id = open_alert(db, now, kind="mention", group_key=group_key, brand=brand, hit=hit, rules=rules,
                          title=(m.title or m.text)[:200], story=text or None, wait=wait)
    # the issue type of the alert's first mention (written by the pipeline in this same transaction)
    db.execute("UPDATE alerts SET issue = (SELECT issue FROM mentions WHERE id = ?) WHERE id = ?", (m.id, alert_id))
    join(db, now, alert_id, m, keys)
    return alert_id


def join(db: sqlite_utils.Database, now: float, alert_id: int, m: Mention, keys: list[str]) -> None:
    """Link the mention; an alert already announced gets an update at most every group_interval."""
    if not record.link_mention(db, alert_id, m.id, keys, now):
        return
    schedule_update(db, now, alert_id)


def schedule_update(db: sqlite_utils.Database, now: float, alert_id: int) -> None:
    a = alert_row(db, alert_id)
    if a is None or a["notified_at"] is None or a["flush_at"] is not None or a["state"] == "resolved":
        return                   # the first message (still waiting) will carry the count
    interval = _timing(a).get("group_interval") or 0.0
    record.update(db, alert_id, flush_at=max(now, (a["flushed_at"] or now) + interval))


def _timing(a: dict[str, Any]) -> dict[str, Any]:
    return loads(a.get("timing"), {}) or {}


def flush_due(store: Store, rules: Rules, *, waiting_too: bool = False) -> int:
    """Send what group timers say is due: first messages after group_wait, updates after group_interval.

    `waiting_too` (cron mode) flushes groups still inside group_wait: the pass itself was the batch.
    """
    now = store.now()
    due = store.query("SELECT id FROM alerts WHERE flush_at IS NOT NULL AND (flush_at <= ? OR (? AND notified_at"
                      " IS NULL)) ORDER BY id", (now, int(waiting_too)))
    n = 0
    for row in due:
        with store.tx() as db:
            n += _flush(db, now, row["id"], rules, waiting_too)
    return n


def _flush(db: sqlite_utils.Database, now: float, alert_id: int, rules: Rules, waiting_too: bool) -> int:
    lock_row(db, "alerts", alert_id)
    a = alert_row(db, alert_id)
    if a is None or a["flush_at"] is None or (a["flush_at"] > now and not (waiting_too and a["notified_at"] is None)):
        return 0                                   # another tick (or process) got here first
    if a["state"] == "resolved":
        record.update(db, alert_id, flush_at=None)
        return 0
    held = hold_until(rules, a["route"], a["policy"], now)      # the current quiet hours, reloaded or not
    if held is not None:
        if a["flush_at"] < held:
            record.update(db, alert_id, flush_at=held)
            record_event(db, alert_id, now, "held", None, f"quiet hours until {release_text(rules, held)}")
            log.info("alert held by quiet hours", extra={"alert_id": alert_id, "until": release_text(rules, held),
                                                         "route": a["route"]})
        return 0
    if a["notified_at"] is None:
        level0 = [Target(**t) for t in levels_of(a)[0]["targets"]]
        record.update(db, alert_id, notified_at=now, flushed_at=now, last_notified_at=now, esc_base=now,
                      level_fired_at=now, notified_count=a["mention_count"], flush_at=None, level=0)
        a = alert_row(db, alert_id) or a
        for t in level0:
            enqueue(db, now, f"alert:{alert_id}:post:{t.channel}", "post", t, root_payload(db, a, t), alert_id)
        record_event(db, alert_id, now, "notified", None, ", ".join(t.owner for t in level0))
        reschedule(db, alert_id)
        return 1
    count, before = a["mention_count"], a["notified_count"]
    record.update(db, alert_id, flush_at=None, flushed_at=now, notified_count=count)
    if count <= before:
        return 0
    key = f"count{count}"
    queue_root_update(db, now, alert_id, key, payload_for(db, a))
    noun = "mention" if count - before == 1 else "mentions"
    what = "in this spike" if a["kind"] == "spike" else "of this story"
    queue_reply(db, now, alert_id, key, f":heavy_plus_sign: {count - before} more {noun} {what} "
                                        f"({count} in all). Latest:\n{mention_lines(db, alert_id, before)}")
    record_event(db, alert_id, now, "grouped", None, f"{count} mentions")
    return 1
