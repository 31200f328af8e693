"""Logging: one line per event, text for people or JSON for machines, and never a secret.

Secrets come from the environment; the redacting filter knows their values and scrubs them (and any
`Authorization:`/`Bearer` header, as tweepy's and urllib3's debug logs print them) from every record,
whatever logger emitted it and at whatever level.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_WEBHOOK_URL",
              "TWITTER_BEARER_TOKEN", "BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN", "REDDIT_CLIENT_SECRET")
_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|basic\s+|token\s+)?[^\s'\",}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9%._~+/=-]{8,}"),
    re.compile(r"(xox[abposr]-|xapp-)[A-Za-z0-9-]+"),
    re.compile(r"(https://hooks\.slack\.com/services/)[A-Za-z0-9/]+"),
]
_EXTRA_SECRETS: set[str] = set()
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def add_secret(value: str | None) -> None:
    """Scrub this value too (a credential read from a variable named in config, e.g. a source's token_env)."""
    if value and len(value) >= 6:
        _EXTRA_SECRETS.add(value)


def redact(text: str, secrets: list[str]) -> str:
    for s in sorted(_EXTRA_SECRETS - set(secrets), key=len, reverse=True):
        text = text.replace(s, "[REDACTED]")
    for s in secrets:
        text = text.replace(s, "[REDACTED]")
    for pat in _PATTERNS:
        text = pat.sub(lambda m: (m.group(1) or "") + "[REDACTED]", text)
    return text


class RedactingFilter(logging.Filter):
    def __init__(self, extra_env: tuple[str, ...] = ()):
        super().__init__()
        names = SECRET_ENV + extra_env
        self.secrets = sorted({v for n in names if (v := os.environ.get(n)) and len(v) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not kill logging
            msg = str(record.msg)
        record.msg = redact(msg, self.secrets)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STD and isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        return True


class TextFormatter(logging.Formatter):
    """`2026-11-24T10:00:00Z INFO polled source_id=news new=3`: greppable, one line per event."""

    def format(self, record: logging.LogRecord) -> str:
        when = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        extras = " ".join(f"{k}={_fmt(v)}" for k, v in record.__dict__.items() if k not in _STD)
        line = f"{when}Z {record.levelname} {record.getMessage()}" + (f" {extras}" if extras else "")
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return line.replace("\n", " ")


def _fmt(v: Any) -> str:
    s = str(v)
    return f'"{s}"' if " " in s else s


def setup(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level"}))
    else:
        formatter = TextFormatter()
        formatter.converter = __import__("time").gmtime
        handler.setFormatter(formatter)
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
