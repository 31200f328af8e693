"""RSS, Atom and RDF feeds: news searches, blogs, Google Alerts, Reddit and Hacker News search feeds."""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import feedparser
from feedparser.mixin import _FeedParserMixin
from pydantic import field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.core.textutil import html_to_text
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    register,
    web_url,
)
from monitor.sources.fetch import fetch


class RssOptions(SourceOptions):
    url: str
    unwrap_links: bool = True        # Google News / Google Alerts redirect links -> the article's own URL

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


@register
class RssCollector(Collector):
    """RSS, Atom and RDF feeds: news searches, blogs, Google Alerts, Reddit and Hacker News search feeds."""

    kind = "rss"
    example: ClassVar[dict[str, Any]] = {"url": "https://news.google.com/rss/search?q=acme"}
    Options = RssOptions

    def collect(self, state: SourceState) -> CollectResult:
        opts: RssOptions = self.options  # type: ignore[assignment]
        resp = fetch(self.client, opts.url, self.http_config, etag=state.etag,
                     last_modified=state.last_modified, now=self.clock.now(), headers={"Accept": FEED_ACCEPT})
        if resp.not_modified:
            return CollectResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        mentions, warnings = parse_feed(resp.body, resp.headers, opts.id, self.kind, resp.url)
        if opts.unwrap_links:
            for m in mentions:
                if m.url:
                    m.url = unwrap_link(m.url)
        return CollectResult(mentions=mentions, warnings=warnings, etag=resp.headers.get("etag"),
                             last_modified=resp.headers.get("last-modified"))


_AUTHOR_SCAN_MAX = 1000
_sync_author_detail = _FeedParserMixin._sync_author_detail


def _capped_sync_author_detail(self: Any, key: str = "author") -> Any:
    """feedparser looks for an e-mail address in the author with a regex that is quadratic in its length: a
    64 KB author field took 24 s. Authors are capped at 500 characters anyway, so cap before the scan."""
    context = self._get_context()
    value = context.get(key)
    if isinstance(value, str) and len(value) > _AUTHOR_SCAN_MAX:
        context[key] = value[:_AUTHOR_SCAN_MAX]
    return _sync_author_detail(self, key)


_FeedParserMixin._sync_author_detail = _capped_sync_author_detail

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def parse_feed(body: bytes, headers: dict[str, str], source_id: str, kind: str,
               url: str) -> tuple[list[Mention], list[str]]:
    """Bytes in, mentions out. feedparser never gets a URL or a path: it would fetch or open it itself."""
    parsed = feedparser.parse(body, response_headers={**headers, "content-location": url},
                              sanitize_html=True, resolve_relative_uris=False)
    warnings: list[str] = []
    if parsed.bozo:
        reason = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"[:300]
        if not parsed.entries:
            raise ParseError(f"not a readable feed ({reason})", source_id=source_id)
        warnings.append(f"feed is malformed, kept {len(parsed.entries)} entries ({reason})")
    out: list[Mention] = []
    for entry in parsed.entries:
        try:
            out.append(_mention(entry, source_id, kind))
        except (KeyError, TypeError, ValueError) as exc:  # one bad entry never costs the others
            warnings.append(f"skipped an entry: {exc}"[:300])
    return out, warnings


def _mention(entry: Any, source_id: str, kind: str) -> Mention:
    body = ""
    if entry.get("content"):
        body = entry["content"][0].get("value", "")
    body = body or entry.get("summary", "")
    title = html_to_text(entry.get("title", ""))
    text = html_to_text(body)
    link = entry.get("link") or ""
    url = web_url(link)
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    publisher = (entry.get("source") or {}).get("title")          # Google News: <source url=...>Publisher</source>
    return Mention(
        source_id=source_id, source_kind=kind,
        external_id=entry.get("id") or link or "",
        title=title or None, text=text or title, url=url,
        author=html_to_text(entry.get("author") or publisher) or None,
        published=float(calendar.timegm(when)) if when else None,
        raw={"feed_id": entry.get("id"), "tags": [t.get("term") for t in entry.get("tags", [])][:20]},
    )


_GNEWS_PATH = re.compile(r"^/(?:rss/)?articles/([A-Za-z0-9_-]+)")
_URL_IN_BYTES = re.compile(rb"https?://[\x21-\x7e]+")


def unwrap_link(url: str) -> str:
    """The article's own URL behind a Google redirect link, when it can be recovered offline.

    Google Alerts links are `google.com/url?...&url=<article>`. Google News links are
    `news.google.com/rss/articles/<base64 protobuf>`: older ids embed the URL in clear; newer ones ("AU_yqL…")
    only resolve through Google itself, so those links are kept as they are.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in ("www.google.com", "google.com") and parts.path == "/url":
        target = (parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q") or [""])[0]
        return web_url(target) or url
    if host == "news.google.com":
        m = _GNEWS_PATH.match(parts.path)
        if not m:
            return url
        token = m.group(1)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return url
        found = _URL_IN_BYTES.search(raw)
        if found:
            return web_url(found.group(0).decode("ascii")) or url
    return url
