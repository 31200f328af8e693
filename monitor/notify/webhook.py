"""Incoming-webhook mode, for teams without a bot: every message goes to the one channel the webhook was
created for, without buttons (nothing could receive the clicks), without threads and without edits.

`slack.mode: webhook` in config; the URL (a secret: anyone holding it can post) comes from the environment
variable named by `slack.webhook_url_env` (default `SLACK_WEBHOOK_URL`). Alerts are still acknowledged and
resolved from the terminal (`monitor ack ID`). Webhooks answer with plain-text bodies and status codes, so
the mapping to the outbox's vocabulary is this module's job: 429 waits for Retry-After, 5xx and network
errors retry, a revoked or deleted webhook (403/404/410) halts delivery loudly, a refused payload (400)
is resent as plain text once.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from monitor.core.errors import OutcomeUnknown, SlackFatal, SlackRateLimited, SlackRejected, SlackTransient
from monitor.core.netguard import WATCHDOG
from monitor.notify.blockkit import trim, without_buttons
from monitor.notify.senders import never_sent, retry_after_of

_GONE = {"invalid_token", "no_service", "no_team", "team_disabled", "channel_not_found", "channel_is_archived",
         "action_prohibited", "no_service_id", "posting_to_general_channel_denied", "user_not_found"}


MAX_ANSWER = 64 * 1024     # a webhook answers "ok" or a short error word


class CappedWebhookClient(WebhookClient):
    """slack_sdk reads the answer whole; this reads at most MAX_ANSWER bytes of it (see CappedWebClient)."""

    def _perform_http_request_internal(self, url: str, req: urllib.request.Request) -> WebhookResponse:
        if not url.lower().startswith(("http://", "https://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        try:
            resp = urllib.request.urlopen(req, context=self.ssl, timeout=self.timeout)  # noqa: S310 - http(s) only
        except urllib.error.HTTPError as exc:
            resp = exc
        with resp:
            body = resp.read(MAX_ANSWER + 1)
            if len(body) > MAX_ANSWER:
                raise SlackRequestError(f"webhook answer larger than {MAX_ANSWER:,} bytes; not read further")
            charset = resp.headers.get_content_charset() or "utf-8"
            return WebhookResponse(url=url, status_code=resp.code, body=body.decode(charset, "replace"),
                                   headers=dict(resp.headers.items()))


class WebhookSender:
    can_update = False
    can_thread = False
    single_channel = True       # one channel: order and the one-per-second pacing span every message

    def __init__(self, url: str, timeout: float = 15.0):
        if not url.startswith(("https://", "http://")):
            raise SlackFatal("the incoming-webhook URL must start with https://")
        self.timeout = float(max(1, timeout))
        self.url = url
        self.client = CappedWebhookClient(url, timeout=int(self.timeout), retry_handlers=[])
        self._n = 0

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        body = without_buttons(payload)
        # Routing still decided who this is for; in a single channel, say so.
        text = body.get("text") or ""
        if channel and not channel.startswith("C"):
            who = trim(f"for {channel if channel.startswith('#') else '<@' + channel + '>'}", 300)
            if body.get("blocks"):
                body["blocks"] = [*body["blocks"], {"type": "context",
                                                    "elements": [{"type": "mrkdwn", "text": who}]}][:50]
            else:
                text = f"{text}\n_{who}_"
        with WATCHDOG.guard(self.timeout + 1.0, trusted=[self.url]) as guard:
            try:
                resp = self.client.send(text=text, blocks=body.get("blocks") or None, unfurl_links=False,
                                        unfurl_media=False)
            except Exception as exc:  # noqa: BLE001 - URLError, timeouts, resets: all retryable
                what = "no complete answer within the deadline" if guard.fired else f"{type(exc).__name__}: {exc}"
                if never_sent(exc):
                    raise SlackTransient(what[:300]) from None
                # no history to look in: the outbox retries such a message at most once, and says so
                raise OutcomeUnknown(f"{what}; the webhook may have posted it"[:300]) from None
            if guard.fired:              # the answer was cut at the deadline: whatever was read is not an answer
                raise OutcomeUnknown("no complete answer within the deadline; the webhook may have posted it")
        status, answer = resp.status_code, (resp.body or "").strip()
        if status == 200:
            self._n += 1
            return "webhook", ""          # webhooks return no ts: nothing to thread under or edit
        if status == 429:
            raise SlackRateLimited(retry_after_of(dict(resp.headers or {})))
        if status >= 500:
            raise SlackTransient(f"webhook answered HTTP {status}")
        if answer in _GONE or status in (403, 404, 410):
            raise SlackFatal(f"the incoming webhook refused the message: HTTP {status} {answer[:100]}")
        if status == 400 and body.get("blocks"):
            raise SlackRejected("invalid_blocks")
        raise SlackRejected(f"HTTP {status} {answer[:100]}")

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        raise SlackRejected("incoming webhooks cannot edit messages")
