"""Review pages: schema.org Review/AggregateRating from JSON-LD and microdata (extruct), CSS selectors otherwise.

Ratings are normalised to 1–5 with the page's own bestRating/worstRating (schema.org's defaults are 5 and 1).
Review sites change their markup without notice; a page that used to yield reviews and suddenly yields none is
reported (CollectResult.warnings, so logs and `monitor status`) instead of silently going quiet: the count of
the previous poll is kept in the cursor.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from parsel import Selector
from pydantic import field_validator
from w3lib.encoding import html_to_unicode

from monitor.core.model import Mention
from monitor.core.textutil import html_to_text
from monitor.core.validation import Strict
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    register,
    web_url,
)

log = logging.getLogger(__name__)
REVIEW_TYPES = {"Review", "UserReview", "CriticReview", "EmployerReview"}
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


class ReviewSelectors(Strict):
    """CSS selectors (parsel syntax, `::attr(name)` for attributes) for pages without structured data."""

    review: str                       # one element per review
    text: str
    author: str | None = None
    rating: str | None = None         # the first number found is the rating ("4.5 out of 5", data-rating="4")
    date: str | None = None
    title: str | None = None
    id: str | None = None
    rating_best: float = 5.0
    rating_worst: float = 1.0


class ReviewsOptions(SourceOptions):
    url: str
    selectors: ReviewSelectors | None = None
    aggregate: bool = False           # also a mention each time the page's AggregateRating changes

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


@register
class ReviewsCollector(Collector):
    """Review pages (schema.org Review/AggregateRating in JSON-LD or microdata, or CSS selectors); ratings 1-5."""

    kind = "reviews"
    example: ClassVar[dict[str, Any]] = {"url": "https://www.trustpilot.com/review/acme.com"}
    Options = ReviewsOptions

    def collect(self, state: SourceState) -> CollectResult:
        opts: ReviewsOptions = self.options  # type: ignore[assignment]
        resp = self.get(opts.url, state, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"})
        previous = int((state.cursor or {}).get("last_count") or 0)
        if resp.not_modified:
            return CollectResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        _, html = html_to_unicode(resp.headers.get("content-type"), resp.body)
        warnings: list[str] = []
        mentions = structured_reviews(html, resp.url, opts, warnings)
        how = "structured data"
        count = sum(1 for m in mentions if not m.external_id.startswith("aggregate:"))
        if not count and opts.selectors:
            found = selector_reviews(html, resp.url, opts.selectors, opts.id, warnings)
            mentions, count, how = mentions + found, len(found), "selectors"
        if previous and not count:
            warnings.append(f"the page yielded {previous} review(s) last time and none now: its layout may have "
                            "changed (check its structured data or the source's selectors)")
        log.debug("reviews extracted", extra={"source_id": opts.id, "count": count, "how": how})
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"last_count": count or previous},
                             etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"))


def structured_reviews(html: str, url: str, opts: ReviewsOptions, warnings: list[str]) -> list[Mention]:
    import extruct  # here, not at the top: with requests, bs4 and mf2py it was ≈0.2 s of every `monitor` command

    try:
        data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata"], uniform=True, errors="ignore")
    except Exception as exc:  # noqa: BLE001 - lxml/extruct on hostile HTML: keep the source alive, say why
        warnings.append(f"structured data unreadable: {type(exc).__name__}: {exc}"[:300])
        return []
    out: dict[str, Mention] = {}
    for item in _walk([*data.get("json-ld", []), *data.get("microdata", [])]):
        types = _types(item)
        try:
            if types & REVIEW_TYPES:
                m = _review(item, url, opts.id)
                out.setdefault(m.external_id, m)
            elif "AggregateRating" in types and opts.aggregate:
                m = _aggregate(item, url, opts.id)
                out.setdefault(m.external_id, m)
        except (KeyError, TypeError, ValueError) as exc:
            warnings.append(f"skipped a review: {exc}"[:300])
    return list(out.values())


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _types(item: dict[str, Any]) -> set[str]:
    t = item.get("@type")
    names = t if isinstance(t, list) else [t]
    return {str(n).rsplit("/", 1)[-1] for n in names if n}


def _text(v: Any) -> str:
    if isinstance(v, list):
        v = v[0] if v else ""
    if isinstance(v, dict):
        v = v.get("name") or v.get("@value") or v.get("text") or ""
    return html_to_text(str(v)) if v else ""


def normalise_rating(value: Any, best: Any = None, worst: Any = None) -> float | None:
    """A rating on the page's scale, mapped onto 1–5 (4/5 stays 4; 8/10 is 4.2; 0/100 is 1).

    A value outside the page's own scale is "no rating", never the nearest end of it: recipe and shop
    pages mark unrated comments `ratingValue: "0"` on a 1–5 scale, and clamping that to 1★ made delighted
    comments negative (regression: tests/test_recorded_real.py, a saved fitmencook.com page). NaN,
    infinities and booleans are no rating either.
    """
    v = _number(value)
    if v is None:
        return None
    b, w = _number(best), _number(worst)
    if b is None:
        b = 5.0 if v <= 5 else 10.0 if v <= 10 else 100.0
    if w is None:
        w = 1.0 if b == 5.0 else 0.0
    if b <= w or not w <= v <= b:
        return None
    return round(1 + 4 * (v - w) / (b - w), 2)


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    m = _NUMBER.search(str(v))
    return float(m.group(0).replace(",", ".")) if m else None


def _date(v: Any) -> float | None:
    s = _text(v).strip()
    if not s:
        return None
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(s).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _review(item: dict[str, Any], page_url: str, source_id: str) -> Mention:
    r = item.get("reviewRating") or {}
    rating = normalise_rating(r.get("ratingValue"), r.get("bestRating"), r.get("worstRating")) \
        if isinstance(r, dict) else normalise_rating(r)
    body = _text(item.get("reviewBody") or item.get("description") or item.get("text"))
    title = _text(item.get("name") or item.get("headline"))
    author = _text(item.get("author"))
    published = _date(item.get("datePublished") or item.get("dateCreated"))
    link = web_url(item.get("url"))
    ident = item.get("@id") or link or "sha1:" + hashlib.sha1(
        f"{author}\n{published}\n{title}\n{body[:500]}".encode()).hexdigest()
    if not body and not title and rating is None:
        raise ValueError("a Review with no body, title or rating")
    return Mention(source_id=source_id, source_kind="reviews", external_id=str(ident), text=body or title,
                   title=title or None, author=author or None, published=published, rating=rating,
                   url=link or page_url, raw={"item": _text(item.get("itemReviewed"))[:200] or None})


def _aggregate(item: dict[str, Any], page_url: str, source_id: str) -> Mention:
    rating = normalise_rating(item.get("ratingValue"), item.get("bestRating"), item.get("worstRating"))
    count = _number(item.get("reviewCount") or item.get("ratingCount"))
    if rating is None:
        raise ValueError("an AggregateRating without a ratingValue")
    text = f"Average rating {rating:.1f}/5" + (f" from {int(count):,} reviews" if count else "")
    return Mention(source_id=source_id, source_kind="reviews", external_id=f"aggregate:{rating}:{count}",
                   text=text, title="Aggregate rating", rating=rating, url=page_url,
                   raw={"aggregate": True, "count": count})


def selector_reviews(html: str, page_url: str, sel: ReviewSelectors, source_id: str,
                     warnings: list[str]) -> list[Mention]:
    doc = Selector(text=html)

    def pick(node: Selector, css: str | None) -> str:
        if not css:
            return ""
        found = node.css(css)
        if not found:
            return ""
        return (found.get() or "") if "::" in css else (found[0].xpath("string()").get() or "")

    out: list[Mention] = []
    for node in doc.css(sel.review):
        text = html_to_text(pick(node, sel.text))
        title = html_to_text(pick(node, sel.title))
        author = html_to_text(pick(node, sel.author))
        rating = normalise_rating(pick(node, sel.rating), sel.rating_best, sel.rating_worst) if sel.rating else None
        published = _date(pick(node, sel.date))
        if not text and not title and rating is None:
            warnings.append("a review element without text or rating (selectors matched nothing in it)")
            continue
        ident = pick(node, sel.id) or "sha1:" + hashlib.sha1(
            f"{author}\n{published}\n{title}\n{text[:500]}".encode()).hexdigest()
        out.append(Mention(source_id=source_id, source_kind="reviews", external_id=ident, text=text or title,
                           title=title or None, author=author or None, published=published, rating=rating,
                           url=page_url))
    return out
