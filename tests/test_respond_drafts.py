"""Reply drafts, rules validation of replies/approval/actions, Mark replied, approval from the CLI, the
view_submission over the signed HTTP endpoint, and time to first response in the digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from monitor.alerting.digest import build, render
from monitor.alerting.interactive import Actions, Hooks, HttpEndpoint
from monitor.config.rules import load_rules, rules_from
from monitor.config.settings import config_from
from monitor.core import logs
from monitor.core.errors import ConfigValidationError, MonitorError
from monitor.core.yamlfile import parse_yaml
from monitor.respond.drafts import Context, TooLong, choose, draft_for, first_name, fit
from monitor.respond.replies import ReplyService
from monitor.respond.slack import ReplyModal
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.conftest import RULES
from tests.fakes.slack import TOKEN, FakeSlack

TEMPLATES = """\
replies:
  - text: "generic {first_name}"
  - text: "acme {first_name}"
    brand: acme
  - text: "acme outage {brand}"
    brand: acme
    issue: outage
  - text: "hola {first_name}"
    brand: acme
    language: es
"""


def _rules(extra: str = TEMPLATES) -> Any:
    return rules_from(parse_yaml(RULES + extra, "rules.yaml"))


def _ctx(**kw: Any) -> Context:
    base = {"author": "@jane@example.social", "first_name": "jane", "brand": "acme", "issue": "", "alert_id": 1,
            "url": "", "source": "mastodon", "language": "en"}
    return Context(**{**base, **kw})


def test_the_most_specific_template_wins():
    rules = _rules()
    assert choose(rules.replies, _ctx()).text == "acme {first_name}"
    assert choose(rules.replies, _ctx(issue="outage")).text == "acme outage {brand}"
    assert choose(rules.replies, _ctx(language="es")).text == "hola {first_name}"
    assert choose(rules.replies, _ctx(brand="other")).text == "generic {first_name}"
    assert draft_for(rules, {"id": 3, "brand": "acme", "issue": "outage"}, {"author": "Jane Doe <j@x>"}) == \
        "acme outage acme"


@pytest.mark.parametrize("author,name", [("Jane Doe <jane@x.com>", "Jane"), ("@jane@example.social", "jane"),
                                         ("", "there"), ("@bob", "bob")])
def test_first_name(author, name):
    assert first_name(author) == name


def test_too_long_is_refused_never_cut():
    assert fit("  ok  ", "mastodon") == "ok"
    with pytest.raises(TooLong, match="281 characters; twitter allows at most 280"):
        fit("a" * 281, "twitter")


@pytest.mark.parametrize("extra,expected", [
    ('replies:\n  - text: "Hi {frist_name}"\n', 'replies[0].text: unknown placeholder "{frist_name}"'),
    ("reply_approval:\n  acme: head-of-coms\n", 'reply_approval.acme: unknown owner "head-of-coms"'),
    ("actions:\n  j:\n    kind: jira\n    url: https://x.atlassian.net\n    token_env: T\n    user_env: U\n",
     "actions.j: a jira action needs project:"),
])
def test_rules_errors_name_the_line_and_key(tmp_path: Path, extra: str, expected: str):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + extra)
    with pytest.raises(ConfigValidationError) as exc:
        load_rules(path)
    [issue] = [str(i) for i in exc.value.issues]
    line = len(RULES.splitlines()) + 2                                # the line of the offending key
    assert issue.startswith(f"{path}:{line} ") and expected in issue


def test_a_route_naming_an_unknown_action_is_an_error(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("    notify: support-lead\n", "    notify: support-lead\n    actions: [jria]\n")
                    + "actions:\n  jira:\n    kind: webhook\n    url: https://hooks.example/x\n")
    with pytest.raises(ConfigValidationError) as exc:
        load_rules(path)
    assert any('routes[1].actions[0]: unknown action "jria" (did you mean "jira"?)' in str(i)
               for i in exc.value.issues)


def _service(store: Store, extra: str = "") -> ReplyService:
    config = config_from(parse_yaml("brands:\n  acme: {query: acme}\n", "monitor.yaml"))
    rules = _rules(TEMPLATES + extra)
    return ReplyService(store, lambda: rules, config, store.clock)


def test_mark_replied_for_a_news_mention_sets_the_first_response(fresh_db: Store):
    alert_id = make_alert(fresh_db)                                    # an rss mention: nothing to post to
    svc = _service(fresh_db)
    target, _ = svc.draft(alert_id)
    assert not target.postable
    with pytest.raises(Exception, match="cannot be posted from here"):
        svc.submit(alert_id, "hello", "amy")
    fresh_db.clock.advance(90)   # type: ignore[attr-defined]
    r = svc.mark(alert_id, "https://news.example/comments#42", "amy")
    row = fresh_db.one("SELECT first_response_at - created_at AS t, first_response_by FROM alerts WHERE id = ?",
                       (alert_id,))
    assert r.state == "marked" and row["t"] == pytest.approx(90) and row["first_response_by"] == "amy"
    svc.mark(alert_id, None, "bob")                                   # a second response is not the first
    assert fresh_db.one("SELECT first_response_by FROM alerts")["first_response_by"] == "amy"
    notes = json.dumps([r["payload"] for r in fresh_db.query("SELECT payload FROM deliveries")])
    assert "https://news.example/comments#42" in notes


def test_digest_shows_the_median_time_to_first_response(fresh_db: Store):
    a = make_alert(fresh_db)
    fresh_db.clock.advance(600)  # type: ignore[attr-defined]
    _service(fresh_db).mark(a, None, "amy")
    now = fresh_db.now()
    d = build(fresh_db, "comms-oncall", "today", now - 86400, now + 1)
    assert d.median_response == pytest.approx(600)
    assert "Median time to first response:* 10m (1 answered)" in json.dumps(render(d, fresh_db))


def test_the_approver_replying_needs_no_approval_and_others_do(fresh_db: Store):
    a = make_alert(fresh_db, source=("fedi", "mastodon"), raw={"id": "1", "instance_url": "http://127.0.0.1:9"})
    svc = _service(fresh_db, "reply_approval:\n  acme: head-of-comms\n")
    assert svc.submit(a, "hi", "amy").state == "awaiting_approval"
    assert svc.submit(a, "hi", "slack:U0HEAD").state == "approved"     # head-of-comms is @U0HEAD
    ask = fresh_db.one("SELECT channel, payload FROM deliveries WHERE dedupe_key LIKE 'reply:%'")
    assert ask["channel"] == "U0HEAD" and "reply_approve" in ask["payload"]
    waiting = fresh_db.one("SELECT id FROM replies WHERE state = 'awaiting_approval'")["id"]
    with pytest.raises(Exception, match="only head-of-comms can approve or reject reply"):
        svc.decide(waiting, True, "slack:U0CA5")                       # someone else in Slack
    assert svc.decide(waiting, True, "slack:U0HEAD").state == "approved"


# -- view_submission over the signed HTTP endpoint ----------------------------------------------------------

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@contextmanager
def _modal_endpoint(store: Store, slack: FakeSlack) -> Iterator[HttpEndpoint]:
    """The signed HTTP endpoint Slack posts view submissions to, with the Reply modal's hooks."""
    modal = ReplyModal(_service(store), TOKEN, slack.api_url)
    ep = HttpEndpoint("127.0.0.1:0", "/slack/actions", SECRET,
                      Actions(store, store.clock, slack.api_url, hooks=modal.hooks()), store.clock).start()
    try:
        yield ep
    finally:
        ep.stop()


def _view(alert_id: int, mode: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "mention_monitor_reply",
            "private_metadata": json.dumps({"alert_id": alert_id, "mode": mode}), "state": {"values": values}}


def _signed(url: str, payload: dict[str, Any], store: Store) -> httpx.Response:
    """POST `payload` to the endpoint as Slack does: form-encoded, signed with the signing secret."""
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(store.clock.now()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return httpx.post(url, content=body, headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                                                  "Content-Type": "application/x-www-form-urlencoded"})


def test_view_submission_over_http_answers_errors_in_the_response(fresh_db: Store, fake_slack: FakeSlack):
    a = make_alert(fresh_db, source=("fedi", "mastodon"), raw={"id": "1", "instance_url": "http://127.0.0.1:9"})
    with _modal_endpoint(fresh_db, fake_slack) as ep:
        view = _view(a, "reply", {"reply_text": {"text": {"type": "plain_text_input", "value": "x" * 600}}})
        payload = {"type": "view_submission", "user": {"id": "U0CA5"}, "view": view}

        def post() -> httpx.Response:
            return _signed(ep.url, payload, fresh_db)
        r = post()
        assert r.status_code == 200 and r.json()["response_action"] == "errors"
        assert "600 characters" in r.json()["errors"]["reply_text"]
        view["state"]["values"]["reply_text"]["text"]["value"] = "Sorry!"
        r = post()
        assert r.status_code == 200 and r.content == b""                   # closes the modal
        assert fresh_db.one("SELECT text, author, state FROM replies") == {"text": "Sorry!", "author": "slack:U0CA5",
                                                                            "state": "approved"}


def test_monitor_approve_from_the_terminal(tmp_path: Path):
    import os
    import subprocess
    import sys

    from tests.conftest import write_config
    from tests.fakes.mastodon import FakeMastodon

    with FakeMastodon(write_token="w") as masto:
        cfg, rules = write_config(tmp_path, rules=RULES + "reply_approval:\n  acme: head-of-comms\n", sources=f"""\
            - id: fedi
              kind: mastodon
              instances: [{masto.url}]
              tags: [acme]
              token_env: TEST_W
              enabled: false
        """)
        store = Store(tmp_path / "monitor.db")
        st = masto.post("acme broke")
        a = make_alert(store, source=("fedi", "mastodon"), raw={"id": st["id"], "instance_url": masto.url})
        store.close()
        env = {**os.environ, "TEST_W": "w"}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "monitor", *args, "--config", str(cfg), "--rules", str(rules)],
                                  capture_output=True, text=True, env=env, timeout=60)
        out = cli("reply", str(a), "Sorry, please DM us", "--by", "amy")
        assert out.returncode == 0 and "waits for approval by head-of-comms" in out.stdout
        assert masto.replies == []
        out = cli("approve", "1", "--text", "We are sorry, please DM us", "--by", "head-of-comms")
        assert out.returncode == 0, out.stderr
        assert [r["form"]["status"] for r in masto.replies] == ["We are sorry, please DM us"]
        assert out.stdout.strip() == masto.replies[0]["status"]["url"]
        again = cli("approve", "1")
        assert again.returncode == 1 and "reply #1 is posted, not awaiting approval" in again.stderr


LINK_SECRET = "mark-link-s3cret-4f9e2a7c"


@pytest.mark.parametrize(("link", "absent", "shown"), [
    ("ftp://amy:hunter2-pass@files.example/r", "hunter2-pass", '"ftp://[REDACTED]@files.example/r" is not an http(s) link'),
    (f"javascript:alert('{LINK_SECRET}')", LINK_SECRET, "javascript:alert('[REDACTED]')"),
    ("<!channel> <https://evil.example|click here>", "<", "&lt;!channel&gt; &lt;https://evil.example|click here&gt;"),
], ids=["userinfo", "registered-secret", "mrkdwn"])
def test_the_reply_modal_s_error_is_scrubbed_and_escaped(fresh_db: Store, fake_slack: FakeSlack, link: str,
                                                         absent: str, shown: str) -> None:
    """Regression (round 23, the modal's error said raw): a refusal under the modal's field was `str(exc)` as it
    was, so the link typed into Mark replied came back with its credentials, a value the scrubber knows, or
    Slack markup. Now it is scrubbed (`logs.scrubbed`) and escaped as the rest of the modal is."""
    logs.add_secret(LINK_SECRET)
    a = make_alert(fresh_db)                                            # an rss mention: Mark replied
    with _modal_endpoint(fresh_db, fake_slack) as ep:
        view = _view(a, "mark", {"reply_url": {"url": {"type": "url_text_input", "value": link}}})
        r = _signed(ep.url, {"type": "view_submission", "user": {"id": "U0CA5"}, "view": view}, fresh_db)
        assert r.status_code == 200 and r.json()["response_action"] == "errors", r.content
        said = r.json()["errors"]["reply_url"]
        assert absent not in said and shown in said, said
        assert fresh_db.one("SELECT COUNT(*) AS n FROM replies") == {"n": 0}


def test_a_reply_button_s_refusal_is_scrubbed_and_escaped(fresh_db: Store, fake_slack: FakeSlack) -> None:
    """The buttons' private answer ("Sorry, that did not work: …") goes the same way as the modal's error."""
    logs.add_secret(LINK_SECRET)

    def refuse(payload: dict[str, Any], action: dict[str, Any]) -> str | None:
        raise MonitorError(f"<!here> the platform said: token {LINK_SECRET} refused")
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url, hooks=Hooks(actions={"reply": refuse}))
    [answer] = actions.handle_payload({"type": "block_actions", "user": {"id": "U0CA5"},
                                       "actions": [{"action_id": "reply", "value": "1"}]})
    assert answer == "Sorry, that did not work: &lt;!here&gt; the platform said: token [REDACTED] refused"
