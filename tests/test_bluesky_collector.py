"""The bluesky kind against a local app.bsky.feed.searchPosts: cursor paging, since, likes+reposts."""

from __future__ import annotations

import json
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


# --- sessions: createSession with a handle + app password, refreshSession, the account's PDS ---

@pytest.fixture
def pds(monkeypatch):
    from monitor.sources.auth import CACHE
    from tests.fakes.social import FakeBluesky, Skeet
    CACHE.clear()
    monkeypatch.setenv("BLUESKY_HANDLE", "acme.bsky.social")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop")
    with FakeBluesky(accounts={"acme.bsky.social": "abcd-efgh-ijkl-mnop"}, auth_required=True) as srv:
        srv.posts.append(Skeet("k1", "acme is down again"))
        yield srv
    CACHE.clear()


def test_session_is_created_once_and_search_goes_to_the_accounts_pds(pds):
    for _ in range(3):
        result = collect("bluesky", {"query": "acme", "pds_url": pds.url})
        assert [m.text for m in result.mentions] == ["acme is down again"]
    assert pds.sessions == ["create"]                       # createSession is rate-limited: never per poll
    search = [r for r in pds.requests if r.path.endswith("searchPosts")]
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in search)
    create = next(r for r in pds.requests if r.path.endswith("createSession"))
    assert json.loads(create.body) == {"identifier": "acme.bsky.social", "password": "abcd-efgh-ijkl-mnop"}


def test_access_token_near_expiry_is_refreshed_not_recreated(pds):
    pds.access_ttl = 30                                      # inside the renewal margin: refresh every poll
    collect("bluesky", {"query": "acme", "pds_url": pds.url})
    collect("bluesky", {"query": "acme", "pds_url": pds.url})
    assert pds.sessions == ["create", "refresh"]


def test_expired_token_answer_refreshes_and_retries_once(pds):
    collect("bluesky", {"query": "acme", "pds_url": pds.url})
    pds.revoke()
    result = collect("bluesky", {"query": "acme", "pds_url": pds.url})
    assert len(result.mentions) == 1 and pds.sessions == ["create", "refresh"]


def test_wrong_app_password_is_an_auth_error(pds, monkeypatch):
    from monitor.core.errors import SourceAuthError
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong-password")
    with pytest.raises(SourceAuthError, match="Invalid identifier or password"):
        collect("bluesky", {"query": "acme", "pds_url": pds.url})


def test_without_credentials_the_public_appview_403_is_reported_and_check_warns(pds, monkeypatch):
    from monitor.core.errors import FetchError
    from monitor.sources.kinds.bluesky import BlueskyCollector, BlueskyOptions
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    with pytest.raises(FetchError, match="HTTP 403"):
        collect("bluesky", {"query": "acme", "api_url": pds.url})
    problem = BlueskyCollector.credential_problem(BlueskyOptions(id="b", kind="bluesky", query="acme"), {})
    assert "$BLUESKY_HANDLE" in problem and "$BLUESKY_APP_PASSWORD" in problem
