"""Every hostile server against every transport the product has: one table (issue 18).

Rows (`tests/fakes/hostile.py`): a trickling body, a huge body, a double-gzip bomb, a never-ending SSE line,
redirects into an internal service (127.0.0.2), a CGNAT metadata address and a ws:// URL, and a server that
never sends its headers. Columns: every source kind (through its real client: httpx, tweepy's requests,
the SSE stream and its back-fill, websockets) and both Slack senders (slack_sdk's urllib).

Each cell must: end within a bound however the server behaves, fail (or report a warning) instead of
succeeding, stay within a memory bound, and never reach the internal canary. A new source kind fails
`test_every_kind_is_in_the_table` until it is given one line in KINDS, and then gets every row for free.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from monitor.core.clock import SystemClock
from monitor.core.errors import MonitorError
from monitor.notify.senders import SlackSender
from monitor.notify.webhook import WebhookSender
from monitor.sources import REGISTRY, SourceState
from monitor.sources.fetch import HttpConfig, make_client
from tests.fakes.hostile import Canary, Hostile, HostileServer, hostiles
from tests.fakes.slack import TOKEN
from tests.fakes.twitter import BEARER
from tests.timing import Stopwatch

LIMITS = {"connect_timeout": 0.8, "read_timeout": 0.8, "deadline": 1.0, "max_bytes": 1_000_000,
          "allow_private": False, "per_host_interval": 0}
TIME_BOUND_S = 6.0           # deadline 1 s (+ the idle timeout of a stream, + slack's timeout + 1)
OUR_SLACK_S = 1.0            # of which our own work (the + 1): scaled by the machine's load (tests/timing.py)
MEMORY_BOUND = 48 * 1024 * 1024

# kind -> options pointing the kind at `url` (one line per kind; `cursor` for the streams' back-fill)
KINDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "rss": lambda url: {"url": url + "/feed.xml"},
    "reviews": lambda url: {"url": url + "/reviews"},
    "reddit": lambda url: {"query": "acme", "api_url": url},
    "hackernews": lambda url: {"query": "acme", "api_url": url},
    "bluesky": lambda url: {"query": "acme", "api_url": url},
    "mastodon": lambda url: {"instances": [url], "tags": ["acme"]},
    "appstore": lambda url: {"app_id": "284882215", "api_url": url},
    "twitter": lambda url: {"query": "acme", "api_url": url},
    "mastodon-stream": lambda url: {"instance": url, "hashtag": "acme", "idle_timeout": 1.0},
    "jetstream": lambda url: {"url": url.replace("http://", "ws://") + "/subscribe", "idle_timeout": 1.0},
    "googleplay": lambda url: {"package_name": "com.acme.app", "api_url": url, "token_url": url + "/token"},
    "appstoreconnect": lambda url: {"app_id": "1234567890", "api_url": url},
    "youtube": lambda url: {"channel_id": "UC_x5XG1OV2P6uZZ5FSM9Ttw", "api_url": url},
    "googlebusiness": lambda url: {"location": "accounts/1/locations/2", "api_url": url, "token_url": url + "/token"},
    "trustpilot": lambda url: {"business_unit_id": "46d6a890000064000500e0c3", "api_url": url},
    "facebook": lambda url: {"page_id": "104000000000001", "api_url": url},
    "threads": lambda url: {"query": "acme", "api_url": url},
    "imap": lambda url: {"host": "127.0.0.1", "port": int(url.rsplit(":", 1)[1]), "timeout": 1.0},
}

# protocols with no redirects: a hostile HTTP answer (a 302 included) is simply not their protocol
NO_REDIRECTS = {"kind:imap"}

# kinds that open no connection of their own: nothing for a hostile server to attack from this side
NOT_CLIENTS: dict[str, str] = {
    "inbound": "a listener for signed webhooks (its hostile inputs are in tests/test_inbound.py)",
}


def _kind(kind: str) -> Callable[[str], Any]:
    def run(url: str) -> Any:
        cls = REGISTRY[kind]
        opts = cls.Options.model_validate({"id": f"hostile-{kind}", "kind": kind, **KINDS[kind](url)})
        cfg = HttpConfig(**LIMITS)
        if getattr(cls, "read", None) and not hasattr(cls, "collect"):
            return _stream(cls(opts, SystemClock(), cfg))
        with make_client(cfg) as client:
            return cls(opts, client, SystemClock(), cfg).collect(SourceState())
    return run


def _stream(source: Any) -> list[Any]:
    """Live (a connection, read until it fails) and, for kinds with one, the cron-mode back-fill."""
    events: list[Any] = []
    stop = threading.Event()
    started = time.monotonic()
    for ev in source.read(None, lambda text: True, stop):
        events.append(ev)
        if time.monotonic() - started > TIME_BOUND_S * 2:
            raise AssertionError("the stream neither failed nor ended")
    return events


def _backfill(url: str) -> Any:
    cls = REGISTRY["mastodon-stream"]
    opts = cls.Options.model_validate({"id": "hostile-backfill", "kind": "mastodon-stream", "instance": url,
                                       "hashtag": "acme", "once_budget": 1.0})
    src = cls(opts, SystemClock(), HttpConfig(**{**LIMITS, "deadline": 30.0}))   # once_budget bounds it
    return list(src.read("110000000000000000", lambda text: True, threading.Event(), catch_up_to=time.time()))


def _slack(url: str) -> Any:
    return SlackSender(TOKEN, url + "/api/", timeout=1).post("#alerts", {"text": "hello"})


def _webhook(url: str) -> Any:
    return WebhookSender(url + "/services/T0/B0/x", timeout=1).post("#alerts", {"text": "hello"})


TRANSPORTS: dict[str, Callable[[str], Any]] = {
    **{f"kind:{k}": _kind(k) for k in KINDS},
    "mastodon-stream:backfill": _backfill,
    "slack:web-api": _slack,
    "slack:webhook": _webhook,
}


@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


def _keys() -> dict[str, str]:
    """Credentials for the kinds that need them: the hostile server answers every request, token ones too."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key: Any) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    account = {"type": "service_account", "project_id": "acme-prod", "private_key_id": "k1",
               "private_key": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
               "client_email": "monitor@acme-prod.iam.gserviceaccount.com", "client_id": "1",
               "token_uri": "http://127.0.0.1:9/token"}
    return {"TWITTER_BEARER_TOKEN": BEARER, "GOOGLE_PLAY_SERVICE_ACCOUNT": json.dumps(account),
            "APPSTORE_CONNECT_KEY_ID": "2X9R4HXF34", "APPSTORE_CONNECT_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
            "APPSTORE_CONNECT_PRIVATE_KEY": pem(ec.generate_private_key(ec.SECP256R1())),
            "YOUTUBE_API_KEY": "AIzaSyFAKE-key-0123456789", "GOOGLE_BUSINESS_CLIENT_ID": "cid.apps.googleusercontent.com",
            "GOOGLE_BUSINESS_CLIENT_SECRET": "GOCSPX-secret-value", "GOOGLE_BUSINESS_REFRESH_TOKEN": "1//refresh",
            "TRUSTPILOT_API_KEY": "tp-key-1234567", "FACEBOOK_PAGE_TOKEN": "EAAG-page-token-123456",
            "THREADS_ACCESS_TOKEN": "THQW-token-123456", "IMAP_USER": "ann", "IMAP_PASSWORD": "secret"}


KEYS = _keys()


@pytest.fixture(autouse=True)
def _tokens(monkeypatch):
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


def test_every_kind_is_in_the_table():
    missing = set(REGISTRY) - set(KINDS) - set(NOT_CLIENTS)
    assert not missing, f"add the new kind(s) to KINDS: {missing}"


# the rows that wait for a deadline take a second or two each: `-m "not slow"` skips them
ROWS = [pytest.param(h, id=h.name, marks=[pytest.mark.slow] if h.slow else []) for h in hostiles()]


@pytest.mark.parametrize("hostile", ROWS)
@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_hostile_server(transport: str, hostile: Hostile, canary: Canary):
    before = len(canary.requests)
    with HostileServer(hostile, canary) as srv:
        tracemalloc.start()
        try:
            with Stopwatch() as sw:
                outcome: Any = TRANSPORTS[transport](srv.url)
                error = None
        except MonitorError as exc:
            outcome, error = None, exc
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    sw.assert_within(TIME_BOUND_S - OUR_SLACK_S, OUR_SLACK_S, f"{transport} against {hostile.name}")
    assert peak < MEMORY_BOUND, f"{transport} peaked at {peak / 1e6:.0f} MB against {hostile.name}"
    assert len(canary.requests) == before, f"{transport} reached the internal service via {hostile.name}"
    if error is None and not (transport == "slack:webhook" and hostile.name == "gzip-bomb"):
        # no exception: the hostile answer must still show as a failure. (A webhook's HTTP 200 is its whole
        # answer; the few compressed bytes of the bomb are read as text, never inflated.)
        assert _reported(outcome), f"{transport} took {hostile.name} for a success: {outcome!r}"[:500]
    if hostile.name.startswith("redirect") and error is not None and transport not in NO_REDIRECTS:
        # refused, or not followed at all
        assert any(w in str(error).lower() for w in ("refused", "302", "redirect")), str(error)


def _reported(outcome: Any) -> bool:
    """A collector may keep going past a bad page (partial result): then it must say so in warnings; a stream
    that ended must have counted the junk as malformed; nothing hostile may become a mention."""
    if outcome is None:
        return False
    if hasattr(outcome, "mentions"):
        return not outcome.mentions and bool(outcome.warnings)
    if isinstance(outcome, list):
        from monitor.sources.stream import Item
        return not any(isinstance(e, Item) and e.mention is not None for e in outcome)
    return False
