"""The data that flows between stages: a Mention in, an Alert out.

Everything collected is untrusted: text is capped here, once, so no later stage has to remember to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 20_000       # characters kept of a mention's text; Slack shows far less, replay needs no more
MAX_FIELD = 500         # author, title-ish short fields
MAX_URL = 2_000


def cap(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class Mention:
    """One post, article, comment or review as a collector saw it."""

    source_id: str
    source_kind: str
    external_id: str
    text: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published: float | None = None        # epoch seconds, UTC
    language: str | None = None
    reach: int | None = None              # followers, upvotes, points: whatever the source measures
    rating: float | None = None           # 1..5 stars where the source has ratings
    raw: dict[str, Any] = field(default_factory=dict)
    id: int | None = None                 # rowid once stored

    def __post_init__(self) -> None:
        self.text = cap(self.text, MAX_TEXT) or ""
        self.title = cap(self.title, MAX_FIELD)
        self.author = cap(self.author, MAX_FIELD)
        self.url = cap(self.url, MAX_URL)
        self.external_id = (cap(self.external_id, MAX_URL) or "")
        if not self.external_id:
            basis = f"{self.url}\n{self.title}\n{self.text}".encode()
            self.external_id = "sha1:" + hashlib.sha1(basis).hexdigest()

    @property
    def full_text(self) -> str:
        """Title and body together: what brand matching and scoring read."""
        if self.title and self.title not in self.text:
            return f"{self.title}\n{self.text}" if self.text else self.title
        return self.text


@dataclass(frozen=True)
class Target:
    """Where a message goes: an owner's Slack destination, resolved from rules.yaml."""

    owner: str                 # owner name, or "inline" for an inline {slack: ...} notify
    slack: str                 # "#channel", "@U024BE7LH" or a channel id
    mention: str | None = None

    @property
    def channel(self) -> str:
        """What chat.postMessage takes: channel names without '#'... are ids; user ids open the DM."""
        s = self.slack.strip()
        if s.startswith("@"):
            return s[1:]
        return s
