"""Each poster against a local fake of its platform's write API, replying to a mention its own collector made."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from monitor.respond.posters import POSTERS, ReplyRefused, poster_for
from monitor.sources import REGISTRY
from monitor.store.database import dumps
from tests.fakes.harness import collect
from tests.fakes.social import FakeBluesky, FakeReddit, Post, Skeet
from tests.fakes.twitter import BEARER, FakeX, Tweet


def _row(m: Any) -> dict[str, Any]:
    return {"external_id": m.external_id, "raw": dumps(m.raw), "source_kind": m.source_kind, "url": m.url}


def _options(kind: str, **values: Any) -> Any:
    return REGISTRY[kind].Options.model_validate({"id": f"test-{kind}", "kind": kind, **values})


def test_every_collector_kind_with_write_access_has_one_poster():
    assert {k for k in POSTERS if k in REGISTRY} == {"mastodon", "mastodon-stream", "bluesky", "jetstream",
                                                     "reddit", "twitter"}
    assert poster_for("rss") is None and poster_for("inbound") is None


def test_x_reply_goes_through_tweepy_create_tweet_with_in_reply_to(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", "user-ctx-token")
    with FakeX() as x:
        x.user_token = "user-ctx-token"
        x.add(Tweet(11, "Acme support is down again"))
        [m] = collect("twitter", {"query": "acme", "api_url": x.url}).mentions
        poster = poster_for("twitter")(_options("twitter", query="acme", api_url=x.url), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "Sorry! We are on it.", "k1")
        assert x.created == [{"id": posted.external_id, "text": "Sorry! We are on it.", "in_reply_to": "11"}]
        assert posted.url == f"https://x.com/i/web/status/{posted.external_id}"
        with pytest.raises(ReplyRefused, match="duplicate content"):
            poster.post(_row(m), "Sorry! We are on it.", "k2")
        monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", "app-only")
        with pytest.raises(ReplyRefused, match="Application-Only is forbidden"):
            poster.post(_row(m), "Another", "k3")


def test_bluesky_reply_carries_root_and_parent_refs(monkeypatch: pytest.MonkeyPatch):
    with FakeBluesky() as bsky:
        bsky.posts.append(Skeet("3kabc", "Acme lost my parcel"))
        bsky.accounts["acme.bsky.social"] = "app-pass-1234"
        monkeypatch.setenv("BLUESKY_PDS_URL", bsky.url)
        monkeypatch.setenv("BLUESKY_HANDLE", "acme.bsky.social")
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
        [m] = collect("bluesky", {"query": "acme", "api_url": bsky.url, "pds_url": bsky.url}).mentions
        posted = poster_for("bluesky")(None, httpx.Client()).post(_row(m), "So sorry, DM us?", "k")  # type: ignore[misc]
        [rec] = bsky.records
        parent = {"uri": m.external_id, "cid": "bafy3kabc"}
        assert rec["record"]["reply"] == {"root": parent, "parent": parent}
        import jwt
        claims = jwt.decode(rec["auth"].removeprefix("Bearer "), FakeBluesky.SECRET, algorithms=["HS256"])
        assert rec["record"]["text"] == "So sorry, DM us?"
        assert claims["sub"] == "did:plc:acme" and claims["scope"] == "com.atproto.access"   # the session's token
        assert posted.url and posted.url.startswith("https://bsky.app/profile/acme.bsky.social/post/3k")
        root = {"uri": "at://did:plc:alice/app.bsky.feed.post/3kroot", "cid": "bafyroot"}   # the post is a reply
        threaded = {**_row(m), "raw": dumps({**m.raw, "reply_root": root})}
        poster_for("bluesky")(None, httpx.Client()).post(threaded, "Following up", "k2")  # type: ignore[misc]
        assert bsky.records[-1]["record"]["reply"] == {"root": root, "parent": parent}
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong")
        with pytest.raises(ReplyRefused, match="HTTP 401.*Invalid identifier or password"):
            poster_for("bluesky")(None, httpx.Client()).post(_row(m), "x", "k")  # type: ignore[misc]


def test_reddit_reply_is_a_comment_on_the_post(monkeypatch: pytest.MonkeyPatch):
    with FakeReddit() as reddit:
        reddit.posts.append(Post("abc", "Acme broke my order", "terrible"))
        reddit.oauth_token = "user-bearer"
        monkeypatch.setenv("REDDIT_OAUTH_URL", reddit.url)
        monkeypatch.setenv("REDDIT_ACCESS_TOKEN", "user-bearer")
        [m] = collect("reddit", {"query": "acme", "api_url": reddit.url}).mentions
        posted = poster_for("reddit")(None, httpx.Client()).post(_row(m), "Sorry, we'll fix it", "k")  # type: ignore[misc]
        assert reddit.comments == [{"thing_id": "t3_abc", "text": "Sorry, we'll fix it", "id": "c00001"}]
        assert posted.external_id == "t1_c00001" and posted.url == "https://www.reddit.com/r/test/comments/abc/x/c00001/"
        gone = {**_row(m), "external_id": "t3_zzz"}
        with pytest.raises(ReplyRefused, match="INVALID_PARENT"):
            poster_for("reddit")(None, httpx.Client()).post(gone, "x", "k")  # type: ignore[misc]
