"""A 429 from X holds every X source of the process that polls with the same token until `x-rate-limit-reset`.

Regression (round 23): X limits `GET /2/tweets/search/recent` per app (the bearer token's), per 15-minute
window, for every request made with that token; the 429 of one X source only backed that source off, so each
other X source on the same host asked again and got its own 429 (each one a request the spent quota refused,
and a failed poll). Now the collector holds every source using that token until the reset (another app's token
is another quota: those sources keep polling), says so in the log, and the other sources back off without a request (the real tweepy client and App against the local X API,
whose one quota counter stands for the app's)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from monitor.core.clock import FakeClock
from monitor.runtime.daemon import App, Paths
from tests.conftest import write_config
from tests.fakes.twitter import BEARER, FakeX, Tweet

START = 1_800_000_000.0


@pytest.fixture
def two_x_sources(tmp_path, monkeypatch) -> Iterator[tuple[App, FakeX]]:
    """The real App with two X sources (two searches, one token) on one local X API."""
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    with FakeX() as x:
        sources = (f"- {{id: x-acme, kind: twitter, query: acme, api_url: '{x.api_url}', page_size: 10}}\n"
                   f"- {{id: x-globex, kind: twitter, query: globex, api_url: '{x.api_url}', page_size: 10}}\n")
        cfg, rules = write_config(tmp_path, sources=sources, extra="# one host, no gap\n  per_host_interval: 0\n")
        app = App(Paths(str(cfg), str(rules)), clock=FakeClock(START))
        try:
            yield app, x
        finally:
            app.close()


def test_regression_an_x_429_blocks_the_host_for_the_other_x_sources_until_the_reset(two_x_sources, caplog):
    app, x = two_x_sources
    x.add(Tweet(1, "acme first"), Tweet(2, "globex first"))
    x.remaining, x.reset_at = 0, int(START) + 900                   # the app's window is spent
    caplog.set_level(logging.WARNING)
    assert not app.poll("x-acme", force=True).ok
    assert len(x.requests) == 1
    assert any("no X source using $TWITTER_BEARER_TOKEN asks it again before" in r.getMessage() for r in caplog.records)

    out = app.poll("x-globex", force=True)                          # the same app's quota: not asked at all
    assert not out.ok
    assert len(x.requests) == 1
    row = app.store.one("SELECT * FROM sources WHERE id = 'x-globex'")
    assert row["next_run"] == START + 900 and "quota of the app behind $TWITTER_BEARER_TOKEN is spent" in row["last_error"]

    app.clock.advance(901)                                          # the window resets: both read again
    x.remaining = 10_000
    assert app.poll("x-acme", force=True).ok and app.poll("x-globex", force=True).ok
    assert len(x.requests) == 3


def test_an_x_429_leaves_the_sources_of_another_apps_token_polling(tmp_path, monkeypatch):
    """Another bearer token is another app, with its own quota: its sources are asked as usual."""
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    monkeypatch.setenv("OTHER_APP_TOKEN", "another-app-token")
    with FakeX(also=("another-app-token",)) as x:
        sources = (f"- {{id: x-acme, kind: twitter, query: acme, api_url: '{x.api_url}', page_size: 10}}\n"
                   f"- {{id: x-other, kind: twitter, query: globex, api_url: '{x.api_url}', page_size: 10,"
                   " token_env: OTHER_APP_TOKEN}\n")
        cfg, rules = write_config(tmp_path, sources=sources, extra="# one host, no gap\n  per_host_interval: 0\n")
        app = App(Paths(str(cfg), str(rules)), clock=FakeClock(START))
        try:
            x.add(Tweet(1, "acme first"), Tweet(2, "globex first"))
            x.remaining, x.reset_at = 0, int(START) + 900
            assert not app.poll("x-acme", force=True).ok
            x.remaining = 10_000                         # the other app's quota is not spent
            assert app.poll("x-other", force=True).ok
            assert len(x.requests) == 2
        finally:
            app.close()
