"""A source's OAuth token grant (client credentials, refresh, password: `sources.auth.grant`) never follows a
redirect and never repeats a secret its token endpoint quotes back.

Regression (round 23, a token endpoint's echo kept): `sources.api.check` put the endpoint's own error text
(`error_description`, `message`) in the source's error scrubbed of URL credentials only, so an endpoint quoting
the form it was sent ("client_secret … is not valid") had the secret stored in `sources.last_error` and
`disabled_reason`, shown by `monitor status`, sent to ops in the health notice, and logged (the handler's
filter scrubbed the line; caplog and any other handler saw it raw). Now the text is scrubbed where it is made
(and again by the one writer of `sources.last_error`), before it is cut.

Each row: what the local token server answers, what the source's error must still say. The client secret is
read from a variable whose name does not look like a secret (`ACME_RC`), so only the value registered when the
credential was read (`logs.add_secret`) can find it.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.core.clock import FakeClock
from monitor.core.errors import FetchError
from monitor.runtime.daemon import App, Paths
from monitor.sources.auth import CACHE, grant
from monitor.sources.fetch import HttpConfig
from tests.conftest import write_config
from tests.fakes.server import LocalServer, Reply, Request

SECRET = "rc-s3cr3t-0f-the-app-9a8b7c6d"
START = 1_800_000_000.0


def _json(status: int, body: object) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


ECHOES = [
    # (the token endpoint's answer, what the source's error says, the source disabled)
    (_json(401, {"error": "invalid_client", "error_description": f"client_secret {SECRET} is not valid"}),
     "Reddit token endpoint refused the credentials: HTTP 401 invalid_client: client_secret [REDACTED] is not "
     "valid", True),
    (_json(400, {"error": "invalid_grant", "error_description": f"bad form grant_type=client_credentials&"
                 f"client_secret={SECRET}"}),
     "Reddit token endpoint refused the credentials: HTTP 400 invalid_grant: bad form grant_type=client_"
     "credentials&client_secret=[REDACTED]", True),
    (_json(200, {"error": f"{SECRET} is wrong"}),          # Reddit's own shape: 200 and an error
     "Reddit token endpoint refused the credentials: [REDACTED] is wrong", True),
    (_json(500, {"message": f"internal error while checking {SECRET}"}),
     "Reddit token endpoint HTTP 500: internal error while checking [REDACTED]", False),
    (_json(429, {"error": "rate_limited", "error_description": f"slow down, {SECRET}"}),
     "Reddit token endpoint rate limit (HTTP 429, rate_limited: slow down, [REDACTED])", False),
]


@pytest.fixture(autouse=True)
def _fresh_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REDDIT_CLIENT_ID", "acme-client-id")
    monkeypatch.setenv("ACME_RC", SECRET)
    CACHE.clear()
    yield
    CACHE.clear()


def _app(tmp_path: Path, token_url: str) -> App:
    cfg, rules = write_config(tmp_path, sources=f"""\
        - id: rd
          kind: reddit
          query: acme
          api_url: {token_url}
          token_url: {token_url}/api/v1/access_token
          client_secret_env: ACME_RC
          every: 5m
          failure_alert_after: 1
    """, extra="# one host, polled at once\n  per_host_interval: 0\n")
    app = App(Paths(str(cfg), str(rules)), clock=FakeClock(START))
    app.poller.rng = random.Random(7)
    return app


def _said(app: App, outcome_error: str | None, caplog: pytest.LogCaptureFixture) -> str:
    """Everything a person or a log sees of the failure: the outcome, the row, the ops notice, our records raw
    (before any handler's filter; httpx's own DEBUG lines are the filter's to scrub, as test_logs pins)."""
    row = app.store.one("SELECT last_error, disabled_reason FROM sources WHERE id = 'rd'") or {}
    notices = [r["payload"] for r in app.store.query("SELECT payload FROM deliveries WHERE kind = 'notice'")]
    records = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("monitor")]
    return json.dumps([outcome_error, row, notices, records])


@pytest.mark.parametrize(("answer", "want", "disabled"), ECHOES,
                         ids=["401-invalid_client", "400-invalid_grant", "200-error", "500-message", "429"])
def test_a_token_endpoint_quoting_the_client_secret_is_not_quoted_anywhere(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, answer: Reply, want: str, disabled: bool) -> None:
    with LocalServer(lambda req: answer) as token:
        app = _app(tmp_path, token.url)
        try:
            with caplog.at_level(logging.DEBUG, logger="monitor"):
                out = app.poll("rd")
            assert [r.path for r in token.requests] == ["/api/v1/access_token"]
            sent = base64.b64decode(token.requests[0].headers["authorization"].removeprefix("Basic "))
            assert sent == f"acme-client-id:{SECRET}".encode()          # the secret the endpoint quotes back
            row = app.store.one("SELECT last_error, disabled_reason FROM sources WHERE id = 'rd'") or {}
            assert out.error == want and row["last_error"] == want, (out.error, row)
            assert (row["disabled_reason"] == want) is disabled, row
            assert SECRET not in _said(app, out.error, caplog)
        finally:
            app.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_token_endpoint_redirecting_the_grant_is_not_followed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int) -> None:
    """The grant's POST carries the client credentials: a redirect, to another origin here (`allow_private` on,
    so the address policy would let it), is not followed whatever the status; the source's error names the
    Location (its `?token=` scrubbed) and says to configure the final URL."""
    with LocalServer(lambda req: _json(200, {"access_token": "stolen", "expires_in": 3600})) as other:
        def redirect(req: Request) -> Reply:
            return Reply(status, b"", {"Location": f"{other.url}/token?token={SECRET}", "Content-Length": "0"})
        with LocalServer(redirect) as token:
            app = _app(tmp_path, token.url)
            try:
                with caplog.at_level(logging.DEBUG, logger="monitor"):
                    out = app.poll("rd")
                assert other.requests == [] and len(token.requests) == 1
                assert out.error == (f"Reddit token endpoint answered a redirect (HTTP {status}) to {other.url}/token"
                                     "?token=[REDACTED] to a credentialed call; not followed (configure the final"
                                     " URL)"), out.error
                assert SECRET not in _said(app, out.error, caplog)
            finally:
                app.close()


def test_a_grant_through_a_client_built_to_follow_redirects_still_does_not_follow() -> None:
    """`sources.api.request` says `follow_redirects=False` on every request: the client it is handed (the
    collectors' and the responders' do not follow; a future one might) cannot send client_secret on."""
    with LocalServer(lambda req: _json(200, {"access_token": "stolen", "expires_in": 3600})) as other, \
            LocalServer(lambda req: Reply(307, b"", {"Location": f"{other.url}/token"})) as token, \
            httpx.Client(follow_redirects=True) as client:
        with pytest.raises(FetchError, match=r"answered a redirect \(HTTP 307\)"):
            grant(client, HttpConfig(allow_private=True), f"{token.url}/token",
                  {"grant_type": "client_credentials", "client_secret": SECRET}, key="k", now=START, source_id="rd",
                  api_name="Reddit", trusted=[token.url, other.url])
    assert other.requests == [] and len(token.requests) == 1
