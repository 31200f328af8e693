"""The reddit kind against a local Reddit search: JSON listings (score + comments as reach) and RSS."""

from __future__ import annotations

import pytest

from monitor.core.errors import ParseError, RateLimited
from tests.fakes.harness import collect
from tests.fakes.server import Reply
from tests.fakes.social import FakeReddit, Post


@pytest.fixture
def reddit():
    with FakeReddit() as srv:
        srv.posts += [Post("abc", "Acme ate my order", "Refund denied, awful", score=40, comments=12,
                           subreddit="mildlyinfuriating", created=1_763_000_000),
                      Post("def", "Acme in r/test", subreddit="test"), Post("zzz", "something else")]
        yield srv


def test_json_search_with_reach(reddit):
    result = collect("reddit", {"query": "acme", "api_url": reddit.url})
    by_id = {m.external_id: m for m in result.mentions}
    m = by_id["t3_abc"]
    assert (m.title, m.text, m.reach, m.author, m.published) == (
        "Acme ate my order", "Refund denied, awful", 52, "u/someone", 1_763_000_000.0)
    assert m.url == "https://www.reddit.com/r/mildlyinfuriating/comments/abc/x/"
    assert set(by_id) == {"t3_abc", "t3_def"}
    assert "sort=new" in reddit.requests[0].query and "raw_json=1" in reddit.requests[0].query


def test_subreddit_restricts_the_search(reddit):
    result = collect("reddit", {"query": "acme", "subreddit": "r/test", "api_url": reddit.url})
    assert [m.external_id for m in result.mentions] == ["t3_def"]
    assert reddit.requests[0].path == "/r/test/search.json" and "restrict_sr=1" in reddit.requests[0].query


def test_rss_format(reddit):
    result = collect("reddit", {"query": "acme", "format": "rss", "api_url": reddit.url})
    assert {m.external_id for m in result.mentions} == {"t3_abc", "t3_def"}
    assert all(m.url.startswith("https://www.reddit.com/r/") for m in result.mentions)


def test_bad_subreddit_is_a_config_error():
    with pytest.raises(ValueError, match="not a subreddit"):
        collect("reddit", {"query": "acme", "subreddit": "no spaces allowed"})


def test_html_block_page_is_a_parse_error(reddit):
    reddit.faults.append(Reply(200, b"<html>blocked</html>", {"Content-Type": "text/html"}))
    with pytest.raises(ParseError):
        collect("reddit", {"query": "acme", "api_url": reddit.url})


def test_429_uses_reddit_reset_header(reddit):
    reddit.faults.append(Reply(429, b"{}", {"x-ratelimit-reset": "120"}))
    with pytest.raises(RateLimited) as exc:
        collect("reddit", {"query": "acme", "api_url": reddit.url})
    assert exc.value.retry_at is not None
