"""Logging: one line per event, text for people or JSON for machines, and never a secret.

Secrets come from the environment; the redacting filter knows their values and scrubs them (and any
`Authorization:`/`Bearer` header, as tweepy's and urllib3's debug logs print them) from every record,
whatever logger emitted it and at whatever level. URLs lose their userinfo and signed/token parameters, and
control characters from remote text become visible escapes (`monitor.core.scrub`), so a server can neither
leak a credential into a log nor clear the screen or forge a log line.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from monitor.core.scrub import inert, scrub_urls

SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_WEBHOOK_URL",
              "TWITTER_BEARER_TOKEN", "BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN", "REDDIT_CLIENT_SECRET")
# Any other variable named like a secret is treated as one too (a custom `slack.token_env`, a credential).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|WEBHOOK|SERVICE_ACCOUNT")
_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|basic\s+|token\s+|oauth\s+)?[^\s'\",}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9%._~+/=-]{8,}"),
    re.compile(r"(xox[abposre]-|xapp-)[A-Za-z0-9-]+"),
    re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+"),
    re.compile(r"(?i)([?&;](?:access_token|token|api_key|apikey|key|secret|client_secret|password|sig)=)[^&\s'\"#]+"),
    re.compile(r"(?i)(oauth_signature=\"?)[^\s\",&]+"),
    # a signature header said back (`X-Monitor-Signature: sha256=…`): a replayable request's proof
    re.compile(r"(?i)(signature['\"]?\s*[:=]\s*['\"]?)(sha(?:1|256)=)?[0-9a-z+/=_-]{16,}"),
]
_SECRET_KEY = re.compile(r"(?i)^(proxy-)?authorization$|token|secret|password|passwd|cookie|api[_-]?key|signature")
_EXTRA_SECRETS: set[str] = set()
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def secret_values(environ: Any = None) -> list[str]:
    """The values to scrub: every known secret variable and every variable named like one (longest first)."""
    env = os.environ if environ is None else environ
    names = set(SECRET_ENV) | {n for n in env if _SECRET_NAME.search(n.upper())}
    return sorted({v for n in names if (v := env.get(n)) and len(v) >= 6}, key=len, reverse=True)


def add_secret(value: str | None) -> None:
    """Scrub this value too (a credential read from a variable named in config, e.g. a source's token_env)."""
    if value and len(value) >= 6:
        _EXTRA_SECRETS.add(value)


def redact(text: str, secrets: list[str], keep_newlines: bool = False) -> str:
    for s in sorted(_EXTRA_SECRETS - set(secrets), key=len, reverse=True):
        text = text.replace(s, "[REDACTED]")
    for s in secrets:
        text = text.replace(s, "[REDACTED]")
    for pat in _PATTERNS:
        text = pat.sub(lambda m: (m.group(1) or "") + "[REDACTED]", text)
    return inert(scrub_urls(text), keep_newlines)


def scrubbed(text: str, limit: int | None = None) -> str:
    """`text` as a log line would say it, for the places a handler's filter does not reach: a row's
    `last_error`, an alert's thread, a command's output. Every known secret value (the environment's, and those
    read through `add_secret`), `Authorization`/bearer values, URL credentials, control characters. `limit`
    cuts after scrubbing: cut first, a token straddling the cut would show its first half (no longer the value
    `redact` looks for)."""
    if limit is not None:
        text = text[:limit * 20]        # a megabyte of error page is not scrubbed whole to show 200 characters
    said = redact(text, secret_values())
    return said if limit is None else said[:limit]


def _redact_value(value: Any, secrets: list[str], depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if depth > 4 or isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: "[REDACTED]" if isinstance(k, str) and _SECRET_KEY.search(k) and v
                else _redact_value(v, secrets, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact_value(v, secrets, depth + 1) for v in value]
    return redact(str(value), secrets)      # objects whose repr might carry a header or a token


class RedactingFilter(logging.Filter):
    """Scrubs the message, every extra field, the traceback and the stack of each record, whoever logged it.

    The traceback is formatted here, redacted, and left as `exc_text` (with `exc_info` cleared): formatters
    would otherwise format the raw exception after the filter ran, and exception messages do carry URLs
    and headers.
    """

    def __init__(self, extra_env: tuple[str, ...] = ()):
        super().__init__()
        self.secrets = secret_values()
        extra = [v for n in extra_env if (v := os.environ.get(n)) and len(v) >= 6]
        self.secrets = sorted(set(self.secrets) | set(extra), key=len, reverse=True)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not kill logging
            msg = str(record.msg)
        record.msg = redact(msg, self.secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets, keep_newlines=True)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets, keep_newlines=True)
        for key, value in list(record.__dict__.items()):
            if key not in _STD:
                setattr(record, key, _redact_value(value, self.secrets))
        return True


class TextFormatter(logging.Formatter):
    """`2026-11-24T10:00:00Z INFO polled source_id=news new=3`: greppable, one line per event."""

    def format(self, record: logging.LogRecord) -> str:
        when = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        extras = " ".join(f"{k}={_fmt(v)}" for k, v in record.__dict__.items() if k not in _STD)
        origin = "" if record.name == "monitor" or record.name.startswith("monitor.") else f"{record.name}: "
        line = f"{when}Z {record.levelname} {origin}{record.getMessage()}" + (f" {extras}" if extras else "")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += " | " + record.exc_text.replace("\n", " | ")
        if record.stack_info:
            line += " | " + record.stack_info.replace("\n", " | ")
        return line.replace("\n", " ")


def _fmt(v: Any) -> str:
    s = str(v)
    return f'"{s}"' if " " in s else s


_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JournalPrefix(logging.Formatter):
    """`<3>` before an error line: journald reads it as the priority (SyslogLevelPrefix=, on by default), so
    `journalctl -p err -u mention-monitor` shows errors, and strips it from the stored message."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prio = _SYSLOG_PRIORITY.get(record.levelno, 3 if record.levelno > logging.WARNING else 6)
        return "\n".join(f"<{prio}>{line}" for line in self.inner.format(record).splitlines() or [""])


def to_journal(stream: Any, environ: Any = None) -> bool:
    """True when `stream` is the journal: systemd sets $JOURNAL_STREAM to its device:inode (sd_journal_stream_fd
    docs say to compare both, since a child may have redirected stderr elsewhere)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in value.split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError, io.UnsupportedOperation):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def setup(level: str = "INFO", fmt: str = "text", stream: Any = None, *, one_shot: bool = False) -> None:
    """The root handler (redacted, one line per event). `one_shot` (every command but the daemon): the database
    drivers' loggers (psycopg, psycopg.pool) print nothing unless --log-level DEBUG; the command's own one-line
    error says what went wrong. The daemon keeps their warnings (a pool reconnecting), never their INFO."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        json_formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"},
                                       datefmt="%Y-%m-%dT%H:%M:%SZ")
        json_formatter.converter = __import__("time").gmtime
        handler.setFormatter(json_formatter)
    else:
        formatter = TextFormatter()
        formatter.converter = __import__("time").gmtime
        handler.setFormatter(formatter)
    if to_journal(handler.stream):
        handler.setFormatter(JournalPrefix(handler.formatter or logging.Formatter()))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that print credentials at DEBUG: keep them quiet unless explicitly asked, and redacted anyway.
    for noisy in ("tweepy", "urllib3", "httpx", "httpcore", "slack_sdk", "apscheduler"):
        # httpx logs every request at INFO: a line per fetch drowns ours ("polled ..." says it all)
        quiet = logging.WARNING if noisy in ("apscheduler", "httpx") else logging.INFO
        logging.getLogger(noisy).setLevel(max(quiet, root.level))
    drivers = logging.DEBUG if root.level <= logging.DEBUG else logging.CRITICAL if one_shot else logging.WARNING
    logging.getLogger("psycopg").setLevel(max(drivers, root.level))      # psycopg.pool inherits it
