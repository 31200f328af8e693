"""The bluesky kind against a local app.bsky.feed.searchPosts: cursor paging, since, likes+reposts."""

from __future__ import annotations

import time

import pytest

from monitor.core.errors import FetchError
from monitor.sources import SourceState
from tests.fakes.harness import collect
from tests.fakes.social import FakeBluesky, Skeet


@pytest.fixture
def bsky():
    with FakeBluesky() as srv:
        yield srv


def test_posts_with_reach_and_link(bsky):
    bsky.posts.append(Skeet("3kabc", "Acme lost my parcel", likes=10, reposts=5, created=1_763_000_000))
    result = collect("bluesky", {"query": "acme", "api_url": bsky.url})
    (m,) = result.mentions
    assert (m.reach, m.author, m.language, m.published) == (15, "@bob.bsky.social", "en", 1_763_000_000.0)
    assert m.url == "https://bsky.app/profile/bob.bsky.social/post/3kabc"
    assert m.external_id == "at://did:plc:bob/app.bsky.feed.post/3kabc"
    assert result.cursor == {"since": 1_763_000_000.0}
    assert "sort=latest" in bsky.requests[0].query


def test_cursor_pages_through_new_posts(bsky):
    now = time.time()
    bsky.posts += [Skeet(f"old{i}", f"acme {i}", created=now - 3600 - i) for i in range(3)]
    first = collect("bluesky", {"query": "acme", "api_url": bsky.url, "page_size": 2})
    assert len(first.mentions) == 2
    bsky.posts += [Skeet(f"new{i}", f"acme new {i}", created=now + i) for i in range(5)]
    second = collect("bluesky", {"query": "acme", "api_url": bsky.url, "page_size": 2},
                     SourceState(cursor=first.cursor))
    assert {m.external_id.rsplit("/", 1)[1] for m in second.mentions} >= {f"new{i}" for i in range(5)}
    assert any("cursor=2" in r.query for r in bsky.requests) and "since=" in bsky.requests[-1].query


def test_xrpc_error_is_reported(bsky):
    with pytest.raises(FetchError, match="501"):
        collect("bluesky", {"query": "acme", "api_url": bsky.url + "/nope"})
