"""Apple App Store customer reviews, from Apple's public customer-reviews feed (JSON), with star ratings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    register,
    web_url,
)


class AppStoreOptions(SourceOptions):
    app_id: str
    countries: list[str] = Field(default_factory=lambda: ["us"])
    pages: int = Field(1, ge=1, le=10)               # 50 reviews per page, most recent first
    api_url: str = "https://itunes.apple.com"

    @field_validator("app_id", mode="before")
    @classmethod
    def _app(cls, v: Any) -> str:
        v = str(v)
        m = re.search(r"(?:^|id)(\d{5,12})(?:$|\D)", v)
        if not m:
            raise ValueError(f'app_id "{v}" is not an App Store id (the digits after "id" in the app\'s URL)')
        return m.group(1)

    @field_validator("countries")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[A-Za-z]{2}", c)]
        if bad or not v:
            raise ValueError(f"countries {bad or v}: two-letter store codes such as us, gb, fr")
        return [c.lower() for c in v]

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class AppStoreCollector(Collector):
    """Apple App Store reviews (customer-reviews JSON feed) per country, with star ratings."""

    kind = "appstore"
    example: ClassVar[dict[str, Any]] = {"app_id": "284882215"}
    Options = AppStoreOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"app_id": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: AppStoreOptions = self.options  # type: ignore[assignment]
        mentions: list[Mention] = []
        warnings: list[str] = []
        for country in opts.countries:
            for page in range(1, opts.pages + 1):
                url = f"{opts.api_url}/{country}/rss/customerreviews/page={page}/id={opts.app_id}/sortby=mostrecent/json"
                body = self.get(url, headers={"Accept": "application/json"}).json(opts.id)
                feed = body.get("feed") if isinstance(body, dict) else None
                if not isinstance(feed, dict):
                    raise ParseError("Apple answered JSON without a feed", source_id=opts.id)
                entries = feed.get("entry") or []
                if isinstance(entries, dict):          # a single review comes as an object, not a list
                    entries = [entries]
                for e in entries:
                    if not isinstance(e, dict) or "im:rating" not in e:
                        continue                       # the app's own metadata entry, in older answers
                    try:
                        mentions.append(_mention(e, country, opts.app_id, opts.id))
                    except (KeyError, TypeError, ValueError) as exc:
                        warnings.append(f"skipped a review ({country}): {exc}"[:300])
                if len(entries) < 50:
                    break
        return CollectResult(mentions=mentions, warnings=warnings)


def _label(e: dict[str, Any], key: str) -> str:
    v = e.get(key)
    return str(v.get("label", "")) if isinstance(v, dict) else ""


def _mention(e: dict[str, Any], country: str, app_id: str, source_id: str) -> Mention:
    rating = float(_label(e, "im:rating"))
    if not 1 <= rating <= 5:
        raise ValueError(f"rating {rating:g} outside 1-5")
    author = e.get("author") or {}
    name = author.get("name", {}).get("label") if isinstance(author, dict) else None
    link = (e.get("link") or {}).get("attributes", {}).get("href") if isinstance(e.get("link"), dict) else None
    updated = _label(e, "updated")
    return Mention(source_id=source_id, source_kind="appstore", external_id=f"{country}:{_label(e, 'id')}",
                   title=_label(e, "title") or None, text=_label(e, "content"), author=name or None,
                   url=web_url(link) or f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews",
                   published=datetime.fromisoformat(updated).timestamp() if updated else None, rating=rating,
                   raw={"country": country, "version": _label(e, "im:version"),
                        "votes": _label(e, "im:voteCount")})
