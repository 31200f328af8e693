"""Block Kit alerts: hostile collected text never pings, never disguises a link, never breaks Slack's limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.model import Target
from monitor.notify.blockkit import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    alert_message,
    cap_blocks,
    escape,
    more,
    owner_mention,
    safe_link,
    trim,
)

TARGET = Target("comms-oncall", "#comms-alerts", "@here")
ALERT = {"id": 7, "brand": "acme", "route": "any-negative", "state": "open", "mention_count": 1,
         "acked_by": None, "acked_at": None, "resolved_by": None, "level": 0, "snoozed_until": None,
         "kind": "mention"}
SENTIMENT = {"score": -0.8, "drivers": [{"text": "terrible"}], "unscored": False, "language": "en"}
# Constructs we put there ourselves: the owner's ping, a Slack date, and links from the collector's URL.
_OURS = re.compile(r"<(!here|!channel|@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|#C[A-Z0-9]+|!date\^\d+\^[^|<>]*\|[^<>]*"
                   r"|https?://[^|<>\s]+\|[^<>|]*)>")

HOSTILE = {
    "channel": "<!channel> everyone look",
    "here": "<!here|here> and <!everyone>",
    "user": "hey <@U123> and <@W999|boss>",
    "group": "<!subteam^S0123|@comms> wake up",
    "disguised": "login at <https://evil.example/phish|bank.com> now",
    "ampersand": "&lt;!channel&gt; pre-escaped &amp; tricky",
    "zero_width": "ac\u200bme is b\u200dad <\u200b!channel>",
    "rtl": "click \u202egro.knab\u202c and \u2066moc.live\u2069 \u200f",
    "huge": "A" * 100_000,
    "huge_amps": "&" * 100_000,
    "many_lines": "\n".join(["<!channel>"] * 20_000),
}


def mrkdwn_texts(msg: dict[str, Any]) -> list[str]:
    out = [msg["text"]]
    for b in msg["blocks"]:
        if b.get("text", {}).get("type") == "mrkdwn":
            out.append(b["text"]["text"])
        for e in b.get("elements", []):
            if e.get("type") == "mrkdwn":
                out.append(e["text"])
    return out


def assert_safe(msg: dict[str, Any], url: str | None = None) -> None:
    allowed_ping = owner_mention(TARGET)
    for text in mrkdwn_texts(msg):
        for construct in re.findall(r"<[^>]*>", text):
            assert _OURS.fullmatch(construct), f"unexpected Slack construct {construct!r}"
            if construct.startswith(("<!here", "<!channel", "<@", "<!subteam")):
                assert construct == allowed_ping
            if construct.startswith("<http"):
                href = construct[1:].split("|")[0].replace("&amp;", "&")
                assert url is not None and href.split("//")[1].split("/")[0] in url
        stripped = re.sub(r"(?m)^> ", "", _OURS.sub("", text))      # a line-start "> " is our blockquote
        assert "<" not in stripped and ">" not in stripped
        assert not re.search(r"&(?!amp;|lt;|gt;)", stripped), "a bare & could start an entity"
        assert not re.search("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", text)
        assert len(text) <= SECTION_LIMIT
    assert len(msg["blocks"]) <= 50
    header = [b for b in msg["blocks"] if b["type"] == "header"][0]["text"]["text"]
    assert len(header) <= HEADER_LIMIT
    for b in msg["blocks"]:
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
    json.dumps(msg)          # serialisable as sent


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_everywhere_pings_nobody(name):
    text = HOSTILE[name]
    mention = {"source_kind": "rss", "source_id": text[:200], "author": text, "title": text[:300], "text": text,
               "url": "https://news.example/a?x=1&y=<2>", "reach": 10_000, "rating": 1}
    sentiment = {**SENTIMENT, "drivers": [{"text": text[:100]}] * 20}
    msg = alert_message(ALERT, mention, sentiment, TARGET)
    assert_safe(msg, mention["url"])
    assert msg["text"].startswith("<!here>")                       # the one ping is the owner's, from rules


def test_escaped_text_is_still_readable():
    msg = alert_message(ALERT, {"text": "Acme <!channel> & <@U123>", "source_kind": "rss", "source_id": "n"},
                        SENTIMENT, TARGET)
    assert "> Acme &lt;!channel&gt; &amp; &lt;@U123&gt;" in msg["blocks"][2]["text"]["text"]


def test_link_label_is_ours_and_shows_the_real_host():
    link = safe_link("https://bank.com@evil.example/login|<x>", "open the original")
    assert link.startswith("<https://bank.com@evil.example/login%7C%3Cx%3E|")
    assert link.endswith("(evil.example)>")                           # userinfo cannot pass for the host
    assert safe_link("https://xn--bnk-sla.com/", "x").endswith("(xn--bnk-sla.com)>")
    assert safe_link("https://bаnk.com/p", "x") == "<https://xn--bnk-6cd.com/p|x (xn--bnk-6cd.com)>"   # Cyrillic а shown as punycode


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "mailto:x@y", "slack://open",
                                 "//evil.example/x", "https:///nohost", "", None, "https://a.example/\nb"])
def test_only_http_urls_become_links(url):
    assert safe_link(url, "open") == ""
    msg = alert_message(ALERT, {"text": "x", "url": url, "source_kind": "rss", "source_id": "n"}, SENTIMENT, TARGET)
    assert "|open the original" not in json.dumps(msg)


def test_owner_mentions():
    assert owner_mention(Target("a", "#c", "@U024BE7LH")) == "<@U024BE7LH>"
    assert owner_mention(Target("a", "#c", "S0123ABC")) == "<!subteam^S0123ABC>"
    assert owner_mention(Target("a", "#c", "subteam^S0123ABC")) == "<!subteam^S0123ABC>"
    assert owner_mention(Target("a", "#c", "<!subteam^S0123ABC>")) == "<!subteam^S0123ABC>"
    assert owner_mention(Target("a", "#c", "@channel")) == "<!channel>"
    assert owner_mention(Target("a", "#c", "C024BE7LH")) == "<#C024BE7LH>"
    assert owner_mention(Target("a", "#c", "<https://evil|x>")) == "&lt;https://evil|x&gt;"
    assert owner_mention(Target("a", "#c", None)) == ""


def test_state_count_and_buttons_follow_the_alert():
    mention = {"text": "bad", "source_kind": "rss", "source_id": "n"}
    open_ = alert_message(ALERT, mention, SENTIMENT, TARGET)
    ids = [e["action_id"] for e in open_["blocks"][-1]["elements"]]
    assert ids == ["ack", "resolve", "not_negative", "snooze_1h", "reply"]
    assert all(e["value"] == "7" for e in open_["blocks"][-1]["elements"])

    acked = alert_message({**ALERT, "state": "acknowledged", "acked_by": "slack:U0ALICE", "acked_at": 1.7e9,
                           "mention_count": 200}, mention, SENTIMENT, TARGET)
    body = json.dumps(acked)
    assert "Acknowledged" in body and "<@U0ALICE>" in body and "200 mentions" in body
    assert [e["action_id"] for e in acked["blocks"][-1]["elements"]] == ["resolve", "not_negative", "snooze_1h", "reply"]
    assert acked["text"].startswith("<!here> [acknowledged]")

    resolved = alert_message({**ALERT, "state": "resolved", "acked_by": "cli:bob", "resolved_by": "cli:bob"},
                             mention, SENTIMENT, TARGET)
    assert all(b["type"] != "actions" for b in resolved["blocks"])
    assert "resolved by cli:bob" in json.dumps(resolved)

    snoozed = alert_message({**ALERT, "snoozed_until": 4e9}, mention, SENTIMENT, TARGET)
    assert "Snoozed" in json.dumps(snoozed)
    spike = alert_message({**ALERT, "kind": "spike", "mention_count": 25}, mention, SENTIMENT, TARGET)
    assert spike["blocks"][0]["text"]["text"].startswith("Spike of negative mentions")
    actor = alert_message({**ALERT, "state": "acknowledged", "acked_by": "<!channel>"}, mention, SENTIMENT, TARGET)
    assert_safe(actor)


def test_long_lists_end_in_plus_n_more():
    drivers = [{"text": f"word{i}"} for i in range(15)]
    msg = alert_message(ALERT, {"text": "x", "source_kind": "rss", "source_id": "n"},
                        {**SENTIMENT, "drivers": drivers}, TARGET)
    assert "“word5” +9 more" in json.dumps(msg, ensure_ascii=False)
    assert more(["a", "b", "c"], 2) == "a, b +1 more"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": str(i)}} for i in range(80)]
    capped = cap_blocks([*blocks, {"type": "actions", "elements": []}])
    assert len(capped) == 50 and capped[-1]["type"] == "actions" and capped[-2]["elements"][0]["text"] == "+32 more"


def test_trim_never_cuts_an_entity_or_a_link():
    assert trim("ab&amp;cd", 5) == "ab…"
    assert trim("x <https://a.example|label> tail", 12) == "x…"
    assert len(trim(escape("&" * 10_000), 3000)) <= 3000


_PIECES = st.sampled_from(list("<>&|!@#^*_~`:/ .\n") + ["\u200b", "\u202e", "\u2066", "é", "U123", "channel",
                                                            "here", "https://", "amp;", "lt;", "gt;"])
_HOSTILE_TEXT = st.lists(_PIECES | st.characters(), max_size=200).map("".join)


@settings(max_examples=400, deadline=None)
@given(_HOSTILE_TEXT)
def test_escape_property(text):
    out = escape(text)
    assert "<" not in out and ">" not in out
    assert not re.search(r"&(?!amp;|lt;|gt;)", out)
    unescaped = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == re.sub("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
                               "\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb]", "",
                               __import__("unicodedata").normalize("NFC", text))


@settings(max_examples=150, deadline=None)
@given(text=_HOSTILE_TEXT | st.text(max_size=5000), author=_HOSTILE_TEXT, title=st.text(max_size=300),
       url=st.one_of(st.none(), st.text(max_size=100), st.from_regex(r"https?://[a-z.]{1,20}/[^\s]{0,40}", fullmatch=True)),
       driver=st.text(max_size=80))
def test_alert_message_property(text, author, title, url, driver):
    mention = {"source_kind": "rss", "source_id": "news", "author": author, "title": title, "text": text, "url": url}
    msg = alert_message(ALERT, mention, {**SENTIMENT, "drivers": [{"text": driver}]}, TARGET)
    assert_safe(msg, url)


def test_rating_only_review_says_so_instead_of_quoting_nothing():
    """Regression: a 1-star review with no text alerted as "… by Ann: " with an empty quote."""
    from monitor.core.model import Target
    from monitor.notify.blockkit import alert_message

    alert = {"id": 7, "brand": "acme", "route": "bad-review", "state": "open", "mention_count": 1, "level": 0}
    mention = {"source_kind": "reviews", "source_id": "shop", "author": "Ann", "reach": None, "rating": 1.0,
               "title": None, "text": "", "url": None}
    msg = alert_message(alert, mention, {"score": -0.8, "negative": True, "drivers": []}, Target("support", "#s"))
    assert msg["text"].endswith("by Ann: (a 1-star rating with no text)")
    assert "> (a 1-star rating with no text)" in str(msg["blocks"])
