"""A reply's token grant runs under the deployment's `http:` and inside its attempt: the attempt's deadline, the
address policy of the endpoints monitor.yaml configures.

Regression (round 22): `respond/official.py` fetched tokens with a fixed `HttpConfig()`, and `sources.api`
trusted whatever URL it was handed. So a service-account key whose `token_uri` named an internal host nobody
configured got the signed assertion sent there with `http.allow_private` off, and a token endpoint trickling
its answer held the attempt for its own 60 s deadline (the attempt's watchdog does not reach a socket of a
guard opened inside it), past `http.deadline` and towards the end of the reply's claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from monitor.respond.attempt import bounded, cut_short, refusal
from monitor.respond.posters import Poster, ReplyTransient, poster_for
from monitor.sources import REGISTRY
from monitor.sources.auth import CACHE
from monitor.sources.fetch import HttpConfig
from monitor.store.database import dumps
from tests.fakes.google import FakeGoogle, PlayReview, service_account_key
from tests.fakes.server import LocalServer, Reply
from tests.timing import Stopwatch

GRANTED = Reply(200, b'{"access_token": "ya29.rogue", "expires_in": 3600}', {"Content-Type": "application/json"})
ROW = {"external_id": "gp:AOqp1", "raw": dumps({"package": "com.acme.app"}), "source_kind": "googleplay"}


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    CACHE.clear()
    yield
    CACHE.clear()


def _play(g: FakeGoogle, http: HttpConfig, **values: str) -> Poster:
    g.play["com.acme.app"] = [PlayReview("gp:AOqp1", "Crashes on start", 1)]
    opts = REGISTRY["googleplay"].Options.model_validate(
        {"id": "play", "kind": "googleplay", "package_name": "com.acme.app", "api_url": g.url, **values})
    cls = poster_for("googleplay")
    assert cls is not None
    return cls(opts, httpx.Client(), http)


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_key_file_token_uri_on_an_unconfigured_internal_host_is_refused(
        monkeypatch: pytest.MonkeyPatch, allow_private: bool) -> None:
    """The key's `token_uri` is another port on loopback, not in monitor.yaml: refused before a byte is sent
    (the reply then fails for good as refused, see test_respond_address_policy); with `allow_private` the
    grant goes there, as asked."""
    with FakeGoogle() as g, LocalServer(lambda req: GRANTED) as rogue:
        key = json.loads(service_account_key(g))
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", json.dumps({**key, "token_uri": f"{rogue.url}/token"}))
        http = HttpConfig(allow_private=allow_private)
        poster = _play(g, http)
        with bounded(http, poster.endpoints()) as guard:
            with pytest.raises(Exception):  # noqa: B017 - refused: transient here; allowed: the fake's 401
                poster.post(ROW, "Sorry! 1.2.1 fixes it.", "k")
        if allow_private:
            assert [r.path for r in rogue.requests][:1] == ["/token"] and refusal(guard, "monitor.yaml") is None
        else:
            assert rogue.requests == [] and g.play_replies == []
            why = refusal(guard, "monitor.yaml")
            assert why is not None and why.startswith("refused to connect to 127.0.0.1: not a public address"), why


def test_a_configured_token_url_on_loopback_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The twin: the key's `token_uri` is the configured fake (same origin as `api_url`): the reply is made."""
    with FakeGoogle() as g:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(g))
        http = HttpConfig()
        poster = _play(g, http)
        with bounded(http, poster.endpoints()):
            poster.post(ROW, "Sorry! 1.2.1 fixes it.", "k")
        assert len(g.play_replies) == 1


def test_a_slow_token_endpoint_is_cut_at_the_attempt_s_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """`http.deadline: 1.5s`, a configured `token_url` that answers after 6 s: the attempt ends at its
    deadline, said as the deadline (before: after the 6 s, under the grant's own fixed 60 s deadline)."""
    with FakeGoogle() as g, LocalServer(lambda req: Reply(200, GRANTED.body, GRANTED.headers, delay=6.0)) as slow:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(g))
        http = HttpConfig(deadline=1.5, allow_private=False)
        poster = _play(g, http, token_url=f"{slow.url}/token")
        with Stopwatch() as sw, bounded(http, poster.endpoints()) as guard:
            with pytest.raises(ReplyTransient) as caught:
                poster.post(ROW, "Sorry! 1.2.1 fixes it.", "k")
        sw.assert_within(1.5, 1.0, "an attempt whose token endpoint trickles")
        assert guard.fired and cut_short(guard, http, str(caught.value)) == (
            "no complete answer within http.deadline (1.5s)")
        assert [r.path for r in slow.requests] == ["/token"] and g.play_replies == []


def test_regression_a_token_grant_late_in_the_attempt_ends_at_the_attempt_s_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The attempt has spent 1 s of its 1.5 s on an earlier request when the grant starts; the token endpoint
    then stalls. The attempt still ends at 1.5 s, not at 1 s + the grant's own 1.5 s deadline. Pinned in
    core/netguard (a nested guard is cut at the enclosing deadline), which made `attempt.within` (passing the
    attempt's remaining time down as the grant's deadline) redundant: it is gone."""
    with FakeGoogle() as g, LocalServer(lambda req: Reply(200, GRANTED.body, GRANTED.headers, delay=6.0)) as slow, \
            LocalServer(lambda req: Reply(200, b"{}", {"Content-Type": "application/json"}, delay=1.0)) as first:
        monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(g))
        http = HttpConfig(deadline=1.5, allow_private=False)
        poster = _play(g, http, token_url=f"{slow.url}/token")
        with Stopwatch() as sw, bounded(http, [*poster.endpoints(), first.url]) as guard, httpx.Client() as client:
            assert client.get(first.url + "/earlier").status_code == 200
            with pytest.raises(ReplyTransient):
                poster.post(ROW, "Sorry! 1.2.1 fixes it.", "k")
        sw.assert_within(1.5, 0.5, "an attempt whose token grant starts late and stalls")
        assert guard.fired and [r.path for r in slow.requests] == ["/token"] and g.play_replies == []
