"""Official connectors and inbound webhooks against real responses published by the platforms themselves.

Each recording in tests/data/recorded/ (origin and licence in SOURCES.md) is served unchanged from a local
127.0.0.1 server, or POSTed to the real inbound listener, and goes through the real collector; the tests
assert the mentions that come out. Kinds for which no usable real response was found are listed in
SOURCES.md with what was searched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

import httpx
import pytest

from monitor.core.model import Mention
from monitor.sources.auth import CACHE
from monitor.sources.kinds.inbound import InboundListener, InboundOptions
from tests.fakes.harness import collect
from tests.fakes.recorded import Replay, load, reply


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    CACHE.clear()
    yield
    CACHE.clear()


def test_googlebusiness_recorded_reviews_list_rating_only_and_translated(monkeypatch):
    """A reviews.list answer recorded from a real location: a 1-star review with a rating and no comment
    (no `comment` key at all, no `isAnonymous`), and a 5-star one whose comment is Google's
    "(Translated by Google) ... (Original) ..." form, with the owner's reply."""
    monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_ID", "1234-recorded.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_BUSINESS_CLIENT_SECRET", "GOCSPX-recorded")
    monkeypatch.setenv("GOOGLE_BUSINESS_REFRESH_TOKEN", "1//recorded-refresh")
    rec = load("googlebusiness_reviews_list.json")
    location = "accounts/106941250772149994434/locations/4547712559962801423"
    token = {"status": 200, "body": {"access_token": "ya29.recorded", "expires_in": 3599, "token_type": "Bearer",
                                     "scope": "https://www.googleapis.com/auth/business.manage"}}
    with Replay({("POST", "/token"): reply(token), ("GET", f"/v4/{location}/reviews"): reply(rec)}) as srv:
        result = collect("googlebusiness", {"location": location, "api_url": srv.url, "token_url": f"{srv.url}/token"})
    assert not result.warnings
    one, five = result.mentions
    assert (one.external_id, one.rating, one.text, one.author, one.url) == (
        "AbFvOqmfI-JoFLOEqmBN-JqT0BFKxGR5b5t9ZuutWki9hbnFnp6h_tWsI-8SajSWhxmvwAFBAAgH", 1.0, "", "Данил Бырзул", None)
    assert (one.published, one.raw["replied"]) == (1576774527.082, False)
    assert (five.external_id, five.rating, five.author, five.raw["replied"]) == (
        "AbFvOqkNhKOO17hiA6Dg1-HNrS6Vtjv71nAMxEdVXdIlVOC4xshndwUfGS9uSLgisU6T7hDMHMjsKg", 5.0, "Вячеслав Крот", True)
    assert five.text == "(Translated by Google) Tasty, satisfying and inexpensive\n\n(Original)\nВкусно, сытно и недорого"
    assert five.raw["name"] == f"{location}/reviews/{five.external_id}"
    assert result.cursor == {"since": 1599506866.84}
    grant, page = srv.requests
    assert "grant_type=refresh_token" in grant.body.decode() and "refresh_token=1%2F%2Frecorded-refresh" in grant.body.decode()
    assert page.headers["authorization"] == "Bearer ya29.recorded" and "orderBy=updateTime+desc" in page.query


def test_threads_documented_keyword_search_response(monkeypatch):
    """Meta's published keyword_search answer: `+0000` offsets, the permalink on threads.net, a username."""
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "THAAG-recorded-token")
    rec = load("threads_keyword_search_documented.json")
    with Replay({("GET", "/v1.0/keyword_search"): reply(rec)}) as srv:
        result = collect("threads", {"query": "First Thread", "api_url": srv.url})
    (m,) = result.mentions
    assert (m.external_id, m.text, m.author, m.url, m.published) == (
        "1234567890", "First Thread", "@threadsapitestuser",
        "https://www.threads.net/@threadsapitestuser/post/abcdefg", 1697521323.0)
    assert (m.rating, m.raw["media_type"], m.raw["reply"], m.raw["quote"]) == (None, "TEXT", False, False)
    assert result.cursor == {"since": 1697521323.0} and not result.warnings
    (req,) = srv.requests
    assert "q=First+Thread" in req.query and "search_type=RECENT" in req.query
    assert req.headers["authorization"] == "Bearer THAAG-recorded-token"


def _signed(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"Typeform-Signature": "sha256=" + base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}


def test_typeform_documented_webhook_through_the_inbound_listener():
    """Typeform's published `form_response` payload, POSTed signed to the real listener: the long-text answer
    is the text, the short-text answer the author, the email the contact, the 1-5 `rating` answer the stars,
    and the delivery id is Typeform's `event_id` (a replay is not stored twice)."""
    rec = load("typeform_webhook_documented.json")
    body = json.dumps(rec["body"]).encode()
    opts = InboundOptions.model_validate({
        "id": "survey", "kind": "inbound", "path": "/hooks/typeform", "secret_env": "TF_SECRET",
        "preset": "typeform", "rating_max": 5,
        "fields": {"text": "form_response.answers.0.text", "author": "form_response.answers.2.text",
                   "contact": "form_response.answers.1.email", "rating": "form_response.answers.10.number",
                   "title": "form_response.definition.title"}})
    stored: dict[str, Mention] = {}
    lock = threading.Lock()

    def accept(_opts: InboundOptions, m: Mention) -> bool:
        with lock:
            new = m.external_id not in stored
            stored.setdefault(m.external_id, m)
            return new

    listener = InboundListener([opts], "127.0.0.1", 0, 65536, accept, env={"TF_SECRET": "tf-s3cret"}).start()
    try:
        url = f"{listener.url}/hooks/typeform"
        forged = httpx.post(url, content=body, headers=_signed(body, "not-the-secret"))
        assert forged.status_code == 401 and not stored
        ok = httpx.post(url, content=body, headers=_signed(body, "tf-s3cret"))
        assert ok.status_code == 200 and ok.json() == {"ok": True, "stored": True, "id": "LtWXD3crgy"}
        again = httpx.post(url, content=body, headers=_signed(body, "tf-s3cret"))
        assert again.status_code == 200 and again.json()["stored"] is False
    finally:
        listener.stop()
    (m,) = stored.values()
    assert m.text == ("It's cold right now! I live in an older medium-sized city with a university. "
                      "Geographically, the area is hilly.")
    assert (m.author, m.raw["contact"], m.rating, m.raw["rating_raw"], m.title) == (
        "Laura", "laura@example.com", 3.0, 3, "Webhooks example")
