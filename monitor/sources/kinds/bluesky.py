"""Bluesky: `app.bsky.feed.searchPosts` (latest first), paged with its cursor; likes and reposts as reach."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register

OVERLAP_S = 300     # re-ask a few minutes before the newest post seen: late-indexed posts are not lost


class BlueskyOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    api_url: str = "https://public.api.bsky.app"
    lang: str | None = None
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class BlueskyCollector(Collector):
    """Bluesky post search (app.bsky.feed.searchPosts, with cursor); likes and reposts as reach."""

    kind = "bluesky"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = BlueskyOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: BlueskyOptions = self.options  # type: ignore[assignment]
        since = (state.cursor or {}).get("since")
        newest = since
        mentions: list[Mention] = []
        warnings: list[str] = []
        page_cursor: str | None = None
        pages = opts.max_pages if since else 1
        for _ in range(pages):
            params: dict[str, Any] = {"q": opts.query, "sort": "latest", "limit": opts.page_size}
            if since:
                params["since"] = _iso(since - OVERLAP_S)
            if opts.lang:
                params["lang"] = opts.lang
            if page_cursor:
                params["cursor"] = page_cursor
            body = self.get(f"{opts.api_url}/xrpc/app.bsky.feed.searchPosts", params=params,
                            headers={"Accept": "application/json"}).json(opts.id)
            if not isinstance(body, dict) or not isinstance(body.get("posts"), list):
                raise ParseError("searchPosts answered without a posts list", source_id=opts.id)
            for post in body["posts"]:
                try:
                    m, indexed = _mention(post, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a post: {exc}"[:300])
                    continue
                mentions.append(m)
                if indexed and (newest is None or indexed > newest):
                    newest = indexed
            page_cursor = body.get("cursor")
            if not page_cursor or not body["posts"]:
                break
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} new posts since the last poll; older ones "
                                "were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _ts(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _iso(ts: float) -> str:
    return datetime.utcfromtimestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mention(post: dict[str, Any], source_id: str) -> tuple[Mention, float | None]:
    uri = str(post["uri"])
    record = post.get("record") or {}
    author = post.get("author") or {}
    handle = author.get("handle") or author.get("did") or ""
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    langs = record.get("langs") or []
    lang = langs[0].split("-")[0] if langs and isinstance(langs[0], str) else None
    published = _ts(record.get("createdAt"))
    m = Mention(source_id=source_id, source_kind="bluesky", external_id=uri, text=str(record.get("text") or ""),
                url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle else None,
                author=f"@{handle}" if handle else None, published=published,
                language=lang if lang and len(lang) == 2 else None,
                reach=int(post.get("likeCount") or 0) + int(post.get("repostCount") or 0),
                raw={"likes": post.get("likeCount"), "reposts": post.get("repostCount"),
                     "replies": post.get("replyCount"), "display_name": author.get("displayName"),
                     "cid": post.get("cid"),        # a reply needs the parent's uri and cid, and the thread root
                     "reply_root": (record.get("reply") or {}).get("root") if isinstance(record.get("reply"), dict)
                     else None})
    return m, _ts(post.get("indexedAt")) or published
