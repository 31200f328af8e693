"""An X poll cut by a 429 or a failed page after some pages keeps the pages read, as a deadline cut does.

Regression (round 23): only the poll's deadline kept the pages already read; a 429 on page 3 or a 503 on page
2 failed the whole poll, so the pages read (and paid for) were thrown away and read again. Now every cut is
one rule: the pages read are stored, the cursor keeps the unread range (`since_id` < id < `until_id`, then
`head`) for the next poll to read first, and a 429 still backs the source off until X's `x-rate-limit-reset`
(the real tweepy client against the local X API, through the real poller and store)."""

from __future__ import annotations

from monitor.core.clock import iso
from tests import test_twitter_poll_deadline as deadline_tests
from tests.fakes.twitter import Tweet, unavailable

x_app = deadline_tests.x_app          # the real App with one X source paging 10 posts at a time
START = deadline_tests.START
_stored, _cursor = deadline_tests._stored, deadline_tests._cursor


def _first_poll_then_five_pages(app, x) -> None:
    x.add(Tweet(1, "acme first"))
    assert app.poll("x-acme", force=True).ok and _cursor(app) == {"since_id": "1"}
    x.add(*[Tweet(i, f"acme post {i}") for i in range(2, 52)])          # 5 pages of 10, newest first
    x.requests.clear()


def _source(app) -> dict:
    return app.store.one("SELECT * FROM sources WHERE id = 'x-acme'")


def test_regression_a_429_on_page_3_keeps_pages_1_and_2_and_backs_off_until_the_reset(x_app):
    app, x = x_app
    _first_poll_then_five_pages(app, x)
    x.remaining, x.reset_at = 2, int(START) + 900                       # the window's quota ends after 2 pages
    out = app.poll("x-acme", force=True)
    assert out.ok and out.partial and out.new == 20
    assert _stored(app) == [1, *range(32, 52)]                           # pages 1 and 2, not thrown away
    assert _cursor(app) == {"since_id": "1", "until_id": "32", "head": "51"}
    row = _source(app)
    assert row["next_run"] == START + 900 and row["consecutive_failures"] == 0   # X's reset, not a failure
    assert ("poll cut after 2 page(s) by: X API rate limit (429); the older posts are read at the next poll, "
            f"after the reset at {iso(START + 900)}") in row["last_error"]
    assert "backing off until" in app.poll("x-acme").skipped             # the daemon's poll waits for it

    app.clock.advance(901)                                              # the window resets
    x.remaining = 10_000
    x.add(*[Tweet(i, f"acme new {i}") for i in range(52, 55)])
    x.requests.clear()
    assert app.poll("x-acme", force=True).ok
    assert all("since_id=1&" in r.query + "&" for r in x.requests if "until_id=32" in r.query)
    assert _stored(app) == list(range(1, 55))                            # each post once: none lost, none twice
    assert app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 54
    assert _cursor(app) == {"since_id": "54"} and _source(app)["next_run"] is None


def test_regression_a_503_on_page_2_keeps_page_1_and_the_next_poll_reads_the_rest(x_app):
    app, x = x_app
    _first_poll_then_five_pages(app, x)
    x.page_faults[1] = unavailable()
    out = app.poll("x-acme", force=True)
    assert out.ok and out.partial and out.new == 10
    assert _stored(app) == [1, *range(42, 52)]
    assert _cursor(app) == {"since_id": "1", "until_id": "42", "head": "51"}
    row = _source(app)
    assert "poll cut after 1 page(s) by: X API HTTP 503: Service Unavailable" in row["last_error"]
    assert row["next_run"] is None                                       # no reset asked for: the usual schedule

    x.requests.clear()
    assert app.poll("x-acme", force=True).ok
    assert _stored(app) == list(range(1, 52))
    assert app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 51
    assert _cursor(app) == {"since_id": "51"}


def test_a_429_on_the_first_page_still_fails_the_poll_and_backs_off(x_app):
    """Nothing read: the 429 is the poll's failure (as before), rescheduled at X's reset; the cursor is kept."""
    app, x = x_app
    _first_poll_then_five_pages(app, x)
    x.remaining, x.reset_at = 0, int(START) + 600
    out = app.poll("x-acme", force=True)
    assert not out.ok and out.error == "X API rate limit (429)"
    assert _cursor(app) == {"since_id": "1"} and _stored(app) == [1]
    row = _source(app)
    assert row["next_run"] == START + 600 and row["consecutive_failures"] == 1


def test_a_429_while_reading_a_cut_range_narrows_it_and_keeps_the_head(x_app):
    """The range a cut poll left, itself cut by a 429: the part read is stored, the cursor keeps the rest."""
    app, x = x_app
    _first_poll_then_five_pages(app, x)
    x.page_faults[1] = unavailable()
    assert app.poll("x-acme", force=True).ok                             # page 1 read: range 1 < id < 42 left
    x.remaining, x.reset_at = 1, int(START) + 900                        # one page of the range, then 429
    out = app.poll("x-acme", force=True)
    assert out.ok and out.partial and out.new == 10
    assert _cursor(app) == {"since_id": "1", "until_id": "32", "head": "51"}
    assert _source(app)["next_run"] == START + 900
    app.clock.advance(901)
    x.remaining = 10_000
    assert app.poll("x-acme", force=True).ok
    assert _stored(app) == list(range(1, 52)) and _cursor(app) == {"since_id": "51"}
