"""Bluesky: `app.bsky.feed.searchPosts` (latest first), paged with its cursor; likes and reposts as reach.

Bluesky disabled unauthenticated `searchPosts` on its public AppView, so with a handle and an app password
in the environment (`$BLUESKY_HANDLE`, `$BLUESKY_APP_PASSWORD`) the kind opens a session
(`com.atproto.server.createSession` on `pds_url`, refreshed with `refreshSession`, see `sources/auth.py`) and
searches through the account's own PDS, which proxies `app.bsky.*` calls to the AppView. Without them it
asks `api_url` (default the public AppView) unauthenticated, and `monitor check` warns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register

PUBLIC_APPVIEW = "https://public.api.bsky.app"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
OVERLAP_S = 300     # re-ask a few minutes before the newest post seen: late-indexed posts are not lost


class BlueskyOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    api_url: str | None = None           # default: the session's PDS, or https://public.api.bsky.app without one
    pds_url: str = "https://bsky.social"  # where the session is created (the account's PDS or the entryway)
    handle_env: str = "BLUESKY_HANDLE"
    app_password_env: str = "BLUESKY_APP_PASSWORD"
    lang: str | None = None
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("api_url", "pds_url")
    @classmethod
    def _api(cls, v: str | None) -> str | None:
        return check_url(v, "api_url").rstrip("/") if v else v


@register
class BlueskyCollector(Collector):
    """Bluesky post search (app.bsky.feed.searchPosts, with cursor; session from a handle + app password)."""

    kind = "bluesky"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = BlueskyOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.handle_env, options.app_password_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        if environ.get(options.handle_env) and environ.get(options.app_password_env):
            return None
        return (f"no ${options.handle_env} / ${options.app_password_env}: Bluesky's public AppView refuses "
                "unauthenticated searchPosts (expect HTTP 403); create an app password in Settings > Privacy "
                "and security > App passwords")

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
            body = self._search(opts, params)
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

    def _search(self, opts: BlueskyOptions, params: dict[str, Any]) -> Any:
        handle, password = auth.env_value(opts.handle_env), auth.env_value(opts.app_password_env)
        if not (handle and password):
            return self.get(f"{opts.api_url or PUBLIC_APPVIEW}{SEARCH}", params=params,
                            headers={"Accept": "application/json"}).json(opts.id)
        key = auth.cache_key("bsky", opts.pds_url, handle)
        now = self.clock.now()
        for attempt in (1, 2):
            session = auth.bluesky_session(self.client, self.http_config, opts.pds_url, handle, password, now=now,
                                           source_id=opts.id)
            resp = api.request(self.client, "GET", f"{opts.api_url or session.extra['pds']}{SEARCH}",
                               self.http_config, now=now, params=params,
                               headers={"Authorization": f"Bearer {session.value}", "Accept": "application/json"})
            code = api.error_of(resp)[0]
            if attempt == 1 and resp.status in (400, 401) and code in ("ExpiredToken", "InvalidToken"):
                auth.expire(key)           # refresh (or a new session) and ask once more
                continue
            break
        return api.check(resp, source_id=opts.id, api="Bluesky searchPosts", now=now, client=self.client)


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
