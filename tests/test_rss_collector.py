"""The rss kind against a local feed server: parsing, conditional GET, caps and malformed feeds."""

from __future__ import annotations

import gzip

import pytest

from monitor.core.clock import SystemClock
from monitor.core.errors import BodyTooLarge, FetchError, ParseError, RateLimited
from monitor.sources import REGISTRY, SourceState
from monitor.sources.fetch import HttpConfig, make_client
from tests.fakes.feeds import Feed, Item
from tests.fakes.server import Reply
from tests.timing import Stopwatch

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><id>urn:blog</id><updated>2026-11-20T10:00:00Z</updated>
<entry><id>urn:e1</id><title type="html">Acme &lt;b&gt;broke&lt;/b&gt; again</title>
<link href="https://blog.example/e1"/><updated>2026-11-20T10:00:00Z</updated><author><name>Bob</name></author>
<content type="html">&lt;p&gt;My Acme router &lt;script&gt;alert(1)&lt;/script&gt;stopped working.&lt;/p&gt;</content></entry>
</feed>"""


def _collect(url: str, state: SourceState | None = None, **http):
    cfg = HttpConfig(allow_private=True, **http)
    cls = REGISTRY["rss"]
    opts = cls.Options.model_validate({"id": "feed", "kind": "rss", "url": url})
    with make_client(cfg) as client:
        return cls(opts, client, SystemClock(), cfg).collect(state or SourceState())


def test_rss_items_become_mentions(feed_server):
    feed_server.feeds["/f"] = Feed([Item("g1", "Acme outage", "<p>Down <b>again</b></p>", "https://x.example/1",
                                         "alice@example.com (Alice)", 1_763_000_000)])
    result = _collect(feed_server.feed_url("/f"))
    (m,) = result.mentions
    assert (m.external_id, m.title, m.text, m.url, m.published) == (
        "g1", "Acme outage", "Down again", "https://x.example/1", 1_763_000_000.0)
    assert result.etag and result.last_modified


def test_atom_html_is_reduced_to_text(feed_server):
    feed_server.feeds["/a"] = Feed(raw=ATOM, content_type="application/atom+xml")
    (m,) = _collect(feed_server.feed_url("/a")).mentions
    assert m.title == "Acme broke again" and m.text == "My Acme router stopped working."
    assert m.author == "Bob" and m.url == "https://blog.example/e1"


def test_conditional_get_304_costs_no_parse(feed_server):
    feed_server.feeds["/f"] = Feed([Item("g1", "Acme")])
    first = _collect(feed_server.feed_url("/f"))
    second = _collect(feed_server.feed_url("/f"), SourceState(etag=first.etag, last_modified=first.last_modified))
    assert second.not_modified and second.mentions == []
    assert feed_server.not_modified["/f"] == 1


def test_malformed_feed_keeps_what_parses(feed_server):
    body = b"<rss version='2.0'><channel><item><guid isPermaLink='false'>a</guid><title>Acme ok</title></item><item><title>trunc"
    feed_server.feeds["/bad"] = Feed(raw=body)
    result = _collect(feed_server.feed_url("/bad"))
    assert [m.external_id for m in result.mentions][:1] == ["a"]
    assert result.warnings and "malformed" in result.warnings[0]


def test_garbage_is_a_parse_error(feed_server):
    feed_server.feeds["/junk"] = Feed(raw=b"\x00\xff\xfe garbage that is no feed", content_type="text/plain")
    with pytest.raises(ParseError):
        _collect(feed_server.feed_url("/junk"))


def test_gzip_bomb_stops_near_the_cap(feed_server):
    bomb = gzip.compress(b"A" * (50 * 1024 * 1024))
    feed_server.feeds["/bomb"] = Feed(reply=Reply(200, bomb, {"Content-Encoding": "gzip",
                                                              "Content-Type": "application/rss+xml"}))
    with pytest.raises(BodyTooLarge):
        _collect(feed_server.feed_url("/bomb"), max_bytes=1024 * 1024)


def test_429_with_retry_after(feed_server):
    feed_server.feeds["/busy"] = Feed(reply=Reply(429, b"slow down", {"Retry-After": "120"}))
    with pytest.raises(RateLimited) as exc:
        _collect(feed_server.feed_url("/busy"))
    assert exc.value.retry_at is not None


def test_500_is_a_fetch_error(feed_server):
    feed_server.feeds["/err"] = Feed(reply=Reply(500, b"oops"))
    with pytest.raises(FetchError, match="HTTP 500"):
        _collect(feed_server.feed_url("/err"))


def test_trickling_server_is_cut_at_the_deadline(feed_server):
    feed_server.feeds["/slow"] = Feed(reply=Reply(200, chunks=[b"<rss>"] * 50, chunk_delay=0.1,
                                                  headers={"Content-Type": "application/rss+xml"}))
    with pytest.raises(FetchError, match="deadline"):
        _collect(feed_server.feed_url("/slow"), deadline=1.0, read_timeout=0.5)


GNEWS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>"acme" - Google News</title><link>https://news.google.com/search?q=acme</link>
<item><title>Acme recalls routers - Example Times</title>
<link>https://news.google.com/rss/articles/CBMiKGh0dHBzOi8vd3d3LmV4YW1wbGUuY29tL25ld3MvYWNtZS1vdXRhZ2XSAQA?oc=5</link>
<guid isPermaLink="false">CBMiKGh0dHBzOi8vd3d3LmV4YW1wbGUuY29tL25ld3MvYWNtZS1vdXRhZ2XSAQA</guid>
<pubDate>Thu, 20 Nov 2026 10:00:00 GMT</pubDate><description>Acme recalls routers</description>
<source url="https://www.example.com">Example Times</source></item>
<item><title>Opaque new-style id</title><link>https://news.google.com/rss/articles/CBMiAU_yqLOabcdef?oc=5</link>
<guid isPermaLink="false">opaque</guid></item>
</channel></rss>"""

ALERTS = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">
<id>tag:google.com,2005:reader/user/0123/state/com.google/alerts/456</id><title>Google Alert - acme</title>
<entry><id>tag:google.com,2013:googlealerts/feed:789</id><title type="html">&lt;b&gt;Acme&lt;/b&gt; data breach</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://blog.example/acme-breach%3Fref%3D1&amp;ct=ga&amp;cd=CAIyGg&amp;usg=AOv"/>
<published>2026-11-20T10:00:00Z</published><updated>2026-11-20T10:00:00Z</updated>
<content type="html">Customers say &lt;b&gt;Acme&lt;/b&gt; leaked data</content></entry></feed>"""


def test_google_news_links_are_unwrapped_when_recoverable(feed_server):
    feed_server.feeds["/gn"] = Feed(raw=GNEWS)
    first, opaque = _collect(feed_server.feed_url("/gn")).mentions
    assert first.url == "https://www.example.com/news/acme-outage"
    assert first.author == "Example Times"                       # the publisher, from <source>
    assert opaque.url.startswith("https://news.google.com/rss/articles/CBMiAU_yqL")   # kept as is


def test_google_alerts_links_are_unwrapped(feed_server):
    feed_server.feeds["/ga"] = Feed(raw=ALERTS, content_type="application/atom+xml")
    (m,) = _collect(feed_server.feed_url("/ga")).mentions
    assert m.url == "https://blog.example/acme-breach?ref=1" and m.title == "Acme data breach"


def test_entity_bomb_does_not_expand(feed_server):
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
            '<rss version="2.0"><channel><title>x</title><item><title>&lol9;</title><guid>b1</guid></item>'
            '</channel></rss>').encode()
    feed_server.feeds["/lol"] = Feed(raw=bomb)
    with Stopwatch() as sw:
        try:
            result = _collect(feed_server.feed_url("/lol"))
        except ParseError:
            result = None
    sw.assert_within(0.0, 10.0, "the entity bomb")   # not expanded: 10 s on an idle machine, scaled by load
    if result is not None:
        assert all(len(m.full_text) < 100_000 for m in result.mentions)


def test_huge_author_field_is_capped(feed_server):
    feed_server.feeds["/big"] = Feed([Item("g1", "Acme", author="A" * 65536)])
    (m,) = _collect(feed_server.feed_url("/big")).mentions
    assert len(m.author) <= 500
