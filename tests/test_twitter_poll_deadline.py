"""An X poll of several pages ends at its deadline, `http.deadline` from the poll's start, and the next poll
continues where it was cut: nothing lost, nothing twice.

Regression (round 23): each page had its own `http.deadline` and nothing bounded the poll, so a later poll of
`max_pages` pages (up to 50) on a slow X API took up to max_pages x the deadline; and a page failing after
others were read threw those away. Now the pages share the poll's deadline; a poll cut after some pages keeps
them, and its cursor keeps the range still unread (`since_id` < id < `until_id`) for the next poll to read
first (the real tweepy client against the local X API, through the real poller and store)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from monitor.core.clock import FakeClock
from monitor.runtime.daemon import App, Paths
from tests.conftest import write_config
from tests.fakes.server import Reply, Request
from tests.fakes.twitter import BEARER, FakeX, Tweet
from tests.timing import Stopwatch

DEADLINE_S, PAGE_DELAY_S = 1.5, 0.6
START = 1_800_000_000.0


@pytest.fixture
def x_app(tmp_path, monkeypatch) -> Iterator[tuple[App, FakeX]]:
    """The real App (poller, store) with one X source paging 10 posts at a time, `http.deadline` DEADLINE_S."""
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    with FakeX() as x:
        source = f"- {{id: x-acme, kind: twitter, query: acme, api_url: '{x.api_url}', page_size: 10}}\n"
        cfg, rules = write_config(tmp_path, sources=source, extra=f"# one host, a short deadline\n"
                                  f"  per_host_interval: 0\n  deadline: {DEADLINE_S}s\n")
        app = App(Paths(str(cfg), str(rules)), clock=FakeClock(START))
        try:
            yield app, x
        finally:
            app.close()


def _later_pages_slow(x: FakeX) -> Callable[[Request], Reply]:
    """Every page after a poll's first answers PAGE_DELAY_S late (slow, not stalled); returns the fast API."""
    serve = x.handler

    def slow(req: Request) -> Reply:
        reply = serve(req)
        if "next_token=" in req.query:
            reply.delay = PAGE_DELAY_S
        return reply

    x.handler = slow
    return serve


def _stored(app: App) -> list[int]:
    return sorted(int(r["external_id"]) for r in app.store.query("SELECT external_id FROM mentions"))


def _cursor(app: App) -> dict[str, str]:
    return json.loads(app.store.one("SELECT cursor FROM sources WHERE id = 'x-acme'")["cursor"])


def test_regression_a_poll_of_slow_pages_ends_at_its_deadline_and_the_next_poll_continues(x_app):
    app, x = x_app
    x.add(Tweet(1, "acme first"))
    assert app.poll("x-acme", force=True).ok and _cursor(app) == {"since_id": "1"}    # first poll: one page
    x.add(*[Tweet(i, f"acme post {i}") for i in range(2, 52)])                        # 5 pages of 10
    fast = _later_pages_slow(x)
    x.requests.clear()
    with Stopwatch() as sw:
        out = app.poll("x-acme", force=True)
    sw.assert_within(DEADLINE_S, 0.6, "an X poll of slow pages")
    assert out.ok and out.partial                        # what was read is kept, and said
    pages = (len(_stored(app)) - 1) // 10                # 3 on an idle machine (0, 0.6, 1.2 s), then a cut
    assert 1 <= pages < 5
    oldest = 52 - 10 * pages
    assert _stored(app) == [1, *range(oldest, 52)]       # whole pages, newest first
    assert _cursor(app) == {"since_id": "1", "until_id": str(oldest), "head": "51"}
    row = app.store.one("SELECT * FROM sources WHERE id = 'x-acme'")
    assert f"poll cut at the poll deadline ({DEADLINE_S:g}s) after {pages} page(s)" in row["last_error"]

    x.handler = fast                                     # the API is fast again
    x.add(*[Tweet(i, f"acme new {i}") for i in range(52, 55)])
    x.requests.clear()
    assert app.poll("x-acme", force=True).ok
    gap = [r for r in x.requests if f"until_id={oldest}" in r.query]
    assert gap and all("since_id=1&" in r.query + "&" for r in gap)     # the cut range first, both bounds
    assert any("since_id=51" in r.query and "until_id" not in r.query for r in x.requests)   # then newer
    assert _stored(app) == list(range(1, 55))            # every post once: none lost, none twice
    assert app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 54
    assert _cursor(app) == {"since_id": "54"}


def test_a_poll_cut_before_any_page_fails_and_keeps_its_cursor(x_app):
    """Nothing read: the poll fails with the X API named and the poll deadline said; the cursor is kept."""
    app, x = x_app
    x.add(Tweet(1, "acme first"))
    assert app.poll("x-acme", force=True).ok
    x.add(*[Tweet(i, f"acme post {i}") for i in range(2, 12)])
    x.faults.append(Reply(200, b"{}", delay=DEADLINE_S + 3))
    with Stopwatch() as sw:
        out = app.poll("x-acme", force=True)
    sw.assert_within(DEADLINE_S, 0.6, "an X poll whose first page stalls")
    assert not out.ok and "within the poll deadline (1.5s)" in (out.error or "")
    assert "X API" in (out.error or "") and _cursor(app) == {"since_id": "1"} and _stored(app) == [1]


def test_a_poll_cut_again_while_reading_the_cut_range_narrows_it_and_keeps_the_head(monkeypatch):
    """The range a cut poll left is itself read within the poll's deadline: cut again, the cursor keeps the
    part still unread below the posts read, and the same head (what is newer is read once the range is)."""
    from monitor.sources import SourceState
    from tests.fakes.harness import collect

    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    with FakeX() as x:
        x.add(*[Tweet(i, f"acme post {i}") for i in range(1, 61)])
        _later_pages_slow(x)
        with Stopwatch() as sw:
            result = collect("twitter", {"query": "acme", "api_url": x.api_url, "page_size": 10},
                             SourceState(cursor={"since_id": "0", "until_id": "41", "head": "60"}),
                             deadline=DEADLINE_S)
    sw.assert_within(DEADLINE_S, 0.6, "a cut range read on a slow API")
    pages = len(result.mentions) // 10                   # 3 on an idle machine, then a cut
    assert 1 <= pages < 4
    oldest = 41 - 10 * pages
    assert sorted(int(m.external_id) for m in result.mentions) == list(range(oldest, 41))   # from 40 down
    assert result.cursor == {"since_id": "0", "until_id": str(oldest), "head": "60"}
    assert all("until_id=41" in r.query for r in x.requests)
    assert f"poll cut at the poll deadline (1.5s) after {pages} page(s)" in result.warnings[0]
