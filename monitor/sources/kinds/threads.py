"""Threads keyword search (`GET /v1.0/keyword_search`, Threads API), recent posts first.

Needs a Threads user access token with `threads_basic` and `threads_keyword_search`; searching other
people's public posts needs the permission approved in Meta App Review (without it, only the token owner's
own posts are found). Meta allows 2,200 search queries per user per 24 hours. `since` (a Unix time) asks
only for posts after the newest one seen; pages follow `paging.next`. Throttling headers: `_graph.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register
from monitor.sources.kinds import _graph

FIELDS = "id,text,media_type,permalink,timestamp,username,has_replies,is_quote_post,is_reply"


class ThreadsOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    token_env: str = "THREADS_ACCESS_TOKEN"
    api_url: str = "https://graph.threads.net"
    search_type: Literal["RECENT", "TOP"] = "RECENT"
    page_size: int = Field(50, ge=1, le=100)
    max_pages: int = Field(3, ge=1, le=20)

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class ThreadsCollector(Collector):
    """Threads keyword search (Threads API, user token with threads_keyword_search); recent posts."""

    kind = "threads"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = ThreadsOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.token_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        return None if environ.get(options.token_env) else (
            f"no ${options.token_env}: a Threads user token with threads_keyword_search (Meta App Review "
            "to search posts other than the token owner's)")

    def collect(self, state: SourceState) -> CollectResult:
        opts: ThreadsOptions = self.options  # type: ignore[assignment]
        token = auth.require(opts.token_env, opts.id, "access token")
        since = float((state.cursor or {}).get("since") or 0)
        newest = since
        params: dict[str, Any] = {"q": opts.query, "search_type": opts.search_type, "fields": FIELDS,
                                  "limit": opts.page_size}
        if since:
            params["since"] = int(since) + 1
        mentions: list[Mention] = []
        warnings: list[str] = []
        pages = opts.max_pages if since else 1
        count = 0
        for page in _graph.pages(self, f"{opts.api_url}/v1.0/keyword_search", params, lambda: token,
                                 "Threads API", pages, warnings):
            count += 1
            for post in page:
                try:
                    m = _mention(post, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a post: {exc}"[:300])
                    continue
                mentions.append(m)
                newest = max(newest, m.published or 0)
        if since and count == pages and len(mentions) >= pages * opts.page_size:
            warnings.append(f"more than {pages * opts.page_size} new posts since the last poll; the rest were "
                            "skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _mention(p: dict[str, Any], source_id: str) -> Mention:
    user = p.get("username")
    link = p.get("permalink")
    return Mention(source_id=source_id, source_kind="threads", external_id=str(p["id"]),
                   text=str(p.get("text") or ""), author=f"@{user}" if user else None,
                   published=api.parse_time(p.get("timestamp")),
                   url=link if isinstance(link, str) and link.startswith("https://") else None,
                   raw={"media_type": p.get("media_type"), "reply": p.get("is_reply"),
                        "quote": p.get("is_quote_post")})
