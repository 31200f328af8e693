"""Alert messages as Block Kit, built from stored data only.

Everything collected is untrusted. Slack's mrkdwn gives `<`, `>` and `&` control meaning (`<!channel>`,
`<@U123>`, `<https://evil|bank.com>`), so those three are escaped in every piece of collected text, and links
are only ever made from URLs the collector saw, http(s) only. Sizes are capped to Slack's limits
(3,000 characters per section text, 50 blocks, 150 characters per header).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from .model import Target

SECTION_LIMIT = 3000
TEXT_SHOWN = 1200          # characters of the mention shown in the alert
FALLBACK_LIMIT = 3000
# Bidi overrides/isolates can visually reorder a message ("moc.knab" shown as "bank.com"); zero-width
# characters can hide a word from a human reader. Neither has a place in an alert.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

ACTIONS = (("ack", "Acknowledge", "primary"), ("resolve", "Resolve", None),
           ("not_negative", "Not negative", None), ("snooze_1h", "Snooze 1h", None))


def escape(text: str | None) -> str:
    """Escape collected text for mrkdwn: only `&`, `<`, `>` have control meaning there."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_link(url: str | None, label: str) -> str:
    """A mrkdwn link only for an http(s) URL, with `|`, `<`, `>` impossible inside it."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    clean = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{clean}|{escape(label)}>"


def owner_mention(target: Target) -> str:
    """Trusted text from rules.yaml turned into a real ping: users `<@U…>`, groups `<!subteam^…>`."""
    m = (target.mention or "").strip()
    if not m:
        return ""
    if re.fullmatch(r"@?[UW][A-Z0-9]{2,}", m):
        return f"<@{m.lstrip('@')}>"
    if re.fullmatch(r"<[@!#][^<>]+>", m):
        return m
    if re.fullmatch(r"(!subteam\^|subteam:)?S[A-Z0-9]{2,}", m):
        return f"<!subteam^{m.split('^')[-1].split(':')[-1]}>"
    if m in ("@here", "@channel"):
        return f"<!{m[1:]}>"
    return escape(m)


def alert_message(alert: dict[str, Any], mention: dict[str, Any], sentiment: dict[str, Any],
                  target: Target) -> dict[str, Any]:
    """The root message of an alert: {'text': fallback, 'blocks': [...]}."""
    brand = escape(alert.get("brand") or "")
    source = escape(f"{mention.get('source_kind')} · {mention.get('source_id')}")
    author = escape(mention.get("author") or "unknown author")
    reach = mention.get("reach")
    reach_txt = f" ({reach:,} reach)" if isinstance(reach, int) else ""
    rating = mention.get("rating")
    rating_txt = f" · {'★' * int(round(rating))}{'☆' * (5 - int(round(rating)))}" if rating else ""
    title = mention.get("title")
    body = mention.get("text") or ""
    shown = trim(f"{title}\n{body}" if title and title not in body else body, TEXT_SHOWN)
    quote = "\n".join("> " + line for line in escape(shown).splitlines() or [""])
    score = sentiment.get("score")
    if sentiment.get("unscored"):
        sent_txt = f"unscored (language {escape(sentiment.get('language') or 'unknown')})"
    else:
        sent_txt = f"{score:+.2f}" if isinstance(score, int | float) else "n/a"
    drivers = [d["text"] for d in sentiment.get("drivers") or []][:6]
    if drivers:
        sent_txt += " — " + ", ".join(f"“{escape(d)}”" for d in drivers)
    route = escape(alert.get("route") or "default")
    ping = owner_mention(target)
    link = safe_link(mention.get("url"), "open the original")
    header = trim(f"Negative mention of {alert.get('brand') or 'a brand'}", 150)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": trim(
            f"*{brand}* · {source} · {author}{reach_txt}{rating_txt}", SECTION_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": trim(quote, SECTION_LIMIT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": trim(t, SECTION_LIMIT)} for t in (
            f"Sentiment: {sent_txt}", f"Route: {route}" + (f" · {ping}" if ping else ""),
            f"Alert #{alert['id']} · {alert.get('state', 'open')}" + (f" · {link}" if link else ""),
        )]},
        {"type": "actions", "block_id": f"alert:{alert['id']}", "elements": [
            {"type": "button", "action_id": action, "text": {"type": "plain_text", "text": label},
             "value": str(alert["id"]), **({"style": style} if style else {})}
            for action, label, style in ACTIONS]},
    ]
    fallback = trim(f"{ping + ' ' if ping else ''}Negative mention of {brand} on {source} by {author}: "
                    f"{escape(trim(shown, 300))}", FALLBACK_LIMIT)
    return {"text": fallback, "blocks": blocks}


def plain_message(text: str, target: Target | None = None) -> dict[str, Any]:
    """Operational messages (source health, config errors): our own text, already safe, plus a ping."""
    ping = owner_mention(target) if target else ""
    body = trim(f"{ping + ' ' if ping else ''}{text}", SECTION_LIMIT)
    return {"text": body, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]}
