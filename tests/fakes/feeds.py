"""A local feed server: serves RSS/Atom documents with real ETag/Last-Modified/304 behaviour."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from xml.sax.saxutils import escape

from .server import LocalServer, Reply, Request


@dataclass
class Item:
    guid: str
    title: str
    description: str = ""
    link: str | None = None
    author: str | None = None
    published: float | None = None


@dataclass
class Feed:
    items: list[Item] = field(default_factory=list)
    title: str = "Test feed"
    content_type: str = "application/rss+xml; charset=utf-8"
    raw: bytes | None = None          # serve these exact bytes instead of rendering items
    conditional: bool = True          # answer 304 to a matching If-None-Match / If-Modified-Since
    reply: Reply | None = None        # override everything (faults: 500, 429, delays, trickles)
    modified_at: float = 1_700_000_000.0


def render_rss(feed: Feed) -> bytes:
    parts = [f"<?xml version='1.0' encoding='utf-8'?>\n<rss version='2.0'><channel><title>{escape(feed.title)}</title>"
             "<link>http://127.0.0.1/</link><description>test</description>"]
    for it in feed.items:
        parts.append("<item>")
        parts.append(f"<guid isPermaLink='false'>{escape(it.guid)}</guid><title>{escape(it.title)}</title>")
        if it.link:
            parts.append(f"<link>{escape(it.link)}</link>")
        if it.description:
            parts.append(f"<description>{escape(it.description)}</description>")
        if it.author:
            parts.append(f"<author>{escape(it.author)}</author>")
        if it.published:
            parts.append(f"<pubDate>{formatdate(it.published, usegmt=True)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class FeedServer(LocalServer):
    """`srv.feeds["/news.xml"] = Feed([...])`; counts full responses and 304s per path."""

    def __init__(self) -> None:
        super().__init__(self._serve)
        self.feeds: dict[str, Feed] = {}
        self.hits: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        self._lock = threading.Lock()

    def feed_url(self, path: str) -> str:
        return self.url + path

    def _serve(self, req: Request) -> Reply:
        feed = self.feeds.get(req.path)
        with self._lock:
            self.hits[req.path] = self.hits.get(req.path, 0) + 1
        if feed is None:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        if feed.reply is not None:
            return feed.reply
        body = feed.raw if feed.raw is not None else render_rss(feed)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        last_mod = formatdate(feed.modified_at, usegmt=True)
        headers = {"Content-Type": feed.content_type, "ETag": etag, "Last-Modified": last_mod}
        if feed.conditional and (req.headers.get("if-none-match") == etag
                                 or (req.headers.get("if-modified-since") == last_mod
                                     and "if-none-match" not in req.headers)):
            with self._lock:
                self.not_modified[req.path] = self.not_modified.get(req.path, 0) + 1
            return Reply(304, b"", {"ETag": etag, "Last-Modified": last_mod})
        return Reply(200, body, headers)
