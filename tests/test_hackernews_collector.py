"""The hackernews kind against a local Algolia search_by_date: stories, comments, points, cursor, paging."""

from __future__ import annotations

import time

import pytest

from monitor.core.errors import ParseError, RateLimited
from monitor.sources import SourceState
from tests.fakes.harness import collect
from tests.fakes.server import Reply
from tests.fakes.social import FakeAlgolia, Hit


@pytest.fixture
def algolia():
    with FakeAlgolia() as srv:
        yield srv


def _collect(srv, state=None, **opts):
    return collect("hackernews", {"query": "acme", "api_url": srv.url, **opts}, state)


def test_stories_and_comments_with_points_as_reach(algolia):
    now = int(time.time())
    algolia.hits += [Hit(1, "Acme raises prices", created=now - 60, points=120, url="https://acme.example/p"),
                     Hit(2, "Acme support ignored me", created=now - 30, comment=True, points=None),
                     Hit(3, "unrelated", created=now)]
    result = _collect(algolia)
    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {"1", "2"}
    story, comment = by_id["1"], by_id["2"]
    assert (story.title, story.reach, story.url, story.author) == (
        "Acme raises prices", 120, "https://acme.example/p", "pg")
    assert comment.text == "Acme support ignored me" and comment.title == "Comment on: Show HN: Acme"
    assert comment.url == "https://news.ycombinator.com/item?id=2" and comment.reach is None
    assert result.cursor == {"since": now - 30}
    assert "tags=%28story%2Ccomment%29" in algolia.requests[0].query


def test_cursor_asks_only_for_newer_items_and_pages(algolia):
    now = int(time.time())
    algolia.hits += [Hit(i, f"acme {i}", created=now - 10_000 + i) for i in range(5)]
    first = _collect(algolia, page_size=2)
    assert len(first.mentions) == 2                     # first poll: the latest page only
    algolia.hits += [Hit(100 + i, f"acme new {i}", created=now + i) for i in range(5)]
    second = _collect(algolia, SourceState(cursor=first.cursor), page_size=2)
    assert {m.external_id for m in second.mentions} >= {f"{100 + i}" for i in range(5)}
    # asks again for the last 10 minutes before the cursor (Algolia's indexing lag); duplicates die on store
    assert f"numericFilters=created_at_i%3E%3D{now - 9996 - 600}" in algolia.requests[-1].query
    assert second.cursor == {"since": now + 4}


def test_non_json_is_a_parse_error(algolia):
    algolia.faults.append(Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}))
    with pytest.raises(ParseError, match="not valid JSON"):
        _collect(algolia)


def test_429_is_rate_limited(algolia):
    algolia.faults.append(Reply(429, b'{"message":"Too many requests"}', {"Retry-After": "60"}))
    with pytest.raises(RateLimited) as exc:
        _collect(algolia)
    assert exc.value.retry_at and exc.value.retry_at > time.time() + 50
