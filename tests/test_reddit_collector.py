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


# --- OAuth: app-only and script-app grants against a fake built from Reddit's OAuth2 documentation ---

APP = {"cid": "s3cr3t-app-secret"}


@pytest.fixture
def oauth(monkeypatch):
    from monitor.sources.auth import CACHE
    CACHE.clear()
    monkeypatch.setenv("REDDIT_CLIENT_ID", "cid")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", APP["cid"])
    for name in ("REDDIT_USERNAME", "REDDIT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with FakeReddit(apps=dict(APP), users={"acmebot": "hunter22"}) as srv:
        srv.posts.append(Post("abc", "Acme ate my order", score=4, comments=1, created=1_763_000_000))
        yield srv
    CACHE.clear()


def test_app_only_token_is_fetched_once_and_cached(oauth):
    from monitor.core.clock import FakeClock
    clock = FakeClock(1_763_000_000)
    for _ in range(2):
        result = collect("reddit", {"query": "acme", "api_url": oauth.url}, clock=clock)
        assert [m.external_id for m in result.mentions] == ["t3_abc"]
    assert oauth.grants == ["client_credentials"]                 # one token for both polls
    search = [r for r in oauth.requests if r.path == "/search"]
    assert len(search) == 2 and search[0].headers["authorization"].startswith("bearer tok-1")
    assert search[0].headers["user-agent"].startswith("python:mention-monitor:") and "(by /u/" in \
        search[0].headers["user-agent"]
    token_req = next(r for r in oauth.requests if r.path == "/api/v1/access_token")
    assert token_req.method == "POST" and b"grant_type=client_credentials" in token_req.body
    clock.advance(86400)                                           # expired: a fresh token
    collect("reddit", {"query": "acme", "api_url": oauth.url}, clock=clock)
    assert oauth.grants == ["client_credentials", "client_credentials"]


def test_script_app_password_grant(oauth, monkeypatch):
    monkeypatch.setenv("REDDIT_USERNAME", "acmebot")
    monkeypatch.setenv("REDDIT_PASSWORD", "hunter22")
    result = collect("reddit", {"query": "acme", "api_url": oauth.url})
    assert oauth.grants == ["password"] and len(result.mentions) == 1
    assert "(by /u/acmebot)" in oauth.requests[-1].headers["user-agent"]


def test_wrong_password_is_an_auth_error_naming_invalid_grant(oauth, monkeypatch):
    from monitor.core.errors import SourceAuthError
    monkeypatch.setenv("REDDIT_USERNAME", "acmebot")
    monkeypatch.setenv("REDDIT_PASSWORD", "wrong-password")
    with pytest.raises(SourceAuthError, match="invalid_grant"):
        collect("reddit", {"query": "acme", "api_url": oauth.url})


def test_wrong_client_secret_is_an_auth_error(oauth, monkeypatch):
    from monitor.core.errors import SourceAuthError
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "not-the-secret")
    with pytest.raises(SourceAuthError, match="HTTP 401"):
        collect("reddit", {"query": "acme", "api_url": oauth.url})


def test_revoked_token_is_replaced_once_not_disabling_the_source(oauth):
    collect("reddit", {"query": "acme", "api_url": oauth.url})
    oauth.tokens.clear()                                           # Reddit revoked it before it expired
    result = collect("reddit", {"query": "acme", "api_url": oauth.url})
    assert len(result.mentions) == 1 and len(oauth.grants) == 2


def test_rate_budget_nearly_spent_waits_for_reset_and_429_says_when(oauth):
    oauth.budget = 3
    collect("reddit", {"query": "acme", "api_url": oauth.url})
    result = collect("reddit", {"query": "acme", "api_url": oauth.url, "min_remaining": 1})
    assert result.warnings and "x-ratelimit-reset" in result.warnings[0]
    collect("reddit", {"query": "acme", "api_url": oauth.url})
    with pytest.raises(RateLimited) as exc:
        collect("reddit", {"query": "acme", "api_url": oauth.url})
    assert exc.value.retry_at is not None


def test_without_credentials_check_warns_naming_the_variables():
    from monitor.sources.kinds.reddit import RedditCollector, RedditOptions
    opts = RedditOptions(id="r", kind="reddit", query="acme")
    problem = RedditCollector.credential_problem(opts, {})
    assert "$REDDIT_CLIENT_ID" in problem and "$REDDIT_CLIENT_SECRET" in problem
    assert RedditCollector.credential_problem(opts, {"REDDIT_CLIENT_ID": "a", "REDDIT_CLIENT_SECRET": "b"}) is None
