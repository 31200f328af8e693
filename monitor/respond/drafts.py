"""Reply drafts from `replies:` templates, and the per-platform length limits a reply must fit.

The most specific template wins (one whose `issue`, `brand` and `language` all match beats one that only
matches the brand); ties go to the first in the file. A reply that is too long is refused with its length
and the limit, never cut: a reply cut mid-sentence in public is worse than one sent a minute later.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from monitor.config.rules import ReplyTemplate, Rules
from monitor.core.errors import MonitorError

# Characters a reply may have, per platform (their documented limits; Bluesky counts graphemes).
LIMITS: dict[str, int] = {
    "mastodon": 500, "mastodon-stream": 500, "bluesky": 300, "jetstream": 300, "twitter": 280, "reddit": 10_000,
    "youtube": 10_000, "googleplay": 350, "appstoreconnect": 5_970, "googlebusiness": 4_096, "trustpilot": 2_048,
    "facebook": 8_000, "threads": 500}
DEFAULT_LIMIT = 2_000
FALLBACK = "Hi {first_name}, thank you for telling us. We are sorry about this and are looking into it now."


class TooLong(MonitorError):
    """A reply longer than the platform allows: the person replying shortens it."""

    def __init__(self, length: int, limit: int, platform: str):
        self.length, self.limit, self.platform = length, limit, platform
        super().__init__(f"the reply is {length} characters; {platform} allows at most {limit}: shorten it")


def limit_for(platform: str) -> int:
    return LIMITS.get(platform, DEFAULT_LIMIT)


def length(text: str, platform: str) -> int:
    """Characters as the platform counts them (graphemes on Bluesky, approximated by combining marks)."""
    if platform in ("bluesky", "jetstream"):
        return sum(1 for c in unicodedata.normalize("NFC", text) if not unicodedata.combining(c))
    return len(text)


def fit(text: str, platform: str) -> str:
    """The text to send: stripped, and refused (TooLong) rather than cut when over the platform's limit."""
    text = text.strip()
    if not text:
        raise MonitorError("the reply is empty")
    n, limit = length(text, platform), limit_for(platform)
    if n > limit:
        raise TooLong(n, limit, platform)
    return text


@dataclass(frozen=True)
class Context:
    """What a template may say: the placeholders, from the alert and its first mention."""

    author: str
    first_name: str
    brand: str
    issue: str
    alert_id: int
    url: str
    source: str
    language: str | None

    def values(self) -> dict[str, Any]:
        return {"author": self.author, "first_name": self.first_name, "brand": self.brand, "issue": self.issue,
                "alert_id": self.alert_id, "url": self.url, "source": self.source}


def context(alert: dict[str, Any], mention: dict[str, Any]) -> Context:
    author = str(mention.get("author") or "").strip()
    return Context(author=author or "there", first_name=first_name(author), brand=str(alert.get("brand") or ""),
                   issue=str(alert.get("issue") or mention.get("issue") or ""), alert_id=int(alert["id"]),
                   url=str(mention.get("url") or ""), source=str(mention.get("source_kind") or ""),
                   language=mention.get("language"))


def first_name(author: str) -> str:
    """"Jane Doe <jane@x>" -> Jane, "@jane@example.social" -> jane, "" -> there."""
    name = re.sub(r"<[^>]*>", "", author).strip().lstrip("@")
    name = re.split(r"[\s@]", name, maxsplit=1)[0] if name else ""
    return name or "there"


def _matches(value: str | list[str] | None, actual: str | None) -> int | None:
    """1 when the key is set and matches, 0 when unset, None when set and not matching."""
    if value is None:
        return 0
    wanted = [value] if isinstance(value, str) else value
    return 1 if actual is not None and actual.lower() in {w.lower() for w in wanted} else None


def choose(templates: tuple[ReplyTemplate, ...] | list[ReplyTemplate], ctx: Context) -> ReplyTemplate | None:
    best: tuple[int, int] | None = None
    chosen = None
    for i, t in enumerate(templates):
        scores = [_matches(t.issue, ctx.issue or None), _matches(t.brand, ctx.brand or None),
                  _matches(t.language, ctx.language)]
        if any(s is None for s in scores):
            continue
        key = (sum(s or 0 for s in scores), -i)
        if best is None or key > best:
            best, chosen = key, t
    return chosen


def render(text: str, ctx: Context) -> str:
    return text.format_map(ctx.values())


def draft_for(rules: Rules, alert: dict[str, Any], mention: dict[str, Any]) -> str:
    ctx = context(alert, mention)
    t = choose(rules.replies, ctx)
    return render(t.text if t else FALLBACK, ctx)
