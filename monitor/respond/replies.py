"""Replies: drafted, approved when asked, stored, posted once, and counted as the alert's first response.

A reply is a row before it is a post. `submit` stores it (`approved`, or `awaiting_approval` with a message to
the approver); the worker claims a due row (so the CLI, the daemon and the replicas never post the same row at
once: `claimed_by` this process, `claimed_until` its lease on the database clock, as routing claims mentions;
the lease outlasts one attempt, which `http.deadline` bounds: see `attempt`), posts it with an idempotency key
made from the row id, and only then, in one transaction, marks it posted and records the alert's first
response. A crash between the post and the mark posts it at most once more (and not even that on platforms
that honour the key). Who lets go of a claim left by a dead process: on SQLite the next daemon at its start
(it holds the run lock: nobody else can be posting); on PostgreSQL nobody early, since another replica may be
posting under it right now: it lapses, and any replica takes it. 429/5xx wait and retry with backoff; any
other refusal marks the row failed and says why in the alert's thread (and to the terminal, for `monitor reply`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from monitor.alerting import lifecycle
from monitor.config.rules import Rules
from monitor.config.settings import Config
from monitor.core import logs
from monitor.core.clock import Clock
from monitor.core.errors import AlertError, MonitorError
from monitor.core.model import Target
from monitor.notify.blockkit import actor_text, escape, plain_message, safe_link, trim
from monitor.notify.queue import enqueue
from monitor.respond.attempt import bounded, claim_lease, cut_short, refusal, respond_client
from monitor.respond.drafts import draft_for, fit, limit_for
from monitor.respond.posters import Posted, ReplyRefused, ReplyTransient, poster_for
from monitor.store.database import Store
from monitor.store.leases import Coordinator

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
MAX_ATTEMPTS = 12         # transient failures before the row is failed and said so


@dataclass(slots=True)
class Reply:
    """One row of `replies`."""

    id: int
    alert_id: int
    mention_id: int | None
    platform: str
    text: str
    author: str
    state: str
    approver: str | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    attempts: int = 0
    not_before: float | None = None
    last_error: str | None = None
    created_at: float = 0.0
    posted_at: float | None = None
    external_id: str | None = None
    url: str | None = None
    notify: str | None = None
    claimed_by: str | None = None
    claimed_until: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Reply:
        return cls(**row)


@dataclass(frozen=True)
class Answering:
    """What a reply answers: the alert, its first mention, and whether the platform can be posted to."""

    alert: dict[str, Any]
    mention: dict[str, Any]
    platform: str
    postable: bool
    limit: int


class ReplyService:
    def __init__(self, store: Store, rules: Callable[[], Rules], config: Config, clock: Clock,
                 client: httpx.Client | None = None, wake: Callable[[], None] | None = None):
        self.store = store
        self.rules = rules
        self.config = config
        self.clock = clock
        self.client = client or respond_client(config.http)
        self.lease = claim_lease(config.http)     # a claimed row is not claimed again for this long
        self.wake = wake or (lambda: None)

    # -- what to answer ---------------------------------------------------------------------------------
    def target(self, alert_id: int) -> Answering:
        alert = self.store.one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        if alert is None:
            raise AlertError(f"There is no alert #{alert_id}.")
        mention = self.store.one("SELECT m.* FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id"
                                 " WHERE am.alert_id = ? ORDER BY m.id LIMIT 1", (alert_id,)) or {}
        kind = str(mention.get("source_kind") or "")
        return Answering(alert, mention, kind or "unknown", poster_for(kind) is not None and alert["kind"] != "spike",
                       limit_for(kind))

    def draft(self, alert_id: int) -> tuple[Answering, str]:
        t = self.target(alert_id)
        return t, draft_for(self.rules(), t.alert, t.mention)

    # -- storing ----------------------------------------------------------------------------------------
    def submit(self, alert_id: int, text: str, by: str, notify: str | None = None) -> Reply:
        """Store a reply: approved at once, or waiting for the approver (who is sent Approve / Edit / Reject)."""
        t = self.target(alert_id)
        if not t.postable:
            raise ReplyRefused(f"replies to {t.platform} cannot be posted from here: reply there, then mark it "
                               f"replied (`monitor reply {alert_id} --mark URL`)")
        text = fit(text, t.platform)
        approver = self.rules().approver(t.alert.get("route"), t.alert.get("brand"))
        needs = approver is not None and not self._is(by, approver)
        now = self.clock.now()
        with self.store.tx() as db:
            cur = db.execute("INSERT INTO replies (alert_id, mention_id, platform, text, author, state, approver,"
                             " created_at, notify) VALUES (?,?,?,?,?,?,?,?,?)",
                             (alert_id, t.mention.get("id"), t.platform, text, by,
                              "awaiting_approval" if needs else "approved", approver, now, notify))
            reply_id = int(cur.lastrowid or 0)
            if needs and approver:
                self._ask_approval(db, now, reply_id, t, text, by, approver)
        log.info("reply stored", extra={"reply_id": reply_id, "alert_id": alert_id, "platform": t.platform,
                                        "awaiting_approval": needs})
        self.wake()
        return self.get(reply_id)

    def _is(self, actor: str, owner: str) -> bool:
        """The approver replying themselves needs no approval (by owner name, or their Slack user id)."""
        o = self.rules().owners.get(owner)
        ids = {owner, f"cli:{owner}"}
        if o is not None and o.slack.startswith("@"):
            ids.add(f"slack:{o.slack[1:]}")
        return actor in ids

    def _ask_approval(self, db: Any, now: float, reply_id: int, t: Answering, text: str, by: str, approver: str) -> None:
        owner = self.rules().owners[approver]
        target = Target(approver, owner.slack, owner.mention)
        summary = (f":memo: {actor_text(by)} wants to reply to alert #{t.alert['id']} on *{escape(t.platform)}*"
                   f" ({escape(t.alert.get('brand') or '')}):\n>" + escape(trim(text, 2500)).replace("\n", "\n>"))
        blocks = plain_message(summary, target)["blocks"] + [{
            "type": "actions", "block_id": f"reply:{reply_id}", "elements": [
                {"type": "button", "action_id": a, "text": {"type": "plain_text", "text": label},
                 "value": str(reply_id), **({"style": style} if style else {})}
                for a, label, style in (("reply_approve", "Approve", "primary"), ("reply_edit", "Edit", None),
                                        ("reply_reject", "Reject", "danger"))]}]
        enqueue(db, now, f"reply:{reply_id}:approval:{target.channel}", "notice", target,
                {"text": f"Reply to alert #{t.alert['id']} awaits your approval", "blocks": blocks}, t.alert["id"])

    def may_decide(self, r: Reply, actor: str) -> bool:
        """In Slack, an approver who is a person (`slack: "@U…"`) decides alone; a channel owner's members may."""
        owner = self.rules().owners.get(r.approver or "")
        if owner is None or not owner.slack.startswith("@") or not actor.startswith("slack:"):
            return True
        return actor == f"slack:{owner.slack[1:]}"

    def decide(self, reply_id: int, approve: bool, by: str, text: str | None = None) -> Reply:
        """Approve (optionally with edited text) or reject a waiting reply; only a waiting one can change."""
        r = self.get(reply_id)
        if not self.may_decide(r, by):
            raise MonitorError(f"only {r.approver} can approve or reject reply #{reply_id}")
        if text is not None:
            text = fit(text, r.platform)
        now = self.clock.now()
        with self.store.tx() as db:
            changed = db.execute("UPDATE replies SET state = ?, decided_by = ?, decided_at = ?, text = COALESCE(?, text)"
                                 " WHERE id = ? AND state = 'awaiting_approval'",
                                 ("approved" if approve else "rejected", by, now, text, reply_id)).rowcount
            if not changed:
                raise MonitorError(f"reply #{reply_id} is {r.state.replace('_', ' ')}, not awaiting approval")
            if not approve:
                lifecycle.note(db, now, r.alert_id, f"reply:{reply_id}:rejected",
                               f":no_entry: A reply by {actor_text(r.author)} was rejected by {actor_text(by)}.")
        log.info("reply %s", "approved" if approve else "rejected", extra={"reply_id": reply_id, "by": by})
        self.wake()
        return self.get(reply_id)

    def mark(self, alert_id: int, url: str | None, by: str) -> Reply:
        """Replied elsewhere (news comments, a phone call): recorded as the first response, nothing posted."""
        t = self.target(alert_id)
        if url and not url.startswith(("http://", "https://")):
            raise MonitorError(f'"{url}" is not an http(s) link')
        now = self.clock.now()
        with self.store.tx() as db:
            cur = db.execute("INSERT INTO replies (alert_id, mention_id, platform, text, author, state, created_at,"
                             " posted_at, url) VALUES (?,?,?,?,?,'marked',?,?,?)",
                             (alert_id, t.mention.get("id"), t.platform, "", by, now, now, url))
            reply_id = int(cur.lastrowid or 0)
            link = safe_link(url, "the reply") if url else ""
            lifecycle.record_response(db, now, alert_id, by, f":speech_balloon: Marked replied by {actor_text(by)}"
                                      + (f": {link}" if link else "."), f"r{reply_id}")
        self.wake()
        return self.get(reply_id)

    def get(self, reply_id: int) -> Reply:
        row = self.store.one("SELECT * FROM replies WHERE id = ?", (reply_id,))
        if row is None:
            raise MonitorError(f"there is no reply #{reply_id}")
        return Reply.from_row(row)

    # -- posting ----------------------------------------------------------------------------------------
    def release_leases(self) -> int:
        """At start: on SQLite (this process holds the run lock) rows claimed by a process that died are due again
        now. On PostgreSQL nothing: a claim may be a live replica's, posting this very moment (releasing it posted
        the reply twice); a dead one's lapses after `self.lease` and any replica takes it (module doc)."""
        if self.store.shared:
            return 0
        with self.store.tx() as db:
            return int(db.execute("UPDATE replies SET not_before = NULL, claimed_by = NULL, claimed_until = NULL"
                                  " WHERE state = 'approved' AND attempts > 0 AND not_before > ?",
                                  (self.clock.now(),)).rowcount)

    def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Post every approved reply that is due; returns how many were posted. ``stopping`` is asked before each
        (as ActionService.run_once: a stop is not held up by a batch of slow posts)."""
        now = self.clock.now()
        due = self.store.query("SELECT id FROM replies WHERE state = 'approved' AND (not_before IS NULL OR"
                               " not_before <= ?) ORDER BY id LIMIT 50", (now,))
        posted = 0
        for r in due:
            if stopping():
                break
            posted += self.post(r["id"]) is not None
        return posted

    def claim(self, reply_id: int) -> bool:
        """Take a due row nobody holds (or whose holder's claim lapsed), counting the attempt. `not_before` is put
        off too, so that every worker's due query and wake-up skip the row meanwhile; the claim itself is decided
        on the database clock, which replicas share whatever their own clocks say."""
        now = self.clock.now()
        with self.store.tx() as db:
            return bool(db.execute("UPDATE replies SET not_before = ?, claimed_by = ?, claimed_until = db_now() + ?,"
                                   " attempts = attempts + 1 WHERE id = ? AND state = 'approved' AND (not_before IS"
                                   " NULL OR not_before <= ?) AND (claimed_until IS NULL OR claimed_until <= db_now())",
                                   (now + self.lease, self.holder, self.lease, reply_id, now)).rowcount)

    @property
    def holder(self) -> str:
        """This process among the replicas (`monitor status` lists it), written on the rows it claims."""
        return Coordinator.of(self.store).holder

    def post(self, reply_id: int) -> Reply | None:
        """Post one reply if it is due and nobody else holds it: the posted row, or None (not posted now)."""
        if not self.claim(reply_id):
            return None
        r = self.get(reply_id)
        mention = self.store.one("SELECT * FROM mentions WHERE id = ?", (r.mention_id,)) or {}
        cls = poster_for(mention.get("source_kind"))
        poster = cls(self._source(mention.get("source_id")), self.client, self.config.http) if cls else None
        try:     # within the claim, and only the configured endpoints may be internal: see `attempt`
            with bounded(self.config.http, poster.endpoints() if poster is not None else ()) as guard:
                if poster is None:
                    raise ReplyRefused(f"no way to post to {r.platform}")
                posted = poster.post(mention, r.text, f"mention-monitor-reply-{r.id}")
        except ReplyTransient as exc:
            if (why := refusal(guard, "monitor.yaml")) is not None:     # permanent: never becomes public
                self._refused(r, why)
            else:
                self._retry(r, ReplyTransient(cut_short(guard, self.config.http, str(exc)), exc.retry_after))
            return None
        except ReplyRefused as exc:
            self._refused(r, str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a poster bug is a refusal said aloud, never a dead worker
            if (why := refusal(guard, "monitor.yaml")) is None:
                log.exception("reply poster crashed", extra={"reply_id": r.id})
            self._refused(r, why or logs.scrubbed(f"unexpected {type(exc).__name__}: {exc}", 300))
            return None
        self._posted(r, posted)
        return self.get(reply_id)

    def _source(self, source_id: str | None) -> Any:
        try:
            return self.config.source(source_id or "")
        except KeyError:
            return None

    def _posted(self, r: Reply, posted: Posted) -> None:
        now = self.clock.now()
        with self.store.tx() as db:
            if not db.execute("UPDATE replies SET state = 'posted', posted_at = ?, external_id = ?, url = ?,"
                              " last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ? AND"
                              " state = 'approved'",
                              (now, posted.external_id, posted.url, r.id)).rowcount:
                return                       # another process marked it first: its response is recorded
            link = safe_link(posted.url, "the reply") if posted.url else ""
            lifecycle.record_response(db, now, r.alert_id, r.author,
                                      f":speech_balloon: {actor_text(r.author)} replied on {escape(r.platform)}"
                                      + (f": {link}" if link else "."), f"r{r.id}")
        log.info("reply posted", extra={"reply_id": r.id, "alert_id": r.alert_id, "platform": r.platform,
                                        "url": posted.url})

    def _retry(self, r: Reply, exc: ReplyTransient) -> None:
        now = self.clock.now()
        attempts = r.attempts
        if attempts >= MAX_ATTEMPTS:
            self._refused(r, f"gave up after {attempts} attempts: {exc}")
            return
        why = logs.scrubbed(str(exc))      # a platform's text, a Location: no credential in the row or the log
        wait = exc.retry_after if exc.retry_after is not None else min(MAX_BACKOFF_S, 2.0 ** attempts) * random.uniform(0.8, 1.2)
        with self.store.tx() as db:
            db.execute("UPDATE replies SET not_before = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL"
                       " WHERE id = ? AND (claimed_by IS NULL OR claimed_by = ?)",     # not a claim taken over
                       (now + wait, why[:500], r.id, self.holder))
        log.warning("reply not posted yet, will retry", extra={"reply_id": r.id, "error": why,
                                                               "retry_in": round(wait, 1)})

    def _refused(self, r: Reply, why: str) -> None:
        """Failed for good, said in the row, the thread and an ERROR. Every refusal comes through here (and every
        retry through `_retry`): the one place its text loses any credential it carries (a platform echoing the
        token, a Location with `user:pass@` or `?access_token=`, a poster's crash), before anyone sees it."""
        why = logs.scrubbed(why)
        now = self.clock.now()
        with self.store.tx() as db:
            db.execute("UPDATE replies SET state = 'failed', last_error = ?, claimed_by = NULL, claimed_until = NULL"
                       " WHERE id = ?", (why[:500], r.id))
            lifecycle.note(db, now, r.alert_id, f"reply:{r.id}:failed",
                           f":warning: The reply by {actor_text(r.author)} was not posted: {escape(why)}")
        log.error("reply refused", extra={"reply_id": r.id, "alert_id": r.alert_id, "error": why})

    def next_due_in(self) -> float | None:
        row = self.store.one("SELECT MIN(COALESCE(not_before, 0)) AS t FROM replies WHERE state = 'approved'")
        if not row or row["t"] is None:
            return None
        return max(0.0, row["t"] - self.clock.now())

    def close(self) -> None:
        self.client.close()


def health(store: Store) -> dict[str, Any]:
    """What `monitor status` shows of replies: waiting, failed in 24 h, awaiting approval."""
    rows = {r["state"]: r["n"] for r in store.query("SELECT state, COUNT(*) AS n FROM replies GROUP BY state")}
    return {"pending": rows.get("approved", 0), "awaiting_approval": rows.get("awaiting_approval", 0),
            "posted": rows.get("posted", 0), "marked": rows.get("marked", 0), "failed": rows.get("failed", 0)}
