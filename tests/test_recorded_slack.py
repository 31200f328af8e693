"""Slack's recorded answers against FakeSlack and against the product's Slack code (tests/data/recorded/slack/).

Two kinds of recording (origins and licences in that folder's README): java-slack-sdk's shape samples, the merged
and masked union of what the real Web API answered its integration tests, one file per method (every key Slack
sent, its type and nesting; the values are placeholders); and a few real answers with their values, quoted from
python-slack-sdk issues. FakeSlack's answers must fit the shapes (no key Slack never sends, no other type, no null
where Slack omits the key); the report upload, the in-flight lookups and the share's error handling run through
the real slack_sdk WebClient against the recorded answers served as they are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.notify.senders import EVENT_TYPE, SlackSender
from monitor.ops.dashboard.upload import NotShared, ReportUploader, Reserved
from tests.fakes.recorded import RECORDED, Replay
from tests.fakes.server import Reply
from tests.fakes.slack import INVALID_CHANNEL_ID, TOKEN, FakeSlack

SLACK = RECORDED / "slack"
PRUNED = "<pruned>"                 # a subtree cut from the sample to keep it small: anything fits it
CHANNEL = "C0123ABCD"


def sample(method: str) -> dict[str, Any]:
    return dict(json.loads((SLACK / f"{method}.json").read_text(encoding="utf-8")))


def real(name: str) -> dict[str, Any]:
    return dict(json.loads((SLACK / "issue_answers.json").read_text(encoding="utf-8"))[name])


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(v), type(v).__name__)


def divergences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where `got` (an answer) does not fit `want` (Slack's recorded shape). An empty object in the sample is a
    free-form one (message metadata's `event_payload`, a view's `state`): any object fits it."""
    if want == PRUNED:
        return []
    if _kind(got) != _kind(want):
        return [f"{path or '.'}: {_kind(got)} where Slack sends {_kind(want)}"]
    if isinstance(got, dict) and want:
        return [d for k, v in got.items()
                for d in ([f"{path}.{k}: a key Slack does not send"] if k not in want else
                          divergences(v, want[k], f"{path}.{k}"))]
    if isinstance(got, list) and want:
        return [d for i, v in enumerate(got) for d in divergences(v, want[0], f"{path}[{i}]")]
    return []


def test_the_shape_check_finds_what_it_is_for():
    """The check below is only as good as this: a null, a wrong type, an unknown key, a nested one, each found."""
    want = {"ok": False, "messages": [{"ts": "0.0", "files": [{"id": "F0"}], "blocks": PRUNED}],
            "metadata": {"event_payload": {}}}
    assert divergences({"ok": True, "messages": [{"ts": "1.2", "blocks": [{"x": 1}]}],
                        "metadata": {"event_payload": {"a": 1}}}, want) == []
    assert divergences({"messages": [{"ts": None}]}, want) == [".messages[0].ts: null where Slack sends string"]
    assert divergences({"messages": [{"files": [{"id": 3}]}]}, want) == [
        ".messages[0].files[0].id: number where Slack sends string"]
    assert divergences({"messages": [{"thread": "1"}]}, want) == [".messages[0].thread: a key Slack does not send"]


# --- FakeSlack's answers have Slack's shape -------------------------------------------------------------------

@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """What FakeSlack answers the real WebClient for every method the product calls, in the ways it calls them."""
    out: dict[str, list[dict[str, Any]]] = {}

    def keep(method: str, resp: Any) -> Any:
        out.setdefault(method, []).append(resp.data if hasattr(resp, "data") else resp)
        return resp

    with FakeSlack() as slack:
        c = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
        keep("auth.test", c.auth_test())
        meta = {"event_type": EVENT_TYPE, "event_payload": {"delivery": "d1"}}
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* mentioned"}}]
        root = keep("chat.postMessage", c.chat_postMessage(channel=CHANNEL, text="hi", blocks=blocks, metadata=meta))
        keep("chat.postMessage", c.chat_postMessage(channel="#alerts", text="a reply", thread_ts=root["ts"]))
        keep("chat.update", c.chat_update(channel=CHANNEL, ts=root["ts"], text="edited"))
        slack.chatter(CHANNEL, 3)
        up = keep("files.getUploadURLExternal", c.files_getUploadURLExternal(filename="r.png", length=4))
        c._upload_file(url=up["upload_url"], data=b"\x89PNG", logger=c.logger, timeout=c.timeout, proxy=None,
                       ssl=None)
        keep("files.completeUploadExternal", c.files_completeUploadExternal(
            files=[{"id": up["file_id"], "title": "Report"}], channel_id=CHANNEL, initial_comment="the week"))
        keep("conversations.history", c.conversations_history(channel=CHANNEL, include_all_metadata=True, limit=2))
        keep("conversations.history", c.conversations_history(channel=CHANNEL, limit=200))
        keep("conversations.replies", c.conversations_replies(channel=CHANNEL, ts=root["ts"],
                                                              include_all_metadata=True))
        keep("conversations.list", c.conversations_list(types="public_channel,private_channel"))
        keep("conversations.open", c.conversations_open(users="U0ALICE"))
        keep("views.open", c.views_open(trigger_id="t1", view={
            "type": "modal", "callback_id": "snooze", "title": {"type": "plain_text", "text": "Snooze"},
            "submit": {"type": "plain_text", "text": "Snooze"}, "private_metadata": "a1", "blocks": blocks}))
        slack.scopes.discard("channels:history")          # the error answers: ok false, error, needed, provided
        for call in (lambda: c.conversations_history(channel=CHANNEL),
                     lambda: c.chat_postMessage(channel="C0MISSING0", text="x", thread_ts="1.000001", blocks=[])):
            slack.channel_errors["C0MISSING0"] = "channel_not_found"
            with pytest.raises(SlackApiError) as refused:
                call()
            keep(refused.value.response.api_url.rsplit("/", 1)[-1], refused.value.response)
    yield out


RECORDED_METHODS = ["auth.test", "chat.postMessage", "chat.update", "files.getUploadURLExternal",
                    "files.completeUploadExternal", "conversations.history", "conversations.replies",
                    "conversations.list", "conversations.open", "views.open"]


@pytest.mark.parametrize("method", RECORDED_METHODS)
def test_fakeslack_answers_have_the_shape_slack_records(answers, method):
    """Regression: FakeSlack answered `thread_ts: null` (and `blocks`/`text`/`metadata` null) in messages, where
    real Slack leaves the key out, and put a `ts` in chat.update's `message`, which Slack never sends: code reading
    `"thread_ts" in m` or `resp["message"]["ts"]` passed against the fake and would fail against Slack."""
    want = sample(method)
    assert answers[method], f"no {method} answer collected"
    for got in answers[method]:
        assert divergences(got, want) == [], f"{method}: {got}"


def test_the_product_reads_only_keys_slack_sends():
    """Every key our Slack code reads from an answer (upload.py, senders.py, the report schedule) is in Slack's
    recorded shape for that method, at that place: a misspelt or imagined key would read None for ever."""
    reads = {
        "files.getUploadURLExternal": ["upload_url", "file_id", "error", "needed"],
        "files.completeUploadExternal": ["files[].id", "error"],
        "conversations.history": ["messages[].ts", "messages[].files[].id", "messages[].metadata.event_type",
                                  "messages[].metadata.event_payload", "response_metadata.next_cursor",
                                  "has_more", "error", "needed"],
        "conversations.replies": ["messages[].ts", "messages[].metadata.event_type", "messages[].thread_ts",
                                  "response_metadata.next_cursor", "has_more"],
        "chat.postMessage": ["channel", "ts", "error"],
        "chat.update": ["channel", "ts", "error"],
        "conversations.list": ["channels[].id", "channels[].name", "response_metadata.next_cursor"],
        "conversations.open": ["channel.id"],
    }
    for method, paths in reads.items():
        for path in paths:
            node: Any = sample(method)
            for part in path.split("."):
                key, many = part.removesuffix("[]"), part.endswith("[]")
                assert isinstance(node, dict) and key in node, f"{method}: Slack sends no {path}"
                node = node[key][0] if many else node[key]
            assert node != PRUNED


# --- the product's Slack code against the recorded answers, served as they are -----------------------------------

def _ok(body: dict[str, Any]) -> dict[str, Any]:
    """java-slack-sdk's samples say `ok: false` (its mock server flips it): the success answer says true."""
    return {**body, "ok": True}


def _json(body: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"content-type": "application/json; charset=utf-8"})


@pytest.fixture
def replay() -> Iterator[Replay]:
    with Replay() as r:
        yield r


def test_the_report_upload_runs_on_slacks_recorded_answers(replay):
    """files.getUploadURLExternal and the upload URL's `OK - <length>` as Slack answered them (python-slack-sdk
    #1277), completeUploadExternal and the channel's history in Slack's recorded shape: the file id reserved,
    the bytes accepted, the share complete, the share found in the history by its file id and not by another."""
    got = real("files_upload_v2_exchange")
    reserved_body = {**got["getUploadURLExternal"]["body"], "upload_url": replay.url + "/upload/v1/CwAB"}
    replay.routes.update({
        ("POST", "/api/files.getUploadURLExternal"): _json(reserved_body),
        ("POST", "/upload/v1/CwAB"): Reply(200, got["upload"]["body"].encode(), {"content-type": "text/plain"}),
        ("POST", "/api/files.completeUploadExternal"): _json(_ok(sample("files.completeUploadExternal"))),
        ("POST", "/api/conversations.history"): _json(_ok(sample("conversations.history"))),
    })
    up = ReportUploader(WebClient(token=TOKEN, base_url=replay.url + "/api/", retry_handlers=[]))
    reserved = up.reserve("mentions-report.png", 1139)
    assert reserved == Reserved(got["getUploadURLExternal"]["body"]["file_id"], replay.url + "/upload/v1/CwAB")
    up.send(reserved, b"\0" * 1139)
    up.complete(reserved, "Mentions report", CHANNEL, "the week")
    history = sample("conversations.history")["messages"][0]
    shared_id = history["files"][0]["id"]
    assert up.find_share(CHANNEL, shared_id, time.time()) == history["ts"]
    assert up.find_share(CHANNEL, reserved.file_id, time.time()) is None


def test_a_share_to_a_channel_name_is_refused_as_slack_refuses_it(replay):
    """completeUploadExternal takes a channel ID only: Slack's recorded refusal (python-slack-sdk #1426) is a
    certain "not shared" for the product, and FakeSlack answers exactly that body, where it used to share."""
    refusal = real("complete_upload_channel_not_an_id")
    replay.routes[("POST", "/api/files.completeUploadExternal")] = _json(refusal["body"])
    up = ReportUploader(WebClient(token=TOKEN, base_url=replay.url + "/api/", retry_handlers=[]))
    with pytest.raises(NotShared, match="invalid_arguments"):
        up.complete(Reserved("F047", "unused"), "Report", "U0ALICE", "the week")
    assert INVALID_CHANNEL_ID == refusal["body"]
    with FakeSlack() as slack:
        c = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
        fid = c.files_getUploadURLExternal(filename="r.png", length=4)["file_id"]
        c._upload_file(url=f"{slack.url}/upload/v1/{fid}", data=b"\x89PNG", logger=c.logger,
                       timeout=c.timeout, proxy=None, ssl=None)
        for channel in ("#reports", "U0ALICE", "C01"):
            with pytest.raises(SlackApiError) as refused:
                c.files_completeUploadExternal(files=[{"id": fid, "title": "t"}], channel_id=channel)
            assert refused.value.response.data == refusal["body"], channel
        assert slack.shares() == []


def _history_with(method: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    body = _ok(sample(method))
    body["messages"] = [{**body["messages"][0], "metadata": meta or body["messages"][0]["metadata"]}]
    return body


@pytest.mark.parametrize("thread", [False, True])
def test_the_in_flight_lookup_reads_slacks_recorded_history(replay, thread):
    """SlackSender.find_posted on conversations.history (or .replies for a thread reply) in Slack's recorded
    shape: our delivery id in a message's metadata is found; the same page without it is "not posted" (no
    `next_cursor`, `has_more` false), never "cannot tell"."""
    method = "conversations.replies" if thread else "conversations.history"
    ts = sample(method)["messages"][0]["ts"]
    sender = SlackSender(TOKEN, replay.url + "/api/")
    replay.routes[("POST", f"/api/{method}")] = _json(
        _history_with(method, {"event_type": EVENT_TYPE, "event_payload": {"delivery": "42"}}))
    assert sender.find_posted(CHANNEL, "42", time.time(), thread_ts=ts if thread else None) == (CHANNEL, ts)
    assert sender.find_posted(CHANNEL, "43", time.time(), thread_ts=ts if thread else None) is None
    replay.routes[("POST", f"/api/{method}")] = _json(_history_with(method, None))
    assert sender.find_posted(CHANNEL, "42", time.time(), thread_ts=ts if thread else None) is None
