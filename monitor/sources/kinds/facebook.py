"""Facebook Page comments and visitor posts, from the Graph API with a Page access token.

What customers write on a brand's own Page: comments under the Page's recent posts
(`/{page-id}/posts?fields=comments.order(reverse_chronological){...}`) and posts visitors leave on it
(`/{page-id}/visitor_posts`). Needs a Page access token of someone who manages the Page (permissions
`pages_read_engagement` and `pages_read_user_content`; App Review for an app used beyond its developers).
The token goes in the `Authorization` header, never the URL. Usage headers and throttling: `_graph.py`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register
from monitor.sources.kinds import _graph

COMMENT_FIELDS = "id,message,created_time,from{id,name},permalink_url,like_count"


class FacebookOptions(SourceOptions):
    page_id: str                                   # the Page's numeric id (or its username)
    page_token_env: str = "FACEBOOK_PAGE_TOKEN"
    api_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    include: list[Literal["comments", "visitor_posts"]] = Field(default_factory=lambda: [  # type: ignore[arg-type]
        "comments", "visitor_posts"])
    posts: int = Field(25, ge=1, le=100)           # recent Page posts whose comments are read
    comments_per_post: int = Field(50, ge=1, le=100)
    max_pages: int = Field(3, ge=1, le=20)

    @field_validator("page_id")
    @classmethod
    def _page(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.]{1,100}", v):
            raise ValueError(f'page_id "{v}" is not a Page id or username')
        return v

    @field_validator("api_version")
    @classmethod
    def _ver(cls, v: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", v):
            raise ValueError(f'api_version "{v}" is not a Graph API version such as v21.0')
        return v

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class FacebookCollector(Collector):
    """Facebook Page comments and visitor posts (Graph API, Page access token); likes as reach."""

    kind = "facebook"
    example: ClassVar[dict[str, Any]] = {"page_id": "104000000000001"}
    Options = FacebookOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"page_id": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.page_token_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        return None if environ.get(options.page_token_env) else (
            f"no ${options.page_token_env}: a Page access token with pages_read_engagement and "
            "pages_read_user_content (Meta App Review for use beyond the app's developers)")

    def collect(self, state: SourceState) -> CollectResult:
        opts: FacebookOptions = self.options  # type: ignore[assignment]
        token = auth.require(opts.page_token_env, opts.id, "Page access token")
        base = f"{opts.api_url}/{opts.api_version}/{opts.page_id}"
        first = not state.cursor
        pages = 1 if first else opts.max_pages
        seen: dict[str, Mention] = {}
        warnings: list[str] = []
        if "comments" in opts.include:
            fields = (f"id,permalink_url,comments.order(reverse_chronological).limit({opts.comments_per_post})"
                      f"{{{COMMENT_FIELDS}}}")
            for posts in _graph.pages(self, f"{base}/posts", {"fields": fields, "limit": opts.posts},
                                      lambda: token, "Graph API", 1, warnings):
                for post in posts:
                    for c in ((post.get("comments") or {}).get("data") or []) if isinstance(post, dict) else []:
                        self._add(seen, warnings, c, "comment", post.get("permalink_url"))
        if "visitor_posts" in opts.include:
            for page in _graph.pages(self, f"{base}/visitor_posts",
                                     {"fields": COMMENT_FIELDS.replace(",like_count", ""), "limit": 50},
                                     lambda: token, "Graph API", pages, warnings):
                for p in page:
                    self._add(seen, warnings, p, "visitor_post", None)
        return CollectResult(mentions=list(seen.values()), warnings=warnings, cursor={"polled": True})

    def _add(self, seen: dict[str, Mention], warnings: list[str], item: Any, what: str, post_url: Any) -> None:
        try:
            m = _mention(item, what, post_url, self.options.id)
        except (KeyError, TypeError, ValueError) as exc:
            warnings.append(f"skipped a {what}: {exc}"[:300])
            return
        seen.setdefault(m.external_id, m)


def _mention(item: dict[str, Any], what: str, post_url: Any, source_id: str) -> Mention:
    sender = item.get("from") or {}
    likes = item.get("like_count")
    url = item.get("permalink_url") or post_url
    return Mention(source_id=source_id, source_kind="facebook", external_id=_id(item),
                   text=str(item.get("message") or ""), author=sender.get("name") or None,
                   published=api.parse_time(item.get("created_time")),
                   url=url if isinstance(url, str) and url.startswith("https://") else None,
                   reach=likes if isinstance(likes, int) else None, raw={"type": what})


def _id(item: dict[str, Any]) -> str:
    """The comment's id; Graph leaves `id` out for apps without the MODERATE task on the Page (Page Public
    Content Access), so the `comment_id` in its permalink, or the permalink itself, identifies it then."""
    if item.get("id"):
        return str(item["id"])
    link = item.get("permalink_url")
    if not isinstance(link, str) or not link:
        raise ValueError("a comment with neither id nor permalink_url")
    found = re.search(r"[?&]comment_id=(\d+)", link)
    return f"comment:{found.group(1)}" if found else link
