"""The twitter kind: the real tweepy client against a local X API v2 (auth, paging, since_id, 429, secrets)."""

from __future__ import annotations

import io
import logging

import pytest

from monitor.core import logs
from monitor.core.errors import FetchError, RateLimited, SourceAuthError
from monitor.sources import SourceState
from tests.fakes.harness import collect
from tests.fakes.server import Reply
from tests.fakes.twitter import BEARER, FakeX, Tweet
from tests.timing import Stopwatch


@pytest.fixture
def fake_x(monkeypatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    with FakeX() as srv:
        yield srv


def _collect(srv, state=None, **opts):
    return collect("twitter", {"query": "acme -is:retweet", "api_url": srv.api_url, **opts}, state)


def test_posts_become_mentions_with_author_and_reach(fake_x):
    fake_x.add(Tweet(11, "Acme support is down again", created_at=1_763_000_000), Tweet(12, "nothing here"))
    result = _collect(fake_x)
    (m,) = result.mentions
    assert (m.external_id, m.author, m.reach, m.url, m.published, m.language) == (
        "11", "@jane", 1234, "https://x.com/jane/status/11", 1_763_000_000.0, "en")
    assert result.cursor == {"since_id": "11"}
    req = fake_x.requests[-1]
    assert "expansions=author_id" in req.query and "public_metrics" in req.query
    assert req.headers["user-agent"].startswith("mention-monitor/")


def test_since_id_cursor_and_paging(fake_x):
    fake_x.add(*[Tweet(i, f"acme post {i}") for i in range(1, 26)])
    first = _collect(fake_x, page_size=10)                     # first poll: the newest page only (paid reads)
    assert sorted(int(m.external_id) for m in first.mentions) == list(range(16, 26))
    assert first.cursor == {"since_id": "25"} and len(fake_x.requests) == 1 and not first.warnings
    fake_x.add(*[Tweet(i, f"acme again {i}") for i in range(30, 55)])
    second = _collect(fake_x, SourceState(cursor=first.cursor), page_size=10)
    assert sorted(int(m.external_id) for m in second.mentions) == list(range(30, 55))   # later polls page
    assert len(fake_x.requests) == 4 and all("since_id=25" in r.query for r in fake_x.requests[1:])
    assert second.cursor == {"since_id": "54"}


def test_too_many_pages_warns(fake_x):
    fake_x.add(*[Tweet(i, f"acme {i}") for i in range(1, 40)])
    result = _collect(fake_x, SourceState(cursor={"since_id": "0"}), page_size=10, max_pages=2)
    assert len(result.mentions) == 20 and "older ones were skipped" in result.warnings[0]


def test_429_reschedules_at_the_reset_header(fake_x):
    fake_x.remaining = 0
    with pytest.raises(RateLimited) as exc:
        _collect(fake_x)
    assert exc.value.retry_at == fake_x.reset_at


def test_429_without_reset_header_does_not_spin(fake_x):
    fake_x.remaining, fake_x.send_reset = 0, False
    with Stopwatch() as sw, pytest.raises(RateLimited) as exc:
        _collect(fake_x)
    assert exc.value.retry_at is None
    sw.assert_within(0.0, 5.0, "the 429")        # no retry loop: 5 s on an idle machine, scaled by load
    assert len(fake_x.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_an_auth_error(fake_x, status):
    fake_x.faults.append(Reply(status, b'{"title":"Unauthorized","status":%d}' % status,
                               {"Content-Type": "application/json"}))
    with pytest.raises(SourceAuthError):
        _collect(fake_x)


def test_wrong_token_is_an_auth_error(fake_x, monkeypatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "wrong-token-123")
    with pytest.raises(SourceAuthError, match="401"):
        _collect(fake_x)


def test_missing_token_is_an_auth_error(fake_x, monkeypatch):
    monkeypatch.delenv("TWITTER_BEARER_TOKEN")
    with pytest.raises(SourceAuthError, match=r"\$TWITTER_BEARER_TOKEN"):
        _collect(fake_x)


def test_token_env_is_configurable(fake_x, monkeypatch):
    monkeypatch.delenv("TWITTER_BEARER_TOKEN")
    monkeypatch.setenv("ACME_X_TOKEN", BEARER)
    fake_x.add(Tweet(5, "acme"))
    assert len(_collect(fake_x, token_env="ACME_X_TOKEN").mentions) == 1


def test_a_server_that_never_answers_times_out(fake_x):
    fake_x.faults.append(Reply(200, b"{}", delay=30))
    with Stopwatch() as sw, pytest.raises(FetchError, match="timed out"):
        collect("twitter", {"query": "acme", "api_url": fake_x.api_url}, read_timeout=0.5)
    sw.assert_within(0.5, 4.5, "the timeout")    # the read timeout is the promise, not the server's 30 s


def test_500_is_a_fetch_error(fake_x):
    fake_x.faults.append(Reply(503, b'{"title":"Service Unavailable"}', {"Content-Type": "application/json"}))
    with pytest.raises(FetchError, match="503"):
        _collect(fake_x)


def test_bearer_token_never_reaches_the_log_even_at_debug(fake_x, monkeypatch):
    """tweepy's debug log prints the request headers, Authorization included."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in ("tweepy", "urllib3")})
    monkeypatch.setenv("ACME_X_TOKEN", "zz-custom-env-secret-9876")
    logs.setup("DEBUG", "text", stream)
    try:
        logging.getLogger("tweepy").setLevel(logging.DEBUG)
        logging.getLogger("urllib3").setLevel(logging.DEBUG)
        fake_x.add(Tweet(7, "acme"))
        _collect(fake_x)
        fake_x.token = "zz-custom-env-secret-9876"
        _collect(fake_x, token_env="ACME_X_TOKEN")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    out = stream.getvalue()
    assert "Making API request" in out and "Authorization" in out      # the debug lines were emitted...
    assert BEARER not in out and "zz-custom-env-secret-9876" not in out   # ...and scrubbed
