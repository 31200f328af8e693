"""`kind: inbound`: signed survey webhooks into the real daemon; forged, oversized, malformed and replayed ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from monitor.sources.kinds.inbound import InboundOptions, to_mention, verify
from tests.conftest import write_config
from tests.fakes.process import MonitorProcess, mentions_in
from tests.fakes.slack import TOKEN, FakeSlack

SECRET = "typeform-secret-abcdef0123456789"

# A Typeform `form_response` webhook as Typeform sends it (their webhook payload reference), trimmed.
TYPEFORM = {
    "event_id": "01HB7Q2N4D3R9Z8X6W5V4T3S2R",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15",
        "landed_at": "2026-11-29T04:00:00Z", "submitted_at": "2026-11-29T04:01:00Z",
        "hidden": {"email": "jane@example.com", "name": "Jane"},
        "definition": {"id": "lT4Z3j", "title": "How was your Acme order?"},
        "answers": [
            {"type": "number", "number": 2, "field": {"id": "nps01", "type": "opinion_scale", "ref": "nps"}},
            {"type": "text", "text": "Acme support was awful and rude, nobody answered for days.",
             "field": {"id": "why01", "type": "long_text", "ref": "why"}}]}}


def typeform_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SOURCE = """\
- id: nps
  kind: inbound
  path: /hooks/nps
  preset: typeform
  secret_env: TEST_TYPEFORM_SECRET
  rating_max: 10
  fields:
    text: form_response.answers.1.text
    rating: form_response.answers.0.number
    author: form_response.hidden.name
    contact: form_response.hidden.email
"""


def test_signed_survey_answer_is_an_alert_and_forged_oversized_malformed_replayed_are_refused(tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/nps"
    with FakeSlack() as slack:
        cfg, rules = write_config(tmp_path, slack_url=slack.api_url, sources=SOURCE,
                                  extra=f"inbound:\n  listen: 127.0.0.1:{port}\n  max_body: 4096\n")
        env = {"SLACK_BOT_TOKEN": TOKEN, "TEST_TYPEFORM_SECRET": SECRET}
        db = tmp_path / "monitor.db"
        with MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)], env=env,
                            unset=["SLACK_APP_TOKEN"]) as proc:
            proc.wait_for("inbound listener started")
            body = json.dumps(TYPEFORM).encode()

            forged = httpx.post(url, content=body, headers={"Typeform-Signature": typeform_signature(body, "wrong"),
                                                            "Content-Type": "application/json"})
            assert forged.status_code == 401 and mentions_in(db) == 0
            unsigned = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
            assert unsigned.status_code == 401 and mentions_in(db) == 0
            tampered = body.replace(b"awful", b"great")
            assert httpx.post(url, content=tampered, headers={"Typeform-Signature": typeform_signature(body)}
                              ).status_code == 401
            big = b'{"x": "' + b"a" * 5000 + b'"}'
            assert httpx.post(url, content=big, headers={"Typeform-Signature": typeform_signature(big)}
                              ).status_code == 413
            bad = b'{"event_id": "1", "form_response": '
            r = httpx.post(url, content=bad, headers={"Typeform-Signature": typeform_signature(bad)})
            assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
            assert mentions_in(db) == 0

            ok = httpx.post(url, content=body, headers={"Typeform-Signature": typeform_signature(body),
                                                        "Content-Type": "application/json"})
            assert ok.status_code == 200 and ok.json()["stored"] is True
            assert mentions_in(db) == 1                                   # stored before the 200
            again = httpx.post(url, content=body, headers={"Typeform-Signature": typeform_signature(body)})
            assert again.status_code == 200 and again.json()["stored"] is False
            assert mentions_in(db) == 1                                   # a replayed delivery is stored once

            deadline = time.monotonic() + 20
            while not slack.posts("#comms-alerts") and time.monotonic() < deadline:
                time.sleep(0.05)
            [post] = slack.posts("#comms-alerts")
            shown = json.dumps(post.args["blocks"], ensure_ascii=False)
            assert "nobody answered for days" in shown and "contact: jane@example.com" in shown
            assert "★☆☆☆☆" in shown                                     # 2/10 on a 1..5 scale
            proc.signal(signal.SIGTERM)
            assert proc.wait(30) == 0


@pytest.mark.parametrize("preset,headers", [
    ("surveymonkey", lambda b, s: {"Sm-Signature": base64.b64encode(hmac.new(s.encode(), b, hashlib.sha1).digest()).decode()}),
    ("intercom", lambda b, s: {"X-Hub-Signature": "sha1=" + hmac.new(s.encode(), b, hashlib.sha1).hexdigest()}),
    ("zendesk", lambda b, s: {"X-Zendesk-Webhook-Signature-Timestamp": "2026-11-29T04:00:00Z",
                              "X-Zendesk-Webhook-Signature": base64.b64encode(hmac.new(
                                  s.encode(), b"2026-11-29T04:00:00Z" + b, hashlib.sha256).digest()).decode(),
                              "X-Zendesk-Webhook-Invocation-Id": "inv-77"}),
    ("generic", lambda b, s: {"X-Signature-256": "sha256=" + hmac.new(s.encode(), b, hashlib.sha256).hexdigest(),
                              "X-Delivery-Id": "d-1"}),
])
def test_each_preset_checks_the_senders_own_signature(preset, headers):
    opts = InboundOptions.model_validate({"id": "x", "kind": "inbound", "path": "/h", "secret_env": "S",
                                          "preset": preset, "fields": {"text": "comment"}})
    body = b'{"id": "evt-1", "event_id": "evt-1", "comment": "Acme lost my parcel"}'
    good = {k.lower(): v for k, v in headers(body, "k3y").items()}
    assert verify(opts, "k3y", body, good)
    assert not verify(opts, "other", body, good)
    assert not verify(opts, "k3y", body + b" ", good)
    m = to_mention(opts, body, good)
    assert m.text == "Acme lost my parcel" and m.external_id in ("evt-1", "inv-77", "d-1")


def test_two_inbound_sources_on_one_path_is_a_config_error(tmp_path: Path):
    from monitor.config.settings import load_config
    from monitor.core.errors import ConfigValidationError

    cfg, _ = write_config(tmp_path, sources=SOURCE + SOURCE.replace("id: nps", "id: nps2"))
    with pytest.raises(ConfigValidationError) as exc:
        load_config(cfg)
    assert [str(i).split(" ", 1)[1] for i in exc.value.issues] == [
        'sources[1].path: path "/hooks/nps" is already used by source "nps" (each inbound source needs its own path)']
