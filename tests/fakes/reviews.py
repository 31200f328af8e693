"""Review pages as review sites serve them: schema.org JSON-LD, microdata, or plain markup for selectors."""

from __future__ import annotations

import json
from typing import Any


def jsonld_page(reviews: list[dict[str, Any]], aggregate: dict[str, Any] | None = None) -> bytes:
    product: dict[str, Any] = {"@context": "https://schema.org", "@type": "Product", "name": "Acme Router",
                               "review": [{"@type": "Review", **r} for r in reviews]}
    if aggregate:
        product["aggregateRating"] = {"@type": "AggregateRating", **aggregate}
    return (f"<!doctype html><html><head><title>Acme reviews</title><script type=\"application/ld+json\">"
            f"{json.dumps(product)}</script></head><body><h1>Acme</h1></body></html>").encode()


def microdata_page(reviews: list[tuple[str, str, str, str]]) -> bytes:
    """(author, rating on 5, date, body) each."""
    items = "".join(
        f"""<div itemprop="review" itemscope itemtype="https://schema.org/Review">
  <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">{a}</span></span>
  <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
    <meta itemprop="worstRating" content="1"><span itemprop="ratingValue">{r}</span>/<span itemprop="bestRating">5</span>
  </div><meta itemprop="datePublished" content="{d}"><p itemprop="reviewBody">{b}</p></div>""" for a, r, d, b in reviews)
    return (f"<html><body><div itemscope itemtype=\"https://schema.org/Product\"><h1 itemprop=\"name\">Acme</h1>"
            f"{items}</div></body></html>").encode()


def plain_page(reviews: list[tuple[str, str, int, str]]) -> bytes:
    """(id, author, stars out of 10, text) each, no structured data at all."""
    items = "".join(f'<article class="rev" data-id="{i}"><span class="who">{a}</span>'
                    f'<div class="stars" data-score="{s}">{s}/10</div><p class="body">{t}</p></article>'
                    for i, a, s, t in reviews)
    return f"<html><body><main>{items}</main></body></html>".encode()
