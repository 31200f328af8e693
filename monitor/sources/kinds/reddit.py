"""Reddit search results (JSON listing, or the RSS feed): score and comment count as reach."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.core.textutil import html_to_text
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    register,
    web_url,
)
from monitor.sources.kinds.rss import FEED_ACCEPT, parse_feed


class RedditOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    subreddit: str | None = None          # search one subreddit (restrict_sr) instead of all of Reddit
    format: Literal["json", "rss"] = "json"
    sort: Literal["new", "relevance", "top", "comments"] = "new"
    limit: int = Field(100, ge=1, le=100)
    api_url: str = "https://www.reddit.com"

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")

    @field_validator("subreddit")
    @classmethod
    def _sub(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.removeprefix("/").removeprefix("r/")
        if not re.fullmatch(r"[A-Za-z0-9_]{2,21}", v):
            raise ValueError(f'subreddit "{v}" is not a subreddit name')
        return v


@register
class RedditCollector(Collector):
    """Reddit search (JSON or RSS), optionally within one subreddit; score and comments as reach."""

    kind = "reddit"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = RedditOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: RedditOptions = self.options  # type: ignore[assignment]
        base = f"{opts.api_url}/r/{opts.subreddit}/search" if opts.subreddit else f"{opts.api_url}/search"
        params: dict[str, Any] = {"q": opts.query, "sort": opts.sort, "limit": opts.limit}
        if opts.subreddit:
            params["restrict_sr"] = "1"
        if opts.format == "rss":
            resp = self.get(base + ".rss", state, params=params, headers={"Accept": FEED_ACCEPT})
            if resp.not_modified:
                return CollectResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
            mentions, warnings = parse_feed(resp.body, resp.headers, opts.id, self.kind, resp.url)
            for m in mentions:          # feedparser resolves the bare "t3_x" id against the feed URL: undo it
                fullname = re.search(r"(t[13]_[0-9a-z]+)$", m.external_id)
                if fullname:
                    m.external_id = fullname.group(1)
            return CollectResult(mentions=mentions, warnings=warnings, etag=resp.headers.get("etag"),
                                 last_modified=resp.headers.get("last-modified"))
        params["raw_json"] = "1"
        resp = self.get(base + ".json", state, params=params, headers={"Accept": "application/json"})
        if resp.not_modified:
            return CollectResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        body = resp.json(opts.id)
        try:
            children = body["data"]["children"]
            assert isinstance(children, list)
        except (KeyError, TypeError, AssertionError):
            raise ParseError("Reddit answered JSON that is not a listing", source_id=opts.id) from None
        mentions, warnings = [], []
        for child in children:
            try:
                if isinstance(child, dict) and child.get("kind") in ("t3", "t1"):
                    mentions.append(_mention(child["data"], opts.id, opts.api_url))
            except (KeyError, TypeError, ValueError) as exc:
                warnings.append(f"skipped a post: {exc}"[:300])
        return CollectResult(mentions=mentions, warnings=warnings, etag=resp.headers.get("etag"),
                             last_modified=resp.headers.get("last-modified"))


def _mention(d: dict[str, Any], source_id: str, api_url: str) -> Mention:
    score, comments = int(d.get("score") or 0), int(d.get("num_comments") or 0)
    permalink = d.get("permalink") or ""
    link = web_url("https://www.reddit.com" + permalink) if permalink.startswith("/") else web_url(d.get("url"))
    title = html_to_text(d.get("title"))
    body = html_to_text(d.get("selftext") or d.get("body"))
    author = d.get("author")
    return Mention(source_id=source_id, source_kind="reddit", external_id=str(d.get("name") or d["id"]),
                   title=title or None, text=body or title, url=link,
                   author=f"u/{author}" if author and author != "[deleted]" else None,
                   published=float(d["created_utc"]) if d.get("created_utc") is not None else None,
                   reach=max(0, score) + comments,
                   raw={"subreddit": d.get("subreddit"), "score": score, "num_comments": comments,
                        "link": web_url(d.get("url")), "nsfw": bool(d.get("over_18"))})
