"""YouTube comments on a channel's videos or on chosen videos (Data API v3 `commentThreads.list`).

An API key (Google Cloud console, YouTube Data API v3 enabled) is enough for public comments. Each call
costs 1 unit of the default 10,000-unit daily quota; a 403 `quotaExceeded` is a rate limit until midnight
Pacific time (`sources/api.py`), not a refused key. Threads come newest first (`order=time`), paged with
`nextPageToken`; the top-level comment is the mention, its reply count is kept.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from monitor.core.errors import ParseError, SourceAuthError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register

KEY_REFUSED = ("keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked", "forbidden")


class YouTubeOptions(SourceOptions):
    channel_id: str | None = None              # UC...: every comment thread on the channel's videos
    video_ids: list[str] = Field(default_factory=list)
    api_key_env: str = "YOUTUBE_API_KEY"
    api_url: str = "https://www.googleapis.com"
    # replying (comments.insert) needs OAuth of the channel's owner, scope youtube.force-ssl: an API key cannot
    oauth_client_id_env: str = "YOUTUBE_CLIENT_ID"
    oauth_client_secret_env: str = "YOUTUBE_CLIENT_SECRET"
    oauth_refresh_token_env: str = "YOUTUBE_REFRESH_TOKEN"
    token_url: str = auth.GOOGLE_TOKEN_URL
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(3, ge=1, le=50)

    @field_validator("channel_id")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"UC[A-Za-z0-9_-]{22}", v):
            raise ValueError(f'channel_id "{v}" is not a channel id (UC followed by 22 characters)')
        return v

    @field_validator("video_ids")
    @classmethod
    def _videos(cls, v: list[str]) -> list[str]:
        out = []
        for vid in v:
            m = re.search(r"(?:v=|youtu\.be/|^)([A-Za-z0-9_-]{11})(?:$|[&?#])", vid)
            if not m:
                raise ValueError(f'video id "{vid}" is not an 11-character YouTube video id')
            out.append(m.group(1))
        return out

    @field_validator("api_url", "token_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")

    @model_validator(mode="after")
    def _something(self) -> YouTubeOptions:
        if not self.channel_id and not self.video_ids:
            raise ValueError("give channel_id: or video_ids: (or both)")
        return self


@register
class YouTubeCollector(Collector):
    """YouTube comment threads on a channel's or chosen videos (Data API v3, API key); likes as reach."""

    kind = "youtube"
    example: ClassVar[dict[str, Any]] = {"channel_id": "UC_x5XG1OV2P6uZZ5FSM9Ttw"}
    Options = YouTubeOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"channel_id": target} if target.startswith("UC") else {"video_ids": [target]}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.api_key_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        return None if environ.get(options.api_key_env) else \
            f"no ${options.api_key_env}: create an API key with the YouTube Data API v3 enabled"

    def collect(self, state: SourceState) -> CollectResult:
        opts: YouTubeOptions = self.options  # type: ignore[assignment]
        key = auth.require(opts.api_key_env, opts.id, "API key")
        cursor: dict[str, float] = dict(state.cursor or {})
        streams = ([("channel:" + opts.channel_id, {"allThreadsRelatedToChannelId": opts.channel_id})]
                   if opts.channel_id else []) + [(f"video:{v}", {"videoId": v}) for v in opts.video_ids]
        seen: dict[str, Mention] = {}
        warnings: list[str] = []
        for name, target in streams:
            since = float(cursor.get(name) or 0)
            newest, token = since, None
            pages = opts.max_pages if since else 1
            for _ in range(pages):
                params = {"part": "snippet", "order": "time", "textFormat": "plainText",
                          "maxResults": opts.page_size, "key": key, **target}
                if token:
                    params["pageToken"] = token
                body = self._page(params, opts)
                older = False
                for item in body["items"]:
                    try:
                        m = _mention(item, opts.id)
                    except (KeyError, TypeError, ValueError) as exc:
                        warnings.append(f"skipped a comment: {exc}"[:300])
                        continue
                    seen.setdefault(m.external_id, m)
                    newest = max(newest, m.published or 0)
                    older = older or bool(since and (m.published or 0) <= since)
                token = body.get("nextPageToken")
                if not token or older or not body["items"]:
                    break
            else:
                if since:
                    warnings.append(f"{name}: more than {pages * opts.page_size} new comments; the rest were "
                                    "skipped (raise max_pages or poll more often)")
            if newest:
                cursor[name] = newest
        return CollectResult(mentions=list(seen.values()), warnings=warnings, cursor=cursor or None)

    def _page(self, params: dict[str, Any], opts: YouTubeOptions) -> dict[str, Any]:
        now = self.clock.now()
        resp = api.request(self.client, "GET", f"{opts.api_url}/youtube/v3/commentThreads", self.http_config,
                           now=now, params=params, headers={"Accept": "application/json"})
        code, message, _ = api.error_of(resp)
        if resp.status in (400, 403) and (code in KEY_REFUSED or "API key not valid" in message):
            raise SourceAuthError(f"YouTube Data API refused the key: HTTP {resp.status} {code}: "
                                  f"{message}"[:300], source_id=opts.id)
        body = api.check(resp, source_id=opts.id, api="YouTube Data API", now=now, client=self.client,
                         auth_statuses=(401,))      # 403 commentsDisabled / videoNotFound: this target, not the key
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ParseError("commentThreads answered without an items list", source_id=opts.id)
        return body


def _mention(item: dict[str, Any], source_id: str) -> Mention:
    snip = item["snippet"]
    top = snip["topLevelComment"]
    c = top["snippet"]
    video = c.get("videoId") or snip.get("videoId")
    cid = str(top.get("id") or item["id"])
    author = c.get("authorDisplayName")
    return Mention(source_id=source_id, source_kind="youtube", external_id=cid,
                   text=str(c.get("textOriginal") or c.get("textDisplay") or ""),
                   author=author or None, published=api.parse_time(c.get("publishedAt")),
                   url=f"https://www.youtube.com/watch?v={video}&lc={cid}" if video else None,
                   reach=c.get("likeCount") if isinstance(c.get("likeCount"), int) else None,
                   raw={"video_id": video, "replies": snip.get("totalReplyCount"),
                        "channel": (c.get("authorChannelId") or {}).get("value")})
