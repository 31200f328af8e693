"""Respond: closing the loop. Owns the `replies` and `actions` tables.

A reply to the original post (drafted from `replies:` templates, approved when a route or brand asks for it,
stored before it is posted, posted once through the platform's own API, marked posted only after the platform
said ok), "Mark replied" for places without write access, the Slack Reply modal, and the actions a route runs
once when an alert opens (a signed webhook, a Jira/Zendesk/Freshdesk ticket, closed again on resolve). It sits
above alerting: the first response is written through `alerting.lifecycle.record_response`, and its Slack
buttons reach it through the hooks the daemon hands to `alerting.interactive`.
"""

from __future__ import annotations

from monitor.respond import official  # noqa: F401,I001 - registers the official-API posters
from monitor.respond.drafts import LIMITS, TooLong, draft_for, fit
from monitor.respond.posters import POSTERS, Poster, ReplyRefused, ReplyTransient, register_poster
from monitor.respond.replies import ReplyService
from monitor.respond.tickets import ActionService

__all__ = ["LIMITS", "POSTERS", "ActionService", "Poster", "ReplyRefused", "ReplyService", "ReplyTransient",
           "TooLong", "draft_for", "fit", "register_poster"]
