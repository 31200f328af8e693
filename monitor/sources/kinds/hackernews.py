"""Hacker News through Algolia's `search_by_date` API: stories and comments, points as reach."""

from __future__ import annotations

from typing import Any, ClassVar

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

HN_ITEM = "https://news.ycombinator.com/item?id="
OVERLAP_S = 600     # Algolia indexes with some lag: re-ask the last 10 minutes (duplicates are dropped on store)


class HackerNewsOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    api_url: str = "https://hn.algolia.com"
    tags: list[str] = Field(default_factory=lambda: ["story", "comment"])
    max_pages: int = Field(5, ge=1, le=50)
    page_size: int = Field(100, ge=1, le=1000)

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if t not in ("story", "comment", "ask_hn", "show_hn", "poll")]
        if bad or not v:
            raise ValueError(f"tags {bad or v} not understood (story, comment, ask_hn, show_hn, poll)")
        return v


@register
class HackerNewsCollector(Collector):
    """Hacker News stories and comments (Algolia search_by_date); points as reach."""

    kind = "hackernews"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = HackerNewsOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: HackerNewsOptions = self.options  # type: ignore[assignment]
        since = (state.cursor or {}).get("since")
        mentions: list[Mention] = []
        warnings: list[str] = []
        newest = since
        pages = opts.max_pages if since else 1       # first poll: the latest page only, not years of history
        for page in range(pages):
            params: dict[str, Any] = {"query": opts.query, "tags": "(" + ",".join(opts.tags) + ")",
                                      "hitsPerPage": opts.page_size, "page": page}
            if since:
                params["numericFilters"] = f"created_at_i>={int(since) - OVERLAP_S}"
            body = self.get(f"{opts.api_url}/api/v1/search_by_date", params=params,
                            headers={"Accept": "application/json"}).json(opts.id)
            if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
                raise ParseError("Algolia answered without a hits list", source_id=opts.id)
            for hit in body["hits"]:
                try:
                    m = _mention(hit, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a hit: {exc}"[:300])
                    continue
                mentions.append(m)
                if m.published and (newest is None or m.published > newest):
                    newest = m.published
            if page + 1 >= int(body.get("nbPages") or 0):
                break
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} new items since the last poll; older ones "
                                "were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings,
                             cursor={"since": int(newest)} if newest else None)


def _mention(hit: dict[str, Any], source_id: str) -> Mention:
    oid = str(hit["objectID"])
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or (hit.get("comment_text") is not None and not hit.get("title"))
    if is_comment:
        title = f"Comment on: {hit.get('story_title') or 'a story'}"
        text = html_to_text(hit.get("comment_text"))
        url = HN_ITEM + oid
    else:
        title = html_to_text(hit.get("title"))
        text = html_to_text(hit.get("story_text")) or title
        url = web_url(hit.get("url")) or HN_ITEM + oid
    created = hit.get("created_at_i")
    return Mention(source_id=source_id, source_kind="hackernews", external_id=oid, title=title or None,
                   text=text, url=url, author=hit.get("author") or None,
                   published=float(created) if created is not None else None,
                   reach=int(hit["points"]) if hit.get("points") is not None else None,
                   raw={"type": "comment" if is_comment else "story", "hn_url": HN_ITEM + oid,
                        "story_id": hit.get("story_id"), "num_comments": hit.get("num_comments")})
