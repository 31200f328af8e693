"""The official review and comment connectors against fakes built from their API references.

Google Play (service-account JWT), App Store Connect (ES256 JWT), YouTube (API key), Google Business Profile
(OAuth refresh token), Trustpilot (API key), Facebook Page (Page token), Threads (keyword search).
"""

from __future__ import annotations

import logging
import time

import pytest

from monitor.core import logs
from monitor.core.errors import FetchError, RateLimited, SourceAuthError
from monitor.sources import REGISTRY, SourceState
from monitor.sources.auth import CACHE
from tests.fakes.brands import AscReview, FakeAppStoreConnect, FakeGraph, FakeTrustpilot, GraphItem, TpReview
from tests.fakes.google import Comment, FakeGoogle, PlaceReview, PlayReview, service_account_key
from tests.fakes.harness import collect

CHANNEL = "UC" + "b" * 22
LOCATION = "accounts/111/locations/222"
BU = "4bdc5ce8000064000500a1b2"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    CACHE.clear()
    yield
    CACHE.clear()


@pytest.fixture
def google(monkeypatch):
    with FakeGoogle() as srv:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(srv))
        yield srv


# --- Google Play ----------------------------------------------------------------------------------------

def test_googleplay_reviews_with_service_account_token(google):
    google.play["com.acme.app"] = [PlayReview("gp:AOqp1", "Crashes on start\tSince 1.2 it crashes", 1,
                                              thumbs_up=7, modified=1_763_000_000),
                                   PlayReview("gp:AOqp2", "Love it", 5)]
    result = collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url, "page_size": 1})
    (m,) = result.mentions                                         # first poll: one page only
    assert (m.external_id, m.title, m.text, m.rating, m.reach, m.published, m.language) == (
        "gp:AOqp1", "Crashes on start", "Since 1.2 it crashes", 1.0, 7, 1_763_000_000.0, "en")
    assert m.url == "https://play.google.com/store/apps/details?id=com.acme.app&reviewId=gp:AOqp1"
    assert google.grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    later = collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url, "page_size": 1},
                    SourceState(cursor={"since": 1_700_000_000}))
    assert [x.external_id for x in later.mentions] == ["gp:AOqp1", "gp:AOqp2"]      # pages followed
    assert google.grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]            # token reused


def test_googleplay_key_the_token_endpoint_refuses_is_an_auth_error(google, monkeypatch):
    other = FakeGoogle()
    other.start()
    try:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(other).replace(other.url, google.url))
    finally:
        other.stop()
    with pytest.raises(SourceAuthError, match="invalid_grant: Invalid JWT Signature"):
        collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url})


def test_googleplay_app_not_visible_to_the_account_is_an_auth_error(google):
    with pytest.raises(SourceAuthError, match="PERMISSION_DENIED"):
        collect("googleplay", {"package_name": "com.other.app", "api_url": google.url})


def test_googleplay_key_file_path_and_missing_variable(google, monkeypatch, tmp_path):
    google.play["com.acme.app"] = [PlayReview("gp:1", "ok", 4)]
    path = tmp_path / "sa.json"
    path.write_text(service_account_key(google))
    monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", str(path))
    assert len(collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url}).mentions) == 1
    monkeypatch.delenv("GOOGLE_PLAY_SERVICE_ACCOUNT")
    with pytest.raises(SourceAuthError, match=r"\$GOOGLE_PLAY_SERVICE_ACCOUNT"):
        collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url})


def test_expired_google_token_is_replaced_not_disabling_the_source(google):
    google.play["com.acme.app"] = [PlayReview("gp:1", "ok", 4)]
    collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url})
    google.tokens.clear()                                          # Google forgot it (rotation, early expiry)
    assert len(collect("googleplay", {"package_name": "com.acme.app", "api_url": google.url}).mentions) == 1
    assert len(google.grants) == 2


# --- App Store Connect ----------------------------------------------------------------------------------

@pytest.fixture
def asc(monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    monkeypatch.setenv("APPSTORE_CONNECT_KEY_ID", "2X9R4HXF34")
    monkeypatch.setenv("APPSTORE_CONNECT_ISSUER_ID", "57246542-96fe-1a63-e053-0824d011072a")
    monkeypatch.setenv("APPSTORE_CONNECT_PRIVATE_KEY", pem)
    with FakeAppStoreConnect("2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a", key.public_key()) as srv:
        srv.reviews["1234567890"] = [AscReview(f"r{i}", f"Title {i}", f"acme body {i}", 1 + i % 5,
                                               created=1_763_000_000 - i * 60) for i in range(5)]
        yield srv


def test_appstoreconnect_reviews_es256_and_cursor_paging(asc):
    first = collect("appstoreconnect", {"app_id": "id1234567890", "api_url": asc.url, "page_size": 2})
    assert [m.external_id for m in first.mentions] == ["r0", "r1"]          # first poll: one page
    m = first.mentions[0]
    assert (m.title, m.text, m.rating, m.published, m.raw["territory"]) == (
        "Title 0", "acme body 0", 1.0, 1_763_000_000.0, "USA")
    asc.reviews["1234567890"].insert(0, AscReview("r-new", "New", "acme new", 2, created=1_763_000_600))
    later = collect("appstoreconnect", {"app_id": "1234567890", "api_url": asc.url, "page_size": 2},
                    SourceState(cursor=first.cursor))
    assert [m.external_id for m in later.mentions] == ["r-new", "r0"]       # stopped at the first seen
    assert "cursor=" not in asc.requests[0].query and "sort=-createdDate" in asc.requests[0].query


def test_appstoreconnect_wrong_key_is_an_auth_error_and_budget_is_reported(asc, monkeypatch):
    asc.budget = 5
    result = collect("appstoreconnect", {"app_id": "1234567890", "api_url": asc.url})
    assert "nearly spent" in result.warnings[0]
    monkeypatch.setenv("APPSTORE_CONNECT_KEY_ID", "WRONGKEY01")
    CACHE.clear()
    with pytest.raises(SourceAuthError, match="NOT_AUTHORIZED"):
        collect("appstoreconnect", {"app_id": "1234567890", "api_url": asc.url})


# --- YouTube --------------------------------------------------------------------------------------------

def test_youtube_channel_comments_with_api_key(google, monkeypatch):
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSyFAKE-key-0123456789")
    google.api_keys.add("AIzaSyFAKE-key-0123456789")
    google.comments[CHANNEL] = [Comment("Ugx1", "acme support never answers", likes=4, published=1_763_000_000),
                                Comment("Ugx2", "great video", published=1_762_999_000)]
    result = collect("youtube", {"channel_id": CHANNEL, "api_url": google.url, "page_size": 1})
    (m,) = result.mentions
    assert (m.external_id, m.text, m.reach, m.author) == ("Ugx1", "acme support never answers", 4, "@viewer")
    assert m.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=Ugx1"
    assert "order=time" in google.requests[0].query and "textFormat=plainText" in google.requests[0].query


def test_youtube_quota_exceeded_is_a_rate_limit_and_bad_key_an_auth_error(google, monkeypatch):
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSyFAKE-key-0123456789")
    google.api_keys.add("AIzaSyFAKE-key-0123456789")
    google.quota = 0
    with pytest.raises(RateLimited) as exc:
        collect("youtube", {"video_ids": ["https://youtu.be/dQw4w9WgXcQ"], "api_url": google.url})
    assert exc.value.retry_at and 0 < exc.value.retry_at - time.time() <= 86400
    google.quota, google.units = 10_000, 0
    google.comments_disabled.add("dQw4w9WgXcQ")
    with pytest.raises(FetchError, match="commentsDisabled") as exc2:
        collect("youtube", {"video_ids": ["dQw4w9WgXcQ"], "api_url": google.url})
    assert not isinstance(exc2.value, SourceAuthError)                  # the video's choice, not our key
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSy-not-valid-000000")
    with pytest.raises(SourceAuthError, match="API key not valid"):
        collect("youtube", {"video_ids": ["dQw4w9WgXcQ"], "api_url": google.url})


# --- Google Business Profile -----------------------------------------------------------------------------

@pytest.fixture
def gbp(google, monkeypatch):
    google.clients["cid.apps.googleusercontent.com"] = ("GOCSPX-secret-value", "1//refresh-token-value")
    monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_ID", "cid.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_SECRET", "GOCSPX-secret-value")
    monkeypatch.setenv("GOOGLE_BUSINESS_REFRESH_TOKEN", "1//refresh-token-value")
    google.places[LOCATION] = [PlaceReview("AbFvOq1", 1), PlaceReview("AbFvOq2", 5, "Lovely staff at acme")]
    return google


def test_googlebusiness_reviews_rating_only_and_enum_stars(gbp):
    opts = {"location": LOCATION, "api_url": gbp.url, "token_url": f"{gbp.url}/token"}
    result = collect("googlebusiness", opts)
    assert [(m.external_id, m.rating, m.text) for m in result.mentions] == [
        ("AbFvOq1", 1.0, ""), ("AbFvOq2", 5.0, "Lovely staff at acme")]
    assert gbp.grants == ["refresh_token"]
    assert "orderBy=updateTime+desc" in gbp.requests[-1].query


def test_googlebusiness_revoked_refresh_token_is_an_auth_error(gbp, monkeypatch):
    monkeypatch.setenv("GOOGLE_BUSINESS_REFRESH_TOKEN", "1//revoked")
    with pytest.raises(SourceAuthError, match="invalid_grant: Token has been expired or revoked"):
        collect("googlebusiness", {"location": LOCATION, "api_url": gbp.url, "token_url": f"{gbp.url}/token"})


# --- Trustpilot -----------------------------------------------------------------------------------------

def test_trustpilot_reviews_and_invalid_key(monkeypatch):
    monkeypatch.setenv("TRUSTPILOT_API_KEY", "tp-key-1234567")
    with FakeTrustpilot("tp-key-1234567") as tp:
        tp.reviews[BU] = [TpReview(f"5f{i:022x}", f"t{i}", f"acme review {i}", 1 + i % 5,
                                   created=1_763_000_000 - i) for i in range(3)]
        first = collect("trustpilot", {"business_unit_id": BU, "api_url": tp.url, "page_size": 2})
        assert len(first.mentions) == 2 and first.mentions[0].rating == 1.0
        assert first.mentions[0].url == f"https://www.trustpilot.com/reviews/{'5f' + '0' * 22}"
        later = collect("trustpilot", {"business_unit_id": BU, "api_url": tp.url, "page_size": 2},
                        SourceState(cursor={"since": 1_700_000_000}))
        assert len(later.mentions) == 3 and "page=2" in tp.requests[-1].query
        monkeypatch.setenv("TRUSTPILOT_API_KEY", "wrong-key-123")
        with pytest.raises(SourceAuthError, match="Invalid ApiKey"):
            collect("trustpilot", {"business_unit_id": BU, "api_url": tp.url})


# --- Facebook Page and Threads ----------------------------------------------------------------------------

def test_facebook_page_comments_and_visitor_posts(monkeypatch):
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "EAAG-page-token-123456")
    with FakeGraph("EAAG-page-token-123456") as fb:
        fb.posts["101"] = [GraphItem("c1", "My acme order never came", likes=3, created=1_763_000_000)]
        fb.visitor_posts = [GraphItem("v1", "acme, answer your DMs!")]
        result = collect("facebook", {"page_id": "acme", "api_url": fb.url})
        by_id = {m.external_id: m for m in result.mentions}
        c = by_id["101_c1"]
        assert (c.text, c.author, c.reach, c.published, c.raw["type"]) == (
            "My acme order never came", "Pat Doe", 3, 1_763_000_000.0, "comment")
        assert by_id["1_v1"].raw["type"] == "visitor_post"
        assert all(r.headers["authorization"] == "Bearer EAAG-page-token-123456" and "access_token" not in r.query
                   for r in fb.requests)
        assert "comments.order(reverse_chronological).limit(50)" in fb.requests[0].query.replace("%28", "(") \
            .replace("%29", ")")
        monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "expired-token-0000")
        with pytest.raises(SourceAuthError, match="190|Invalid OAuth"):
            collect("facebook", {"page_id": "acme", "api_url": fb.url})


def test_graph_throttling_code_4_is_a_rate_limit_and_high_usage_is_reported(monkeypatch):
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "THQW-token-123456")
    with FakeGraph("THQW-token-123456", budget=2) as th:
        th.threads = [GraphItem("t1", "acme is great", author="zuck")]
        result = collect("threads", {"query": "acme", "api_url": th.url})
        assert [m.url for m in result.mentions] == ["https://www.threads.net/@zuck/post/t1"]
        assert not result.warnings
        second = collect("threads", {"query": "acme", "api_url": th.url})
        assert "100% of the hourly budget" in second.warnings[0]
        with pytest.raises(RateLimited):
            collect("threads", {"query": "acme", "api_url": th.url})


def test_threads_since_cursor_and_paging(monkeypatch):
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "THQW-token-123456")
    with FakeGraph("THQW-token-123456") as th:
        th.threads = [GraphItem(f"t{i}", f"acme {i}", author="a", created=1_763_000_000 - i) for i in range(5)]
        first = collect("threads", {"query": "acme", "api_url": th.url, "page_size": 2})
        assert len(first.mentions) == 2 and first.cursor == {"since": 1_763_000_000.0}
        th.threads.insert(0, GraphItem("t-new", "acme new", author="a", created=1_763_000_100))
        later = collect("threads", {"query": "acme", "api_url": th.url, "page_size": 2},
                        SourceState(cursor=first.cursor))
        assert [m.external_id for m in later.mentions] == ["t-new"] and "since=1763000001" in th.requests[-1].query


# --- every connector: credentials named by `monitor check`, never logged ---------------------------------

@pytest.mark.parametrize("kind,options,variables", [
    ("googleplay", {"package_name": "com.acme.app"}, ["$GOOGLE_PLAY_SERVICE_ACCOUNT"]),
    ("appstoreconnect", {"app_id": "1234567890"}, ["$APPSTORE_CONNECT_KEY_ID", "$APPSTORE_CONNECT_PRIVATE_KEY"]),
    ("youtube", {"channel_id": CHANNEL}, ["$YOUTUBE_API_KEY"]),
    ("googlebusiness", {"location": LOCATION}, ["$GOOGLE_BUSINESS_REFRESH_TOKEN"]),
    ("trustpilot", {"business_unit_id": BU}, ["$TRUSTPILOT_API_KEY"]),
    ("facebook", {"page_id": "acme"}, ["$FACEBOOK_PAGE_TOKEN"]),
    ("threads", {"query": "acme"}, ["$THREADS_ACCESS_TOKEN"])])
def test_check_names_the_credential_variables(kind, options, variables):
    cls = REGISTRY[kind]
    opts = cls.Options.model_validate({"id": "x", "kind": kind, **options})
    problem = cls.credential_problem(opts, {})
    assert all(v in problem for v in variables), problem
    assert cls.credential_problem(opts, {n: "set" for n in cls.credential_envs(opts)}) is None


def test_tokens_and_keys_never_reach_the_logs(gbp, caplog):
    caplog.set_level(logging.DEBUG)
    collect("googlebusiness", {"location": LOCATION, "api_url": gbp.url, "token_url": f"{gbp.url}/token"})
    token = next(iter(gbp.tokens))
    line = logs.redact(f"GET {gbp.url}/v4 Authorization: Bearer {token} secret GOCSPX-secret-value "
                       "refresh 1//refresh-token-value", [])
    assert token not in line and "GOCSPX-secret-value" not in line and "1//refresh-token-value" not in line


def test_monitor_check_warns_about_missing_credentials_naming_variables(tmp_path, capsys, monkeypatch):
    from monitor.cli import main
    from tests.conftest import write_config
    for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "YOUTUBE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUSTPILOT_API_KEY", "tp-key-1234567")
    cfg, rules = write_config(tmp_path, sources=(
        "- {id: r, kind: reddit, query: acme}\n"
        f"- {{id: yt, kind: youtube, channel_id: {CHANNEL}}}\n"
        f"- {{id: tp, kind: trustpilot, business_unit_id: '{BU}'}}\n"))
    assert main(["check", "--config", str(cfg), "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert "warning: no $REDDIT_CLIENT_ID / $REDDIT_CLIENT_SECRET" in out
    assert "warning: no $YOUTUBE_API_KEY" in out
    assert "credentials: $TRUSTPILOT_API_KEY found" in out and "tp-key-1234567" not in out
