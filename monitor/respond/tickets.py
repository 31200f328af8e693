"""Actions a route runs once when an alert opens: a signed webhook, or a Jira, Zendesk or Freshdesk ticket.

Stored before done: `plan` writes one `actions` row per (alert, action) the first time it sees a new alert of
a route with `actions:` (UNIQUE, so planning twice plans once); the worker claims a due row (`claimed_by`,
`claimed_until` on the database clock, for one `attempt.claim_lease`, as replies do: a replica starting leaves another's live claim alone, a
dead one's lapses; SQLite's next daemon releases them at start), and before creating a ticket on a retry it first looks for the one an interrupted attempt may have made
(Jira by label, Zendesk by external_id, Freshdesk by tag), so a `kill -9` between "created" and "stored"
never makes a second ticket. 429/5xx/network wait and retry with backoff like the outbox; other 4xx fail
the row and say so in the alert's thread. `close_ticket: true` closes the ticket when the alert resolves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from monitor.alerting import lifecycle
from monitor.config.rules import Action, Rules
from monitor.core import logs
from monitor.core.clock import Clock
from monitor.core.scrub import scrub_urls
from monitor.notify.blockkit import escape, safe_link
from monitor.respond.attempt import bounded, claim_lease, cut_short, refusal, respond_client, send
from monitor.respond.posters import ReplyRefused, ReplyTransient, check
from monitor.sources.fetch import HttpConfig
from monitor.store.database import Store, dumps
from monitor.store.leases import Coordinator

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
PLAN_WINDOW_S = 86400.0     # alerts opened before this are not ticketed when actions are first configured


@dataclass(frozen=True)
class Ticket:
    key: str | None
    url: str | None


class ActionService:
    def __init__(self, store: Store, rules: Callable[[], Rules], clock: Clock, client: httpx.Client | None = None,
                 wake: Callable[[], None] | None = None, http: HttpConfig | None = None):
        self.store = store
        self.rules = rules
        self.clock = clock
        self.http = http or HttpConfig()          # `http.deadline` bounds one attempt; the claim outlasts it
        self.lease = claim_lease(self.http)
        self.client = client or respond_client(self.http)
        self.wake = wake or (lambda: None)

    # -- planning ---------------------------------------------------------------------------------------
    def plan(self) -> int:
        """A row for every action of every recently opened alert whose route names actions (idempotent)."""
        rules = self.rules()
        routes = [r.name for r in rules.routes if r.actions]
        if not routes:
            return 0
        now = self.clock.now()
        marks = ",".join("?" * len(routes))
        alerts = self.store.query(f"SELECT id, route FROM alerts WHERE route IN ({marks}) AND created_at >= ? AND"
                                  " resolution IS NOT 'folded' AND NOT EXISTS (SELECT 1 FROM actions x WHERE"
                                  " x.alert_id = alerts.id)", (*routes, now - PLAN_WINDOW_S))
        n = 0
        with self.store.tx() as db:
            for a in alerts:
                for name, action in rules.route_actions(a["route"]):
                    n += db.execute("INSERT OR IGNORE INTO actions (alert_id, name, kind, created_at) VALUES"
                                    " (?,?,?,?)", (a["id"], name, action.kind, now)).rowcount
            # resolved alerts whose ticket should close
            db.execute("UPDATE actions SET close_state = 'pending', not_before = NULL WHERE state = 'done' AND"
                       " close_state IS NULL AND ticket_key IS NOT NULL AND alert_id IN (SELECT id FROM alerts"
                       " WHERE state = 'resolved')")
        return n

    # -- doing ------------------------------------------------------------------------------------------
    def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Plan, then do the due actions, up to 50; ``stopping`` is asked before each one. Why: each may wait for a
        slow ticket system up to its HTTP timeout, and a daemon told to stop must not work through the batch past
        its drain bound (an action not yet claimed is simply done after the restart: nothing is lost)."""
        self.plan()
        now = self.clock.now()
        due = self.store.query("SELECT * FROM actions WHERE (state = 'pending' OR close_state = 'pending') AND"
                               " (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 50", (now,))
        done = 0
        for row in due:
            if stopping():
                break
            done += self.execute(row)
        return done

    def release_leases(self) -> None:
        """At start, SQLite only (the run lock: claims left are a dead process's); on PostgreSQL a claim may be a
        live replica's, opening the ticket right now (releasing it opened it twice): a dead one's lapses."""
        if self.store.shared:
            return
        with self.store.tx() as db:
            db.execute("UPDATE actions SET not_before = NULL, claimed_by = NULL, claimed_until = NULL WHERE"
                       " (state = 'pending' OR close_state = 'pending') AND attempts > 0 AND not_before > ?",
                       (self.clock.now(),))

    @property
    def holder(self) -> str:
        return Coordinator.of(self.store).holder

    def execute(self, row: dict[str, Any]) -> bool:
        now = self.clock.now()
        with self.store.tx() as db:      # the claim, and the attempt counted, before anything is sent
            claimed = db.execute("UPDATE actions SET not_before = ?, claimed_by = ?, claimed_until = db_now() + ?,"
                                 " attempts = attempts + 1 WHERE id = ? AND (state = 'pending' OR close_state ="
                                 " 'pending') AND (not_before IS NULL OR not_before <= ?) AND (claimed_until IS NULL"
                                 " OR claimed_until <= db_now())",
                                 (now + self.lease, self.holder, self.lease, row["id"], now)).rowcount
        if not claimed:
            return False
        row = self.store.one("SELECT * FROM actions WHERE id = ?", (row["id"],)) or row   # as claimed, not as listed
        closing = row["state"] == "done"
        action = (self.rules().actions or {}).get(row["name"])
        alert = self.store.one("SELECT * FROM alerts WHERE id = ?", (row["alert_id"],)) or {}
        mention = {} if closing else self._mention(alert)
        try:
            with bounded(self.http, [action.url] if action is not None else []) as guard:    # see `attempt`
                if action is None:
                    raise ReplyRefused(f'action "{row["name"]}" is no longer in rules.yaml')
                runner = RUNNERS[action.kind](action, self.client, self.http)
                if closing:
                    runner.close(row["ticket_key"])
                else:
                    ticket = (runner.find(row) if row["attempts"] > 1 else None) or runner.create(row, alert, mention)
        except ReplyTransient as exc:
            if (why := refusal(guard, "rules.yaml")) is not None:     # permanent: never becomes public
                self._failed(row, why, closing)
            else:
                self._retry(row, ReplyTransient(cut_short(guard, self.http, str(exc)), exc.retry_after))
            return False
        except ReplyRefused as exc:
            self._failed(row, str(exc), closing)
            return False
        with self.store.tx() as db:
            if closing:
                db.execute("UPDATE actions SET close_state = 'closed', closed_at = ?, last_error = NULL,"
                           " claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                           (now, row["id"]))
                lifecycle.note(db, now, row["alert_id"], f"action:{row['id']}:closed",
                               f":ballot_box_with_check: {escape(row['kind'])} {escape(row['ticket_key'])} closed.")
            else:
                ticket = Ticket(ticket.key, scrub_urls(ticket.url) if ticket.url else None)   # a url: with user:pass@
                db.execute("UPDATE actions SET state = 'done', done_at = ?, ticket_key = ?, ticket_url = ?,"
                           " last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?", (now, ticket.key, ticket.url, row["id"]))
                if ticket.key:
                    link = safe_link(ticket.url, ticket.key) if ticket.url else escape(ticket.key)
                    lifecycle.note(db, now, row["alert_id"], f"action:{row['id']}:done",
                                   f":ticket: {escape(row['kind'].capitalize())} ticket opened: {link}")
        log.info("action done", extra={"action_id": row["id"], "alert_id": row["alert_id"], "kind": row["kind"],
                                       "closing": closing})
        self.wake()
        return True

    def _mention(self, alert: dict[str, Any]) -> dict[str, Any]:
        return self.store.one("SELECT m.* FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id"
                              " WHERE am.alert_id = ? ORDER BY m.id LIMIT 1", (alert.get("id"),)) or {}

    def _retry(self, row: dict[str, Any], exc: ReplyTransient) -> None:
        why = logs.scrubbed(str(exc))       # as `_failed`
        wait = exc.retry_after if exc.retry_after is not None else (
            min(MAX_BACKOFF_S, 2.0 ** (row["attempts"] - 1)) * random.uniform(0.8, 1.2))
        with self.store.tx() as db:
            db.execute("UPDATE actions SET not_before = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL"
                       " WHERE id = ? AND (claimed_by IS NULL OR claimed_by = ?)",     # not a claim taken over
                       (self.clock.now() + wait, why[:500], row["id"], self.holder))
        log.warning("action failed, will retry", extra={"action_id": row["id"], "error": why,
                                                        "retry_in": round(wait, 1)})

    def _failed(self, row: dict[str, Any], why: str, closing: bool) -> None:
        """Failed for good: the row, the thread, an ERROR. This and `_retry` are the only ways out of an attempt
        that failed, and the text loses here any credential it carries (a ticket system echoing the API token,
        a Location with `user:pass@` or `?token=`) before the row, Slack or a log line gets it."""
        why = logs.scrubbed(why)
        now = self.clock.now()
        with self.store.tx() as db:
            db.execute(f"UPDATE actions SET {'close_state' if closing else 'state'} = 'failed', last_error = ?,"
                       " claimed_by = NULL, claimed_until = NULL WHERE id = ?", (why[:500], row["id"]))
            lifecycle.note(db, now, row["alert_id"], f"action:{row['id']}:failed:{int(closing)}",
                           f":warning: Action {escape(row['name'])} failed: {escape(why)}")
        log.error("action failed", extra={"action_id": row["id"], "alert_id": row["alert_id"], "error": why})

    def next_due_in(self) -> float | None:
        row = self.store.one("SELECT MIN(COALESCE(not_before, 0)) AS t FROM actions WHERE state = 'pending' OR"
                             " close_state = 'pending'")
        return None if not row or row["t"] is None else max(0.0, row["t"] - self.clock.now())

    def close(self) -> None:
        self.client.close()


# -- the services ---------------------------------------------------------------------------------------

def label(row: dict[str, Any]) -> str:
    """The mark each ticket carries, so a retry finds the one an interrupted attempt made."""
    return f"mention-monitor-{row['alert_id']}-{row['name']}"


def summary(alert: dict[str, Any]) -> str:
    return f"[{alert.get('brand') or 'mention'}] {(alert.get('title') or 'negative mention')}"[:250]


def body(alert: dict[str, Any], mention: dict[str, Any]) -> str:
    contact = ""
    raw = mention.get("raw")
    if isinstance(raw, str) and '"contact"' in raw:
        contact = str((json.loads(raw) or {}).get("contact") or "")
    return "\n".join(x for x in (
        f"Alert #{alert.get('id')} ({alert.get('route') or 'default'}) from {mention.get('source_kind') or '?'}",
        f"Author: {mention.get('author') or 'unknown'}" + (f" · contact: {contact}" if contact else ""),
        f"Link: {mention.get('url')}" if mention.get("url") else "",
        "", (mention.get("text") or "")[:5000]) if x is not None)


class Runner:
    def __init__(self, action: Action, client: httpx.Client, http: HttpConfig | None = None):
        self.action = action
        self.client = client
        self.http = http or HttpConfig()          # redirects: `attempt.send`

    def env(self, name: str | None) -> str:
        value = os.environ.get(name or "")
        if not value:
            raise ReplyRefused(f"${name} is not set")
        logs.add_secret(value)
        return value

    def basic(self, user: str, secret: str) -> dict[str, str]:
        """The header; its encoded value is a secret too (a service echoing it back is scrubbed, not shown)."""
        encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
        logs.add_secret(encoded)
        return {"Authorization": "Basic " + encoded}

    def call(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        return check(send(self.client, self.http, method, url, self.action.kind, **kw), self.action.kind)

    def find(self, row: dict[str, Any]) -> Ticket | None:
        return None

    def create(self, row: dict[str, Any], alert: dict[str, Any], mention: dict[str, Any]) -> Ticket:
        raise NotImplementedError

    def close(self, key: str) -> None:
        raise ReplyRefused(f"{self.action.kind} actions cannot close anything")


class WebhookRunner(Runner):
    """POST the alert as JSON, signed `X-Monitor-Signature: sha256=<hex HMAC of the raw body>`; an answer with
    `key`/`url` is stored as the ticket. `X-Monitor-Delivery` is the same on every retry (dedupe on it)."""

    def create(self, row: dict[str, Any], alert: dict[str, Any], mention: dict[str, Any]) -> Ticket:
        payload = {"event": "alert.opened", "alert_id": alert.get("id"), "brand": alert.get("brand"),
                   "route": alert.get("route"), "title": alert.get("title"), "text": mention.get("text"),
                   "url": mention.get("url"), "author": mention.get("author"), "source": mention.get("source_kind")}
        raw = dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Monitor-Delivery": label(row)}
        if self.action.secret_env:
            sig = hmac.new(self.env(self.action.secret_env).encode(), raw, hashlib.sha256).hexdigest()
            headers["X-Monitor-Signature"] = f"sha256={sig}"
        answer = self.call("POST", self.action.url, content=raw, headers=headers)
        key = answer.get("key") or answer.get("id")
        return Ticket(str(key) if key is not None else None, answer.get("url") if isinstance(answer.get("url"), str) else None)


class JiraRunner(Runner):
    """Jira Cloud REST v2: POST /rest/api/2/issue (basic auth email:API token), labelled for the retry search."""

    def headers(self) -> dict[str, str]:
        return {**self.basic(self.env(self.action.user_env), self.env(self.action.token_env)),
                "Accept": "application/json"}

    def find(self, row: dict[str, Any]) -> Ticket | None:
        found = self.call("GET", f"{self.action.url}/rest/api/2/search", headers=self.headers(),
                          params={"jql": f'labels = "{label(row)}"', "fields": "key", "maxResults": "1"})
        issues = found.get("issues") or []
        return self._ticket(issues[0]["key"]) if issues else None

    def create(self, row: dict[str, Any], alert: dict[str, Any], mention: dict[str, Any]) -> Ticket:
        fields = {"project": {"key": self.action.project}, "summary": summary(alert),
                  "description": body(alert, mention), "issuetype": {"name": self.action.issue_type},
                  "labels": [label(row)]}
        made = self.call("POST", f"{self.action.url}/rest/api/2/issue", headers=self.headers(), json={"fields": fields})
        return self._ticket(str(made.get("key") or made.get("id")))

    def _ticket(self, key: str) -> Ticket:
        return Ticket(key, f"{self.action.url}/browse/{quote(key)}")

    def close(self, key: str) -> None:
        base = f"{self.action.url}/rest/api/2/issue/{quote(key)}/transitions"
        options = self.call("GET", base, headers=self.headers()).get("transitions") or []
        wanted = self.action.close_transition.lower()
        match = next((t for t in options if str(t.get("name", "")).lower() == wanted), None)
        if match is None:
            raise ReplyRefused(f'{key} has no "{self.action.close_transition}" transition '
                               f"(it has: {', '.join(str(t.get('name')) for t in options) or 'none'})")
        self.call("POST", base, headers=self.headers(), json={"transition": {"id": match["id"]}})


class ZendeskRunner(Runner):
    """Zendesk Support: POST /api/v2/tickets.json (basic auth `email/token:API token`), external_id for retries."""

    def headers(self) -> dict[str, str]:
        return self.basic(f"{self.env(self.action.user_env)}/token", self.env(self.action.token_env))

    def find(self, row: dict[str, Any]) -> Ticket | None:
        found = self.call("GET", f"{self.action.url}/api/v2/tickets.json", headers=self.headers(),
                          params={"external_id": label(row)}).get("tickets") or []
        return self._ticket(found[0]["id"]) if found else None

    def create(self, row: dict[str, Any], alert: dict[str, Any], mention: dict[str, Any]) -> Ticket:
        made = self.call("POST", f"{self.action.url}/api/v2/tickets.json", headers=self.headers(), json={"ticket": {
            "subject": summary(alert), "comment": {"body": body(alert, mention)}, "external_id": label(row),
            "tags": ["mention-monitor"]}})
        return self._ticket((made.get("ticket") or {}).get("id"))

    def _ticket(self, tid: Any) -> Ticket:
        return Ticket(str(tid), f"{self.action.url}/agent/tickets/{tid}")

    def close(self, key: str) -> None:
        self.call("PUT", f"{self.action.url}/api/v2/tickets/{quote(key)}.json", headers=self.headers(),
                  json={"ticket": {"status": "solved"}})


class FreshdeskRunner(Runner):
    """Freshdesk v2: POST /api/v2/tickets (basic auth `API key:X`), tagged for the retry search."""

    def headers(self) -> dict[str, str]:
        return self.basic(self.env(self.action.token_env), "X")

    def find(self, row: dict[str, Any]) -> Ticket | None:
        found = self.call("GET", f"{self.action.url}/api/v2/search/tickets", headers=self.headers(),
                          params={"query": f"\"tag:'{label(row)}'\""}).get("results") or []
        return self._ticket(found[0]["id"]) if found else None

    def create(self, row: dict[str, Any], alert: dict[str, Any], mention: dict[str, Any]) -> Ticket:
        email = self.action.requester or "mention-monitor@localhost"
        made = self.call("POST", f"{self.action.url}/api/v2/tickets", headers=self.headers(), json={
            "subject": summary(alert), "description": escape(body(alert, mention)).replace("\n", "<br>"),
            "email": email, "priority": 2, "status": 2, "tags": [label(row)]})
        return self._ticket(made.get("id"))

    def _ticket(self, tid: Any) -> Ticket:
        return Ticket(str(tid), f"{self.action.url}/a/tickets/{tid}")

    def close(self, key: str) -> None:
        self.call("PUT", f"{self.action.url}/api/v2/tickets/{quote(key)}", headers=self.headers(), json={"status": 5})


RUNNERS: dict[str, type[Runner]] = {"webhook": WebhookRunner, "jira": JiraRunner, "zendesk": ZendeskRunner,
                                    "freshdesk": FreshdeskRunner}


def health(store: Store) -> dict[str, Any]:
    rows = {r["state"]: r["n"] for r in store.query("SELECT state, COUNT(*) AS n FROM actions GROUP BY state")}
    return {"pending": rows.get("pending", 0), "done": rows.get("done", 0), "failed": rows.get("failed", 0)}
