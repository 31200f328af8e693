"""Alert messages as Block Kit, built from stored data only.

Everything collected is untrusted. Slack's mrkdwn gives `<`, `>` and `&` control meaning (`<!channel>`,
`<@U123>`, `<https://evil|bank.com>`), so those three are escaped in every piece of collected text (author
names and titles included), and links are only ever made from URLs the collector saw, http(s) only, with
their real host shown next to the label. Invisible and direction-changing characters are dropped so a
message reads the way it will act. Sizes are capped to Slack's limits (3,000 characters per section text,
150 per header, 50 blocks, 10 context elements) after escaping, never inside an entity or a link.
`link_names` is never set by the sender, and every mrkdwn text object is `verbatim`, so Slack never
auto-links or parses a bare "@channel", "#channel" or URL in collected text: only the `<…>` entities built
here are live. Links are normalised the way browsers parse them (WHATWG URL) before their host is shown,
so the label names the host the click really opens (`https://evil.example\\@bank.com` is evil.example).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from monitor.core.model import Target

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
MAX_CONTEXT_ELEMENTS = 10
TEXT_SHOWN = 1200          # characters of the mention shown in the alert (before escaping)
FALLBACK_LIMIT = 3000
MAX_DRIVERS = 6
# Bidi embeddings/overrides/isolates and marks can visually reorder a message ("moc.knab" shown as
# "bank.com"); zero-width characters and soft hyphens hide a word from a human reader; C0/C1 controls and
# line/paragraph separators break layout. None of them has a place in an alert.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e"
                        "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb]")
_ENTITY_OR_LINK = re.compile(r"&[a-z]{0,4}$|<[^>]*$")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")

BUTTONS = {"ack": ("Acknowledge", "primary"), "resolve": ("Resolve", None),
           "not_negative": ("Not negative", None), "snooze_1h": ("Snooze 1h", None),
           "reply": ("Reply", None)}
ACTIONS = tuple((a, label, style) for a, (label, style) in BUTTONS.items())
STATE_ICON = {"open": ":red_circle:", "acknowledged": ":large_yellow_circle:", "resolved": ":white_check_mark:",
              "snoozed": ":zzz:"}


def clean(text: str | None) -> str:
    """Untrusted text made visible-as-acts: NFC, with invisible and bidi-control characters removed."""
    if not text:
        return ""
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


def escape(text: str | None) -> str:
    """Escape collected text for mrkdwn: only `&`, `<`, `>` have control meaning there."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, never inside an `&…;` entity or a `<…>` link."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    m = _ENTITY_OR_LINK.search(cut, max(0, len(cut) - 2600))
    if m:
        cut = cut[: m.start()]
    return cut.rstrip() + "…"


def more(items: list[str], shown: int, sep: str = ", ") -> str:
    """A list cut to `shown` items that says how many it left out: "a, b, c +4 more"."""
    head = sep.join(items[:shown])
    return head + (f" +{len(items) - shown} more" if len(items) > shown else "")


def whatwg(url: str) -> str:
    """The URL as a browser's WHATWG parser reads it, for the parts that decide the host: leading and trailing
    C0 controls and spaces stripped; for http(s), a backslash before the query is a slash. (Anything still
    without a host after that, like `https:///x`, is not linked at all.) (Python's urlsplit keeps `evil.example\\@bank.com` as one authority and
    names bank.com; browsers open evil.example.)"""
    url = url.strip("".join(chr(c) for c in range(0x21)))
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() not in ("http", "https"):
        return url
    cut = min([i for i in (rest.find("?"), rest.find("#")) if i >= 0], default=len(rest))
    rest = rest[:cut].replace("\\", "/") + rest[cut:]
    return f"{scheme.lower()}:{rest}"


def link_host(url: str | None) -> str | None:
    """The real host of an http(s) URL (punycode for look-alike Unicode hosts), or None if not linkable."""
    if not url or any(c in url for c in "\r\n\t"):
        return None
    try:
        parts = urlsplit(whatwg(url))
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = unquote(host)          # browsers percent-decode the host: "bank%2Ecom" opens bank.com
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host.encode("ascii", "backslashreplace").decode("ascii")


def safe_link(url: str | None, label: str) -> str:
    """A mrkdwn link only for an http(s) URL; `|`, `<`, `>`, `&`, spaces cannot break out of it. The link
    points at the WHATWG-normalised URL, so what is shown and what opens are the same host."""
    host = link_host(url)
    if not host or not url:
        return ""
    clean_url = whatwg(_INVISIBLE.sub("", url.strip()))
    parts = urlsplit(clean_url)
    if not parts.netloc.isascii() or "%" in parts.netloc.rpartition("@")[2]:   # link to (and show) the real host
        userinfo = parts.netloc.rpartition("@")[0]
        port = f":{parts.port}" if parts.port else ""
        clean_url = urlunsplit(parts._replace(netloc=(userinfo + "@" if userinfo else "") + host + port))
    clean_url = "".join(c if 0x20 < ord(c) < 0x7F else _pct(c) for c in clean_url)
    clean_url = (clean_url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
                 .replace("&", "&amp;"))
    return f"<{clean_url}|{escape(label)} ({escape(host)})>"


def _pct(c: str) -> str:
    return "".join(f"%{b:02X}" for b in c.encode("utf-8"))


def owner_mention(target: Target) -> str:
    """Trusted text from rules.yaml turned into a real ping: users `<@U…>`, groups `<!subteam^…>`."""
    m = (target.mention or "").strip()
    if not m:
        return ""
    if re.fullmatch(r"@?[UW][A-Z0-9]{2,}", m):
        return f"<@{m.lstrip('@')}>"
    if re.fullmatch(r"<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|#C[A-Z0-9]+|!here|!channel)>", m):
        return m
    if re.fullmatch(r"(!subteam\^|subteam:|subteam\^)?S[A-Z0-9]{2,}", m):
        return f"<!subteam^{m.split('^')[-1].split(':')[-1]}>"
    if m in ("@here", "@channel", "!here", "!channel"):
        return f"<!{m.lstrip('@!')}>"
    if re.fullmatch(r"#?C[A-Z0-9]{2,}", m):
        return f"<#{m.lstrip('#')}>"
    return escape(m)


def actor_text(actor: str | None) -> str:
    """Who did it: a Slack user becomes a (non-pinging, in an edit) `<@U…>`, anyone else escaped text."""
    if not actor:
        return "someone"
    m = re.fullmatch(r"slack:([UW][A-Z0-9]{2,})(?:/.*)?", actor)
    return f"<@{m.group(1)}>" if m else escape(actor)


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    # Slack renders <!date^…> in each reader's own time zone; the fallback is UTC.
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f" <!date^{int(ts)}^{{date_short_pretty}} {{time}}|{fallback}>"


def state_line(alert: dict[str, Any], now: float | None = None) -> str:
    state = alert.get("state") or "open"
    snoozed = alert.get("snoozed_until")
    # The lifecycle keeps a snoozed alert "acknowledged" (escalation paused) until the snooze ends.
    if state != "resolved" and snoozed and (now is None or snoozed > now):
        by = f" by {actor_text(alert.get('acked_by'))}" if alert.get("acked_by") else ""
        return f"{STATE_ICON['snoozed']} *Snoozed*{by} until{_when(snoozed)}"
    icon = STATE_ICON.get(state, ":grey_question:")
    text = f"{icon} *{escape(state.capitalize())}*"
    if state in ("acknowledged", "resolved") and alert.get("acked_by"):
        text += f" · acknowledged by {actor_text(alert.get('acked_by'))}{_when(alert.get('acked_at'))}"
    if state == "resolved" and alert.get("resolved_by"):
        text += f" · resolved by {actor_text(alert.get('resolved_by'))}"
    if state != "resolved" and (alert.get("level") or 0) > 0:
        text += f" · escalation level {int(alert['level']) + 1}"
    return text


def buttons_for(alert: dict[str, Any]) -> list[str]:
    """Which actions make sense now: none once resolved, no Acknowledge once acknowledged."""
    state = alert.get("state") or "open"
    if state == "resolved":
        return []
    return [a for a in BUTTONS if not (a == "ack" and state == "acknowledged")]


def alert_message(alert: dict[str, Any], mention: dict[str, Any], sentiment: dict[str, Any],
                  target: Target) -> dict[str, Any]:
    """The root message of an alert: {'text': fallback, 'blocks': [...]}. Re-rendered on every state change."""
    brand_raw = clean(alert.get("brand") or "a brand")
    brand = escape(alert.get("brand") or "")
    source = escape(f"{mention.get('source_kind') or 'source'} · {mention.get('source_id') or '?'}")
    author = escape(trim(clean(mention.get("author")) or "unknown author", 200))
    contact = clean(str(mention.get("contact") or ""))
    if contact and contact not in (mention.get("author") or ""):
        author += f" · contact: {escape(trim(contact, 200))}"
    reach = mention.get("reach")
    reach_txt = f" ({reach:,} reach)" if isinstance(reach, int) and not isinstance(reach, bool) else ""
    rating = mention.get("rating")
    stars = max(0, min(5, int(round(rating)))) if isinstance(rating, int | float) and rating else 0
    rating_txt = f" · {'★' * stars}{'☆' * (5 - stars)}" if stars else ""
    title = mention.get("title")
    body = mention.get("text") or ""
    shown = f"{title}\n{body}" if title and title not in body else body
    shown = trim(clean(shown), TEXT_SHOWN)
    if not shown.strip() and stars:        # a review that is a rating alone: say so rather than quote nothing
        shown = f"(a {stars}-star rating with no text)"
    lines = escape(shown).splitlines()[:60] or [""]
    quote = "\n".join("> " + line for line in lines)
    score = sentiment.get("score")
    if sentiment.get("unscored"):
        sent_txt = f"unscored (language {escape(sentiment.get('language') or 'unknown')})"
    else:
        sent_txt = f"{score:+.2f}" if isinstance(score, int | float) else "n/a"
    drivers = [f"“{escape(trim(clean(str(d.get('text', ''))), 60))}”" for d in sentiment.get("drivers") or []
               if isinstance(d, dict)]
    if drivers:
        sent_txt += " — " + more(drivers, MAX_DRIVERS)
    route = escape(alert.get("route") or "default")
    ping = owner_mention(target)
    done = []                          # replies posted and tickets opened: (label, url), our own stored rows
    for label, url in alert.get("links") or []:
        done.append(safe_link(url, label) or escape(label))
    link = safe_link(mention.get("url"), "open the original")
    count = int(alert.get("mention_count") or 1)
    count_txt = f" · {count:,} mentions" if count > 1 else ""
    spike = alert.get("kind") == "spike"
    header = trim(f"{'Spike of negative mentions' if spike else 'Negative mention'} of {brand_raw}", HEADER_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text": trim(
            f"*{brand}* · {source} · {author}{reach_txt}{rating_txt}{count_txt}", SECTION_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text": trim(quote, SECTION_LIMIT)}},
        context([f"Sentiment: {sent_txt}" + (f" · Issue: {escape(trim(clean(str(alert['issue'])), 40))}"
                                             if alert.get("issue") else ""),
                 f"Route: {route}" + (f" · {ping}" if ping else ""),
                 f"Alert #{int(alert['id'])}" + (f" · {link}" if link else "")]),
        {"type": "section", "block_id": f"state:{int(alert['id'])}",
         "text": {"type": "mrkdwn", "verbatim": True, "text": trim(state_line(alert), SECTION_LIMIT)}},
    ]
    if done:
        blocks.append(context([more(done, 8, " · ")]))
    actions = buttons_for(alert)
    if actions:
        blocks.append({"type": "actions", "block_id": f"alert:{int(alert['id'])}", "elements": [
            {"type": "button", "action_id": a, "text": {"type": "plain_text", "text": BUTTONS[a][0]},
             "value": str(int(alert["id"])), **({"style": BUTTONS[a][1]} if BUTTONS[a][1] else {})}
            for a in actions]})
    state = alert.get("state") or "open"
    prefix = f"[{state}] " if state != "open" else ""
    fallback = trim(f"{ping + ' ' if ping else ''}{prefix}{'Spike of negative mentions' if spike else 'Negative mention'}"
                    f" of {brand} on {source} by {author}: {escape(trim(shown, 300))}", FALLBACK_LIMIT)
    return {"text": fallback, "blocks": cap_blocks(blocks)}


def context(texts: list[str]) -> dict[str, Any]:
    """A context block; Slack allows 10 elements of up to 3,000 characters each."""
    elements = [{"type": "mrkdwn", "verbatim": True, "text": trim(t, SECTION_LIMIT)} for t in texts if t]
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        extra = len(elements) - MAX_CONTEXT_ELEMENTS + 1
        elements = elements[: MAX_CONTEXT_ELEMENTS - 1] + [{"type": "mrkdwn", "verbatim": True, "text": f"+{extra} more"}]
    return {"type": "context", "elements": elements}


def cap_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most 50 blocks: the rest collapse into a "+N more" line, and actions (if any) stay last."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [blocks[-1]] if blocks[-1].get("type") == "actions" else []
    body = blocks[: len(blocks) - len(tail)]
    keep = MAX_BLOCKS - 1 - len(tail)
    note = {"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True, "text": f"+{len(body) - keep} more"}]}
    return body[:keep] + [note] + tail


def plain_message(text: str, target: Target | None = None) -> dict[str, Any]:
    """Operational messages (source health, config errors): our own text, already safe, plus a ping."""
    ping = owner_mention(target) if target else ""
    body = trim(f"{ping + ' ' if ping else ''}{text}", SECTION_LIMIT)
    return {"text": body, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text": body}}]}


def without_buttons(payload: dict[str, Any]) -> dict[str, Any]:
    """The same message with no interactive elements (incoming webhooks cannot receive clicks)."""
    blocks = [b for b in payload.get("blocks") or [] if b.get("type") != "actions"]
    return {**payload, "blocks": blocks} if payload.get("blocks") is not None else dict(payload)
