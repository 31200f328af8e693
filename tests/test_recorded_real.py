"""Every kind against responses recorded from the real services by other projects (tests/data/recorded/).

The fakes in tests/fakes/ are written here from the API references; these recordings are what the services
really answered (origins and licences in tests/data/recorded/SOURCES.md). Regression tests for the bugs
found by replaying them are named after the bug.
"""

from __future__ import annotations

import pytest

from monitor.sources.auth import CACHE
from monitor.sources.base import SourceState
from tests.fakes.harness import collect
from tests.fakes.recorded import Replay, load, reply
from tests.fakes.twitter import BEARER


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    CACHE.clear()
    yield
    CACHE.clear()


def test_twitter_first_poll_reads_one_page_only_regression(monkeypatch):
    """Bug: the first poll followed `next_token` up to max_pages (5 paid reads) though the README promises one."""
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    rec = load("twitter_search_recent.json")
    assert rec["body"]["meta"]["next_token"]            # the real answer offers a next page
    with Replay({("GET", "/2/tweets/search/recent"): reply(rec)}) as x:
        first = collect("twitter", {"query": "tweepy", "api_url": x.url, "max_pages": 5})
        assert len(x.requests) == 1
        assert [m.external_id for m in first.mentions] == [t["id"] for t in rec["body"]["data"]]
        assert first.mentions[0].text == "2022-10-07 22:42:12.637103 tweepy"
        assert first.cursor == {"since_id": "1578516068309794817"} and not first.warnings
        later = collect("twitter", {"query": "tweepy", "api_url": x.url, "max_pages": 2},
                        SourceState(cursor=first.cursor))
        assert len(x.requests) == 3 and "since_id=1578516068309794817" in x.requests[1].query
        assert "next_token=" in x.requests[2].query and later.warnings     # more pages than allowed: said


def _page(feed_server, path, name):
    from tests.fakes.feeds import Feed
    from tests.fakes.recorded import text
    feed_server.feeds[path] = Feed(raw=text(name).encode(), content_type="text/html; charset=utf-8")
    return feed_server.feed_url(path)


def _analyzer(tmp_path, sources):
    from monitor.analyse.analyzer import Analyzer
    from monitor.analyse.routing import Router
    from monitor.config.rules import load_rules as _load_rules
    from monitor.config.settings import load_config
    from tests.conftest import write_config
    cfg, rules = write_config(tmp_path, sources=sources)
    config = load_config(cfg)
    return config, Analyzer(config, Router(_load_rules(rules)))


def test_reviews_rating_zero_is_no_rating_regression(feed_server, tmp_path):
    """Bug: a real recipe page marks its unrated review `ratingValue: "0"`; it became 1 star and negative."""
    url = _page(feed_server, "/chili", "reviews_fitmencook_rating_zero.html")
    (m,) = collect("reviews", {"url": url}).mentions
    assert m.rating is None and m.title == "Lean Chili with Plantains"
    assert m.external_id == "https://fitmencook.com/recipes/healthy-chili-recipe/#product-review"
    from monitor.analyse.sentiment import Scorer
    assert not Scorer().score(m.full_text, rating=m.rating).negative


def test_rating_only_reviews_are_about_the_source_brands_regression(feed_server, tmp_path):
    """Bug: reviews with a star rating and no text could never match a brand, so a page of 1-star reviews
    never alerted. A source with `brands:` now attributes text-less mentions to those brands."""
    url = _page(feed_server, "/salad", "reviews_eatsmarter_rating_only.html")
    result = collect("reviews", {"url": url})
    assert [(m.author, m.rating, m.text) for m in result.mentions] == [
        ("loula.b", 4.0, ""), ("LeoLou", 4.0, ""), ("FrauSchwarz", 5.0, ""), ("Cyndy from EAT SMARTER", 5.0, "")]
    config, analyzer = _analyzer(tmp_path, f"- {{id: salad, kind: reviews, url: '{url}', brands: [acme]}}\n")
    for m in result.mentions:
        a = analyzer.analyze(m, ["acme"])
        assert [v.brand for v in a.verdicts] == ["acme"] and not a.negative     # 4-5 stars: not a complaint
        assert analyzer.analyze(m).verdicts == []         # no source brands (replay of unknown source): no guess
    one_star = result.mentions[0]
    one_star.rating = 1.0
    a = analyzer.analyze(one_star, ["acme"])
    assert a.negative and a.verdicts[0].decision.hits                # the rating alone makes it negative


def test_reddit_oauth_token_and_search_recorded(monkeypatch):
    """PRAW's recording of the app-only token exchange and an oauth.reddit.com search."""
    monkeypatch.setenv("REDDIT_CLIENT_ID", "praw-client")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "praw-secret-value")
    rec = load("reddit_oauth_search.json")
    assert rec["token"]["request_body"] == "grant_type=client_credentials"
    with Replay({("POST", "/api/v1/access_token"): reply(rec["token"]),
                 ("GET", "/search"): reply(rec["search"])}) as srv:
        result = collect("reddit", {"query": "praw oauth search", "api_url": srv.url})
    by_id = {m.external_id: m for m in result.mentions}
    m = by_id["t3_3gpbiu"]
    assert m.title.startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert (m.author, m.reach, m.published) == ("u/dClauzel", 21, 1439370514.0)
    assert m.url.startswith("https://www.reddit.com/r/redditdev/comments/3gpbiu/")
    assert srv.requests[1].headers["authorization"] == "bearer <ACCESS_TOKEN>"    # the recorded token, used


def test_reddit_comment_listing_with_rate_headers_recorded(monkeypatch):
    """A 2023 recording with Reddit's x-ratelimit-* headers: comments (t1) parse, the budget is read."""
    monkeypatch.setenv("REDDIT_CLIENT_ID", "praw-client")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "praw-secret-value")
    rec = load("reddit_oauth_comments_ratelimit.json")
    token = {"status": 200, "body": {"access_token": "<ACCESS_TOKEN>", "token_type": "bearer",
                                     "expires_in": 86400, "scope": "*"}}
    with Replay({("POST", "/api/v1/access_token"): reply(token), ("GET", "/search"): reply(rec)}) as srv:
        quiet = collect("reddit", {"query": "bot", "api_url": srv.url})
        CACHE.clear()
        tight = collect("reddit", {"query": "bot", "api_url": srv.url, "min_remaining": 600})
    assert [m.external_id for m in quiet.mentions] == ["t1_k3yrfii", "t1_k3ynwqb"] and not quiet.warnings
    assert quiet.mentions[0].text == "Did it work?"
    assert "599 requests left" in tight.warnings[0] and "525s" in tight.warnings[0]


def test_bluesky_search_posts_recorded(monkeypatch):
    """The AppView's own searchPosts output (atproto's snapshot), served behind a session."""
    monkeypatch.setenv("BLUESKY_HANDLE", "alice.test")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-word")
    rec = load("bluesky_search_posts.json")
    session = {"status": 200, "body": {"accessJwt": "not-a-jwt", "refreshJwt": "not-a-jwt-either",
                                       "handle": "alice.test", "did": "did:plc:alice"}}
    with Replay({("POST", "/xrpc/com.atproto.server.createSession"): reply(session),
                 ("GET", "/xrpc/app.bsky.feed.searchPosts"): reply(rec)}) as srv:
        result = collect("bluesky", {"query": "doggo", "pds_url": srv.url})
    assert [(m.text, m.author, m.reach) for m in result.mentions] == [
        ("cute doggo", "@alice.test", 0), ("bad doggo", "@alice.test", 0)]
    assert srv.requests[1].headers["authorization"] == "Bearer not-a-jwt"
