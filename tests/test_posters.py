"""Each poster against a local fake of its platform's write API, replying to a mention its own collector made."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from monitor.respond.drafts import TooLong, fit, limit_for
from monitor.respond.posters import POSTERS, Posted, ReplyRefused, ReplyTransient, poster_for
from monitor.sources import REGISTRY
from monitor.sources.auth import CACHE
from monitor.store.database import dumps
from tests.fakes.brands import AscReview, FakeAppStoreConnect, FakeGraph, FakeTrustpilot, GraphItem, TpReview
from tests.fakes.google import (
    PLAY_SCOPE,
    YT_SCOPE,
    Comment,
    FakeGoogle,
    PlaceReview,
    PlayReview,
    service_account_key,
)
from tests.fakes.harness import collect
from tests.fakes.social import FakeBluesky, FakeReddit, Post, Skeet
from tests.fakes.twitter import BEARER, FakeX, Tweet


@pytest.fixture(autouse=True)
def _fresh_tokens():
    CACHE.clear()
    yield
    CACHE.clear()


def _too_long_is_refused_before_sending(kind: str) -> str:
    """The drafts layer refuses a reply one character over the platform's limit (never cuts it); returns
    that text so a test can show the platform itself refuses it too."""
    text = "x" * (limit_for(kind) + 1)
    with pytest.raises(TooLong):
        fit(text, kind)
    assert fit("x" * limit_for(kind), kind)
    return text


def _row(m: Any) -> dict[str, Any]:
    return {"external_id": m.external_id, "raw": dumps(m.raw), "source_kind": m.source_kind, "url": m.url}


def _options(kind: str, **values: Any) -> Any:
    return REGISTRY[kind].Options.model_validate({"id": f"test-{kind}", "kind": kind, **values})


def test_every_collector_kind_with_write_access_has_one_poster():
    assert {k for k in POSTERS if k in REGISTRY} == {
        "mastodon", "mastodon-stream", "bluesky", "jetstream", "reddit", "twitter", "googleplay", "appstoreconnect",
        "youtube", "googlebusiness", "trustpilot", "facebook", "threads"}
    assert {k: limit_for(k) for k in ("googleplay", "appstoreconnect", "googlebusiness", "facebook", "threads")} == {
        "googleplay": 350, "appstoreconnect": 5970, "googlebusiness": 4096, "facebook": 8000, "threads": 500}
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


# --- the official review and comment APIs ---------------------------------------------------------------

def test_google_play_reply_is_reviews_reply_with_the_collectors_service_account(monkeypatch: pytest.MonkeyPatch):
    with FakeGoogle() as g:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(g))
        g.play["com.acme.app"] = [PlayReview("gp:AOqp1", "Crashes on start", 1)]
        opts = {"package_name": "com.acme.app", "api_url": g.url}
        [m] = collect("googleplay", opts).mentions
        assert m.raw["package"] == "com.acme.app"
        poster = poster_for("googleplay")(_options("googleplay", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "Sorry! 1.2.1 fixes it.", "k")
        [r] = g.play_replies
        assert (r["package"], r["review"], r["text"]) == ("com.acme.app", "gp:AOqp1", "Sorry! 1.2.1 fixes it.")
        assert g.tokens[r["auth"].removeprefix("Bearer ")][0] == PLAY_SCOPE
        assert g.grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]      # the collector's token, reused
        assert posted == Posted("gp:AOqp1", m.url)
        gone = {**_row(m), "external_id": "gp:gone"}
        with pytest.raises(ReplyRefused, match=r"HTTP 404\): NOT_FOUND: Review not found"):
            poster.post(gone, "Sorry", "k")
        too_long = _too_long_is_refused_before_sending("googleplay")
        with pytest.raises(ReplyRefused, match="Reply text is too long"):
            poster.post(_row(m), too_long, "k")
        assert len(g.play_replies) == 1


def test_app_store_connect_reply_is_a_customer_review_response(monkeypatch: pytest.MonkeyPatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    monkeypatch.setenv("APPSTORE_CONNECT_KEY_ID", "2X9R4HXF34")
    monkeypatch.setenv("APPSTORE_CONNECT_ISSUER_ID", "57246542-96fe-1a63-e053-0824d011072a")
    monkeypatch.setenv("APPSTORE_CONNECT_PRIVATE_KEY", pem)
    with FakeAppStoreConnect("2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a", key.public_key()) as asc:
        asc.reviews["1234567890"] = [AscReview("r-1", "Broken", "acme app crashes", 1)]
        opts = {"app_id": "1234567890", "api_url": asc.url}
        [m] = collect("appstoreconnect", opts).mentions
        poster = poster_for("appstoreconnect")(_options("appstoreconnect", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "We are sorry, a fix is in review.", "k")
        [r] = asc.responses
        assert (r["review"], r["text"]) == ("r-1", "We are sorry, a fix is in review.")
        assert r["auth"] == asc.requests[0].headers["authorization"]           # the same ES256 token, cached
        assert posted == Posted(r["id"], m.url)
        too_long = _too_long_is_refused_before_sending("appstoreconnect")
        with pytest.raises(ReplyRefused, match=r"HTTP 409\): ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG: The response"):
            poster.post(_row(m), too_long, "k")
        asc.read_only = True
        with pytest.raises(ReplyRefused, match="FORBIDDEN_ERROR: The API key in use does not allow this request"):
            poster.post(_row(m), "Sorry", "k")
        assert len(asc.responses) == 1


def test_youtube_reply_is_comments_insert_with_oauth_not_the_api_key(monkeypatch: pytest.MonkeyPatch):
    with FakeGoogle() as g:
        g.api_keys.add("AIzaSy-read-key-000")
        monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSy-read-key-000")
        g.comments["dQw4w9WgXcQ"] = [Comment("UgzAbc123", "The acme app ate my homework")]
        opts = {"video_ids": ["dQw4w9WgXcQ"], "api_url": g.url, "token_url": f"{g.url}/token"}
        [m] = collect("youtube", opts).mentions
        poster = poster_for("youtube")(_options("youtube", **opts), httpx.Client())  # type: ignore[misc]
        with pytest.raises(ReplyRefused, match=r"set \$YOUTUBE_CLIENT_ID"):          # an API key cannot write
            poster.post(_row(m), "Sorry!", "k")
        g.clients["yt.apps.googleusercontent.com"] = ("GOCSPX-yt", "1//yt-refresh")
        g.client_scopes["yt.apps.googleusercontent.com"] = YT_SCOPE
        monkeypatch.setenv("YOUTUBE_CLIENT_ID", "yt.apps.googleusercontent.com")
        monkeypatch.setenv("YOUTUBE_CLIENT_SECRET", "GOCSPX-yt")
        monkeypatch.setenv("YOUTUBE_REFRESH_TOKEN", "1//yt-refresh")
        posted = poster.post(_row(m), "Sorry! Send us a DM?", "k")
        [r] = g.yt_replies
        assert (r["parent"], r["text"]) == ("UgzAbc123", "Sorry! Send us a DM?")
        assert g.tokens[r["auth"].removeprefix("Bearer ")][0] == YT_SCOPE and g.grants == ["refresh_token"]
        assert g.requests[-1].query == "part=snippet"                              # no API key on the write
        assert posted == Posted("UgzAbc123.reply1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAbc123.reply1")
        too_long = _too_long_is_refused_before_sending("youtube")
        with pytest.raises(ReplyRefused, match="commentTextTooLong: The comment text is too long"):
            poster.post(_row(m), too_long, "k")
        g.ineligible = True
        with pytest.raises(ReplyRefused, match=r"HTTP 403\): ineligibleAccount: The YouTube account"):
            poster.post(_row(m), "Sorry", "k")
        g.faults.append(__import__("tests.fakes.google", fromlist=["gerror"]).gerror(
            403, "The request cannot be completed because you have exceeded your quota.", "PERMISSION_DENIED",
            "quotaExceeded", "youtube.quota"))
        with pytest.raises(ReplyTransient):                                       # quota: wait, not refused
            poster.post(_row(m), "Sorry", "k")
        assert len(g.yt_replies) == 1


def test_business_profile_reply_is_put_reply_with_the_collectors_refresh_token(monkeypatch: pytest.MonkeyPatch):
    location = "accounts/111/locations/222"
    with FakeGoogle() as g:
        g.clients["cid.apps.googleusercontent.com"] = ("GOCSPX-secret", "1//refresh")
        monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_ID", "cid.apps.googleusercontent.com")
        monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_SECRET", "GOCSPX-secret")
        monkeypatch.setenv("GOOGLE_BUSINESS_REFRESH_TOKEN", "1//refresh")
        g.places[location] = [PlaceReview("rev1", 1, "Rude staff at acme")]
        opts = {"location": location, "api_url": g.url, "token_url": f"{g.url}/token"}
        [m] = collect("googlebusiness", opts).mentions
        assert m.raw["name"] == f"{location}/reviews/rev1"
        poster = poster_for("googlebusiness")(_options("googlebusiness", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "We are sorry, Sam. Please call us.", "k")
        assert g.place_replies == [{"name": f"{location}/reviews/rev1", "text": "We are sorry, Sam. Please call us.",
                                    "auth": g.place_replies[0]["auth"]}]
        assert g.place_replies[0]["auth"].removeprefix("Bearer ") in g.tokens and g.grants == ["refresh_token"]
        assert posted.external_id == f"{location}/reviews/rev1"
        gone = {**_row(m), "raw": dumps({"name": f"{location}/reviews/nope"})}
        with pytest.raises(ReplyRefused, match="NOT_FOUND: Requested entity was not found"):
            poster.post(gone, "Sorry", "k")
        too_long = _too_long_is_refused_before_sending("googlebusiness")
        with pytest.raises(ReplyRefused, match="HTTP 400.*INVALID_ARGUMENT"):
            poster.post(_row(m), too_long, "k")
        g.tokens.clear()                                  # revoked early: one fresh token, then the reply
        poster.post(_row(m), "Following up", "k2")
        assert [r["text"] for r in g.place_replies][-1] == "Following up" and g.grants == ["refresh_token"] * 2


def test_trustpilot_reply_goes_as_the_business_user(monkeypatch: pytest.MonkeyPatch):
    bu = "4bdc5ce8000064000500a1b2"
    monkeypatch.setenv("TRUSTPILOT_API_KEY", "tp-key-1234567")
    monkeypatch.setenv("TRUSTPILOT_API_SECRET", "tp-secret-7654321")
    monkeypatch.setenv("TRUSTPILOT_USERNAME", "care@acme.example")
    monkeypatch.setenv("TRUSTPILOT_PASSWORD", "pw-care-1")
    with FakeTrustpilot("tp-key-1234567") as tp:
        tp.api_secret, tp.users = "tp-secret-7654321", {"care@acme.example": "pw-care-1"}
        tp.reviews[bu] = [TpReview("5e3de1b45fb06f0001790b51", "Awful", "acme never delivered", 1)]
        opts = {"business_unit_id": bu, "api_url": tp.url}
        [m] = collect("trustpilot", opts).mentions
        unsigned = poster_for("trustpilot")(_options("trustpilot", **opts), httpx.Client())  # type: ignore[misc]
        with pytest.raises(ReplyRefused, match="set business_user_id"):
            unsigned.post(_row(m), "Sorry", "k")
        opts["business_user_id"] = "507f191e810c19729de860ea"
        poster = poster_for("trustpilot")(_options("trustpilot", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "Sorry Jo, we have refunded you.", "k")
        assert tp.replies == [{"review": "5e3de1b45fb06f0001790b51", "text": "Sorry Jo, we have refunded you.",
                               "author": "507f191e810c19729de860ea", "auth": "Bearer tp-1"}]
        assert posted == Posted("5e3de1b45fb06f0001790b51", m.url)
        gone = {**_row(m), "external_id": "000000000000000000000000"}
        with pytest.raises(ReplyRefused, match=r"HTTP 404\): Review not found"):
            poster.post(gone, "Sorry", "k")
        _too_long_is_refused_before_sending("trustpilot")
        CACHE.clear()
        monkeypatch.setenv("TRUSTPILOT_PASSWORD", "wrong")
        with pytest.raises(ReplyRefused, match="invalid_grant"):
            poster.post(_row(m), "Sorry", "k")
        assert len(tp.replies) == 1


def test_facebook_reply_is_a_comment_on_the_comment_with_the_page_token(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "EAAG-page-token-123456")
    with FakeGraph("EAAG-page-token-123456") as fb:
        fb.posts["101"] = [GraphItem("c1", "My acme order never came")]
        opts = {"page_id": "acme", "api_url": fb.url, "include": ["comments"]}
        [m] = collect("facebook", opts).mentions
        poster = poster_for("facebook")(_options("facebook", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "So sorry, Pat! Check your DMs.", "k")
        assert fb.comments_made == [{"id": "101_9000", "parent": "101_c1", "message": "So sorry, Pat! Check your DMs.",
                                     "auth": "Bearer EAAG-page-token-123456"}]
        assert fb.requests[-1].path == "/v21.0/101_c1/comments" and "access_token" not in fb.requests[-1].query
        assert posted == Posted("101_9000", "https://www.facebook.com/101_9000")
        too_long = _too_long_is_refused_before_sending("facebook")
        with pytest.raises(ReplyRefused, match="between 1 and 8000 characters"):
            poster.post(_row(m), too_long, "k")
        fb.can_write = False
        with pytest.raises(ReplyRefused, match=r"HTTP 403\): OAuthException: \(#200\) Permissions error"):
            poster.post(_row(m), "Sorry", "k")
        fb.can_write, fb.budget = True, fb.calls            # code 4 arrives as HTTP 400: still a rate limit
        with pytest.raises(ReplyTransient, match="Application request limit reached"):
            poster.post(_row(m), "Sorry", "k")
        assert len(fb.comments_made) == 1


def test_threads_reply_is_a_container_with_reply_to_id_then_published(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "THQW-token-123456")
    with FakeGraph("THQW-token-123456") as th:
        th.threads = [GraphItem("17900000000001", "acme support ghosted me", author="pat")]
        opts = {"query": "acme", "api_url": th.url}
        [m] = collect("threads", opts).mentions
        poster = poster_for("threads")(_options("threads", **opts), httpx.Client())  # type: ignore[misc]
        posted = poster.post(_row(m), "Sorry Pat, we sent you a DM.", "k")
        [p] = th.published
        assert (p["text"], p["reply_to_id"], p["auth"]) == ("Sorry Pat, we sent you a DM.", "17900000000001",
                                                            "Bearer THQW-token-123456")
        assert posted == Posted(p["id"], f"https://www.threads.net/@acme/post/{p['id']}") and not th.containers
        too_long = _too_long_is_refused_before_sending("threads")
        with pytest.raises(ReplyRefused, match="Param text must be at most 500 characters"):
            poster.post(_row(m), too_long, "k")
        gone = {**_row(m), "external_id": "1"}
        with pytest.raises(ReplyRefused, match="reply_to_id must be a valid Threads media id"):
            poster.post(gone, "Sorry", "k")
        assert len(th.published) == 1


def test_an_option_the_source_leaves_unset_falls_back_to_the_default_variable(monkeypatch: pytest.MonkeyPatch):
    """Regression (round 22): a mastodon stream source without `token_env` has the attribute set to None, and
    the poster asked for "$None" instead of $MASTODON_ACCESS_TOKEN."""
    from types import SimpleNamespace

    from monitor.respond.posters import MastodonPoster
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "default-token-0123456789")
    poster = MastodonPoster(SimpleNamespace(id="fedi", token_env=None), httpx.Client())  # type: ignore[arg-type]
    assert poster.secret(poster.opt("token_env", "MASTODON_ACCESS_TOKEN")) == "default-token-0123456789"
    assert poster.opt("token_env", "X") == "X" and MastodonPoster(None, httpx.Client()).opt("token_env", "Y") == "Y"
