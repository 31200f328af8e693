"""The Reply button, its modal, and the approver's Approve / Edit / Reject, as hooks for `alerting.interactive`.

Reply opens a modal (`views.open` with the click's trigger_id) holding the draft and the platform's limit;
Slack's own `max_length` stops a too-long reply in the client, and the submission is checked again here
(`response_action: errors`, shown under the field) before anything is stored. Where the product cannot post
(news, RSS, pages, a spike) the modal is "Mark replied" with an optional link instead.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.alerting.interactive import Hooks
from monitor.core import logs
from monitor.core.errors import MonitorError
from monitor.notify.blockkit import escape, trim
from monitor.respond.drafts import TooLong
from monitor.respond.replies import ReplyService

log = logging.getLogger(__name__)

CALLBACK = "mention_monitor_reply"
TEXT_BLOCK, TEXT_ACTION = "reply_text", "text"
URL_BLOCK, URL_ACTION = "reply_url", "url"
_USER = re.compile(r"[UW][A-Z0-9]{2,20}")


class ReplyModal:
    def __init__(self, replies: ReplyService, token: str | None, api_url: str, timeout: float = 10.0):
        self.replies = replies
        self.web = WebClient(token=token, base_url=api_url, timeout=int(timeout)) if token else None

    def hooks(self) -> Hooks:
        return Hooks(actions={"reply": self.on_reply, "reply_approve": self.on_approve, "reply_edit": self.on_edit,
                              "reply_reject": self.on_reject},
                     view_submission=self.on_submit)

    # -- buttons ------------------------------------------------------------------------------------------
    def on_reply(self, payload: dict[str, Any], action: dict[str, Any]) -> str | None:
        value = str(action.get("value") or "")
        if not value.isdigit():
            return "Sorry, this button does not point at an alert I know."
        target, draft = self.replies.draft(int(value))
        return self._open(payload, view(target.alert["id"], target.platform, target.limit, draft, target.postable))

    def on_approve(self, payload: dict[str, Any], action: dict[str, Any]) -> str | None:
        r = self.replies.decide(_reply_id(action), True, _actor(payload))
        return None if r.state == "approved" else f"Reply #{r.id} is {r.state}."

    def on_reject(self, payload: dict[str, Any], action: dict[str, Any]) -> str | None:
        self.replies.decide(_reply_id(action), False, _actor(payload))
        return None

    def on_edit(self, payload: dict[str, Any], action: dict[str, Any]) -> str | None:
        r = self.replies.get(_reply_id(action))
        if not self.replies.may_decide(r, _actor(payload)):
            return f"Only {escape(r.approver or 'the approver')} can edit reply #{r.id}."
        if r.state != "awaiting_approval":
            return f"Reply #{r.id} is {r.state.replace('_', ' ')}; there is nothing to edit."
        target = self.replies.target(r.alert_id)
        return self._open(payload, view(r.alert_id, r.platform, target.limit, r.text, True, edit_of=r.id))

    def _open(self, payload: dict[str, Any], modal: dict[str, Any]) -> str | None:
        if self.web is None:
            return "Replies from Slack need the bot token; use `monitor reply` meanwhile."
        try:
            self.web.views_open(trigger_id=str(payload.get("trigger_id") or ""), view=modal)
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
            return f"Sorry, Slack would not open the reply window ({escape(str(exc.response.get('error')))})."
        return None

    # -- the modal submitted ------------------------------------------------------------------------------
    def on_submit(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        v = payload.get("view") or {}
        if v.get("callback_id") != CALLBACK:
            return None
        try:
            meta = json.loads(v.get("private_metadata") or "{}")
            alert_id = int(meta["alert_id"])
        except (ValueError, KeyError, TypeError):
            return None
        values = (v.get("state") or {}).get("values") or {}
        text = str(((values.get(TEXT_BLOCK) or {}).get(TEXT_ACTION) or {}).get("value") or "")
        url = ((values.get(URL_BLOCK) or {}).get(URL_ACTION) or {}).get("value")
        actor = _actor(payload)
        try:
            if meta.get("mode") == "mark":
                self.replies.mark(alert_id, url or None, actor)
            elif meta.get("edit_of"):
                self.replies.decide(int(meta["edit_of"]), True, actor, text=text)
            else:
                self.replies.submit(alert_id, text, actor, notify=actor)
        except TooLong as exc:
            return {"response_action": "errors", "errors": {TEXT_BLOCK: f"{exc.length} characters: "
                                                            f"{exc.platform} allows at most {exc.limit}"}}
        except MonitorError as exc:
            block = URL_BLOCK if meta.get("mode") == "mark" else TEXT_BLOCK
            return {"response_action": "errors", "errors": {block: said(exc, 150)}}
        return None


def said(exc: Exception, limit: int) -> str:
    """An error as the modal shows it: scrubbed (`logs.scrubbed`: the link typed into Mark replied with its
    `user:pass@`, a platform's text quoting a token) and escaped for Slack like every other text the modal
    shows, then cut outside any entity. Round 23: `str(exc)` went to Slack as it was."""
    return trim(escape(logs.scrubbed(str(exc), limit * 4)), limit)


def view(alert_id: int, platform: str, limit: int, draft: str, postable: bool, edit_of: int | None = None
         ) -> dict[str, Any]:
    """The modal: the draft in a multiline input capped at the platform's limit, or Mark replied with a link."""
    meta = {"alert_id": alert_id, "mode": "reply" if postable else "mark", **({"edit_of": edit_of} if edit_of else {})}
    if postable:
        blocks: list[dict[str, Any]] = [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Replying on *{escape(platform)}* to alert "
                                              f"#{alert_id} · at most {limit:,} characters"}]},
            {"type": "input", "block_id": TEXT_BLOCK, "label": {"type": "plain_text", "text": "Reply"},
             "element": {"type": "plain_text_input", "action_id": TEXT_ACTION, "multiline": True,
                         "max_length": min(limit, 3000), "initial_value": draft[:min(limit, 3000)]}}]
        submit = "Approve and post" if edit_of else "Post reply"
    else:
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"mention-monitor cannot post to *{escape(platform)}*."
                                         " Reply there, then mark alert "
                                         f"#{alert_id} replied. Suggested text:\n>{escape(draft[:2500])}"}},
            {"type": "input", "block_id": URL_BLOCK, "optional": True,
             "label": {"type": "plain_text", "text": "Link to your reply"},
             "element": {"type": "url_text_input", "action_id": URL_ACTION}}]
        submit = "Mark replied"
    return {"type": "modal", "callback_id": CALLBACK, "private_metadata": json.dumps(meta),
            "title": {"type": "plain_text", "text": "Reply"}, "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}


def _reply_id(action: dict[str, Any]) -> int:
    value = str(action.get("value") or "")
    if not value.isdigit():
        raise MonitorError("this button does not point at a reply I know")
    return int(value)


def _actor(payload: dict[str, Any]) -> str:
    user = str((payload.get("user") or {}).get("id") or "")
    return f"slack:{user}" if _USER.fullmatch(user) else "slack:unknown"
