"""The weekly report's way into Slack: files_upload_v2's three Web API steps one at a time, and the lookup that
keeps a crash from uploading it twice.

slack_sdk's `files_upload_v2` runs files.getUploadURLExternal (Slack reserves a file id), a POST of the bytes
to the upload URL, and files.completeUploadExternal (the file is shared in the channel with its text) in one
call, so its caller learns the file id only after the share. Run one at a time, the id is stored between the
first step and the last: a report in flight without a file id was certainly not shared (only the last step
shares); one with an id may have been. Slack's file API has no idempotency key and completeUploadExternal
takes no message metadata, so that id is what the lookup matches: the share is a message in the channel whose
`files` list it, read with conversations.history (the scope the alerts' at-most-once delivery already needs:
channels:history, or groups:history for a private channel). Slack shares the file asynchronously after
completeUploadExternal answers, so a lookup is trusted only SHARE_SETTLE_S after the attempt began.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from monitor.notify.senders import MAYBE_DONE, never_sent

HISTORY_SCOPE = "channels:history (groups:history for a private channel)"
SHARE_SETTLE_S = 60.0          # completeUploadExternal's share shows in the history within this (it is async)
CLOCK_SKEW_S = 300.0           # our clock against Slack's message timestamps: searched this far before the attempt
MAX_PAGES = 20                 # x 200 messages: a busier channel is "cannot tell", never "not there"


class LookupFailed(Exception):
    """The channel's history cannot be read now (missing scope, Slack down, too many messages to search)."""


class NotShared(Exception):
    """A step failed in a way that proves the file was not shared (Slack said ok:false, or never got the request)."""


@dataclass(frozen=True)
class Reserved:
    file_id: str
    upload_url: str


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        if status >= 500 or data.get("ok") is not False:          # a proxy's error page, not Slack's JSON
            return f"Slack answered HTTP {status}"
        return str(data.get("error") or f"HTTP {exc.response.status_code}") + (
            f" (needs {data['needed']})" if data.get("needed") else "")
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def refused(exc: BaseException) -> bool:
    """True when the request certainly had no effect: Slack answered `ok: false` in JSON (a 429 included), or
    the connection was refused. A 5xx page, a timeout or a reset may have come after Slack acted on it, and so
    may `internal_error`/`fatal_error` (the alerts' rule, `may_have_acted`): those are looked up, not retried."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error", ""))
        return data.get("ok") is False and status < 500 and not error.startswith("Received a") \
            and error not in MAYBE_DONE
    return never_sent(exc)


class ReportUploader:
    """One report's upload with a slack_sdk WebClient (its own retries off: the schedule retries, with state on disk)."""

    def __init__(self, client: Any):
        self.client = client

    def reserve(self, filename: str, length: int) -> Reserved:
        """files.getUploadURLExternal: nothing is shared yet. Raises NotShared on any failure.

        No `alt_txt`: with it Slack answers ok to every step and never shares the file in the channel
        (python-slack-sdk #1818, open, labelled server-side), so the week would be recorded as posted and never
        seen. What the chart shows is in the message text the file is shared with."""
        try:
            resp = self.client.files_getUploadURLExternal(filename=filename, length=length)
            return Reserved(str(resp["file_id"]), str(resp["upload_url"]))
        except Exception as exc:  # noqa: BLE001 - whatever failed, no file can have been shared
            raise NotShared(_error(exc)) from None

    def send(self, reserved: Reserved, data: bytes) -> None:
        """The bytes to the upload URL (slack_sdk's own helper, as files_upload_v2 does); shares nothing."""
        try:
            result = self.client._upload_file(url=reserved.upload_url, data=data, logger=self.client.logger,
                                              timeout=self.client.timeout, proxy=self.client.proxy,
                                              ssl=self.client.ssl)
        except Exception as exc:  # noqa: BLE001 - the file is not complete, so not shared
            raise NotShared(_error(exc)) from None
        if result.status != 200:
            raise NotShared(f"upload answered HTTP {result.status}: {str(result.body)[:100]}")

    def complete(self, reserved: Reserved, title: str, channel: str, text: str) -> None:
        """files.completeUploadExternal: shares the file with `text` in `channel`. Raises NotShared when Slack
        certainly did not act on it; any other exception means the outcome is unknown (look before retrying)."""
        try:
            self.client.files_completeUploadExternal(files=[{"id": reserved.file_id, "title": title}],
                                                     channel_id=channel, initial_comment=text)
        except Exception as exc:
            if refused(exc):
                raise NotShared(_error(exc)) from None
            raise

    def find_share(self, channel: str, file_id: str, since: float) -> str | None:
        """The ts of the message sharing `file_id` in `channel`, posted after `since` (our clock); None when the
        history since then holds no such message. LookupFailed when it cannot be read to the end."""
        cursor: str | None = None
        for _page in range(MAX_PAGES):
            try:
                resp = self.client.conversations_history(channel=channel, oldest=f"{max(0.0, since - CLOCK_SKEW_S):.6f}",
                                                         limit=200, cursor=cursor)
            except Exception as exc:  # noqa: BLE001 - missing scope, not in channel, 5xx, timeout: cannot tell
                raise LookupFailed(_error(exc)) from None
            for m in resp.get("messages") or []:
                if any(isinstance(f, dict) and f.get("id") == file_id for f in m.get("files") or []):
                    return str(m["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        raise LookupFailed(f"more than {MAX_PAGES * 200} messages since the upload began; not searched further")
