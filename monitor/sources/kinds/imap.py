"""Email in: a mailbox polled over IMAPS, each new message a mention (customer emails, contact forms).

The cursor is the mailbox's UIDVALIDITY and the highest UID stored: a poll asks only for `UID n+1:*`, and
when the server says the UIDVALIDITY changed (the mailbox was rebuilt, so old UIDs mean nothing) the cursor
starts again from the first message, said in a warning; Message-ID keeps messages seen before from being
stored twice. The mailbox is opened read-only (EXAMINE) and bodies are read with BODY.PEEK: polling never
marks anything as read.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import re
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, ClassVar

from pydantic import Field

from monitor.core import logs
from monitor.core.errors import FetchError, ParseError, SourceAuthError
from monitor.core.model import Mention
from monitor.core.textutil import html_to_text
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, register

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapOptions(SourceOptions):
    host: str
    port: int = Field(993, ge=1, le=65535)
    user_env: str = "IMAP_USER"
    password_env: str = "IMAP_PASSWORD"
    mailbox: str = "INBOX"
    ca_file: str | None = None            # a private CA or self-signed server certificate to trust
    max_messages: int = Field(200, ge=1, le=5000)    # per poll; the rest comes next poll
    timeout: float = Field(30.0, gt=0, le=300)


@register
class ImapCollector(Collector):
    """Customer emails from an IMAPS mailbox (UID cursor, UIDVALIDITY checked, never marks mail read)."""

    kind = "imap"
    Options = ImapOptions
    example: ClassVar[dict[str, Any]] = {"host": "imap.example.com"}

    def secret_envs(self) -> list[str]:
        o: ImapOptions = self.options  # type: ignore[assignment]
        return [o.user_env, o.password_env]

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"host": target}

    def collect(self, state: SourceState) -> CollectResult:
        o: ImapOptions = self.options  # type: ignore[assignment]
        user, password = os.environ.get(o.user_env), os.environ.get(o.password_env)
        if not user or not password:
            raise SourceAuthError(f"set ${o.user_env} and ${o.password_env} for the mailbox", source_id=o.id)
        logs.add_secret(password)
        ctx = ssl.create_default_context(cafile=o.ca_file) if o.ca_file else ssl.create_default_context()
        try:
            conn = imaplib.IMAP4_SSL(o.host, o.port, ssl_context=ctx, timeout=o.timeout)
        except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
            raise FetchError(f"cannot connect to {o.host}:{o.port}: {type(exc).__name__}: {exc}"[:300],
                             source_id=o.id) from exc
        try:
            try:
                conn.login(user, password)
            except imaplib.IMAP4.error as exc:
                raise SourceAuthError(f"the IMAP server refused the login: {_text(exc)}", source_id=o.id) from exc
            return self._read(conn, o, dict(state.cursor or {}))
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise FetchError(f"IMAP connection failed: {type(exc).__name__}: {exc}"[:300], source_id=o.id) from exc
        finally:
            try:
                conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def _read(self, conn: imaplib.IMAP4, o: ImapOptions, cursor: dict[str, Any]) -> CollectResult:
        typ, data = conn.select(_quote(o.mailbox), readonly=True)
        if typ != "OK":
            raise ParseError(f"cannot open mailbox {o.mailbox!r}: {_text(data)}", source_id=o.id)
        validity = _uidvalidity(conn, o.mailbox)
        warnings: list[str] = []
        last = int(cursor.get("uid") or 0)
        if cursor.get("uidvalidity") not in (None, validity):
            warnings.append(f"mailbox {o.mailbox} UIDVALIDITY changed ({cursor.get('uidvalidity')} -> {validity}):"
                            " reading it again from the start; messages stored before are not stored twice")
            last = 0
        typ, data = conn.uid("SEARCH", f"UID {last + 1}:*")
        if typ != "OK":
            raise ParseError(f"UID SEARCH failed: {_text(data)}", source_id=o.id)
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last)   # n:* always holds the last one
        if len(uids) > o.max_messages:
            warnings.append(f"{len(uids)} new messages; {o.max_messages} read now, the rest next poll")
            uids = uids[: o.max_messages]
        mentions = []
        for uid in uids:
            typ, parts = conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
            if typ != "OK" or raw is None:
                warnings.append(f"message UID {uid} could not be fetched: {_text(parts)}"[:300])
                continue
            try:
                mentions.append(_mention(raw, o.id, validity, uid))
            except (ValueError, LookupError, TypeError) as exc:
                warnings.append(f"message UID {uid} skipped: {exc}"[:300])
            last = max(last, uid)
        return CollectResult(mentions=mentions, cursor={"uidvalidity": validity, "uid": last}, warnings=warnings)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uidvalidity(conn: imaplib.IMAP4, mailbox: str) -> int:
    """The UIDVALIDITY the server sent with SELECT/EXAMINE, or (if it did not) from STATUS."""
    _, data = conn.response("UIDVALIDITY")
    for item in data or []:
        value = item.decode() if isinstance(item, bytes) else str(item or "")
        if value.isdigit():
            return int(value)
    _, data = conn.status(_quote(mailbox), "(UIDVALIDITY)")
    m = _UIDVALIDITY.search(b" ".join(d for d in data or [] if isinstance(d, bytes)))
    return int(m.group(1)) if m else 0


def _text(value: Any) -> str:
    if isinstance(value, Exception):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:200]


def _mention(raw: bytes, source_id: str, validity: int, uid: int) -> Mention:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        content = body_part.get_content()
        text = html_to_text(content) if body_part.get_content_type() == "text/html" else str(content)
    name, address = (getaddresses([str(msg.get("From") or "")]) or [("", "")])[0]
    published = None
    if msg.get("Date"):
        try:
            published = parsedate_to_datetime(str(msg["Date"])).timestamp()
        except (TypeError, ValueError):
            published = None
    message_id = str(msg.get("Message-ID") or "").strip()
    subject = str(msg.get("Subject") or "") or None
    return Mention(source_id=source_id, source_kind="imap",
                   external_id=message_id or f"uid:{validity}:{uid}", text=text.strip() or (subject or ""),
                   title=subject, author=f"{name} <{address}>" if name and address else (address or name or None),
                   published=published, raw={"contact": address or None, "uid": uid, "uidvalidity": validity})
