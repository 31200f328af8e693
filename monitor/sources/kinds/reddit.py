"""Reddit search through the OAuth API (app-only or script-app password grant), or the public JSON/RSS.

Reddit has refused unauthenticated JSON to most clients since mid-2026, so with credentials in the
environment (`$REDDIT_CLIENT_ID` + `$REDDIT_CLIENT_SECRET`, plus `$REDDIT_USERNAME` + `$REDDIT_PASSWORD` for a
script app acting as its user) the kind asks `https://www.reddit.com/api/v1/access_token` for a bearer token
(cached until it expires, shared by every Reddit source with the same app), searches
`https://oauth.reddit.com`, sends the User-Agent Reddit's API rules ask for
(`<platform>:<app id>:<version> (by /u/<username>)`), and honours `x-ratelimit-remaining/reset`: when the
budget is nearly spent the host is left alone until the reset. Without credentials it reads the public
`.json`/`.rss` search as before, and `monitor check` warns.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from monitor import __version__
from monitor.core.errors import ParseError, SourceAuthError
from monitor.core.model import Mention
from monitor.core.textutil import html_to_text
from monitor.sources import api, auth
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    register,
    web_url,
)
from monitor.sources.fetch import limiter_of
from monitor.sources.kinds.rss import FEED_ACCEPT, parse_feed

PUBLIC = "https://www.reddit.com"
OAUTH = "https://oauth.reddit.com"
TOKEN_PATH = "/api/v1/access_token"


class RedditOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)
    subreddit: str | None = None          # search one subreddit (restrict_sr) instead of all of Reddit
    format: Literal["json", "rss"] = "json"
    sort: Literal["new", "relevance", "top", "comments"] = "new"
    limit: int = Field(100, ge=1, le=100)
    api_url: str | None = None            # default: https://oauth.reddit.com with credentials, www.reddit.com without
    token_url: str | None = None          # default: https://www.reddit.com/api/v1/access_token (api_url's when set)
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    username_env: str = "REDDIT_USERNAME"   # with password_env: the script-app password grant
    password_env: str = "REDDIT_PASSWORD"
    user_agent: str | None = None         # default: python:mention-monitor:<version> (by /u/<username>)
    min_remaining: int = Field(5, ge=0)   # x-ratelimit-remaining at or below this: wait for the reset

    @field_validator("api_url", "token_url")
    @classmethod
    def _api(cls, v: str | None) -> str | None:
        return check_url(v, "api_url").rstrip("/") if v else v

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

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.client_id_env, options.client_secret_env, options.username_env, options.password_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        if environ.get(options.client_id_env) and environ.get(options.client_secret_env):
            if bool(environ.get(options.username_env)) != bool(environ.get(options.password_env)):
                return (f"only one of ${options.username_env} and ${options.password_env} is set: using the "
                        "app-only grant")
            return None
        return (f"no ${options.client_id_env} / ${options.client_secret_env}: Reddit refuses unauthenticated "
                "JSON to most clients (expect HTTP 403); create a script app at https://www.reddit.com/prefs/apps")

    def collect(self, state: SourceState) -> CollectResult:
        opts: RedditOptions = self.options  # type: ignore[assignment]
        client_id, secret = auth.env_value(opts.client_id_env), auth.env_value(opts.client_secret_env)
        if opts.format == "json" and client_id and secret:
            return self._oauth(opts, client_id, secret)
        base_url = opts.api_url or PUBLIC
        base = f"{base_url}/r/{opts.subreddit}/search" if opts.subreddit else f"{base_url}/search"
        params = self._params(opts)
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
        resp = self.get(base + ".json", state, params=params, headers={"Accept": "application/json"})
        if resp.not_modified:
            return CollectResult(not_modified=True, etag=state.etag, last_modified=state.last_modified)
        mentions, warnings = _listing(resp.json(opts.id), opts.id)
        return CollectResult(mentions=mentions, warnings=warnings, etag=resp.headers.get("etag"),
                             last_modified=resp.headers.get("last-modified"))

    @staticmethod
    def _params(opts: RedditOptions) -> dict[str, Any]:
        params: dict[str, Any] = {"q": opts.query, "sort": opts.sort, "limit": opts.limit, "raw_json": "1"}
        if opts.subreddit:
            params["restrict_sr"] = "1"
        return params

    def _oauth(self, opts: RedditOptions, client_id: str, secret: str) -> CollectResult:
        user, password = auth.env_value(opts.username_env), auth.env_value(opts.password_env)
        script = bool(user and password)
        ua = opts.user_agent or f"python:mention-monitor:{__version__} (by /u/{user or 'mention-monitor'})"
        base_url = opts.api_url or OAUTH
        token_url = opts.token_url or (f"{opts.api_url}{TOKEN_PATH}" if opts.api_url else PUBLIC + TOKEN_PATH)
        form = {"grant_type": "password", "username": user or "", "password": password or ""} if script \
            else {"grant_type": "client_credentials"}
        key = auth.cache_key("reddit", token_url, client_id, secret, *((user or "", password or "") if script else ()))
        url = f"{base_url}/r/{opts.subreddit}/search" if opts.subreddit else f"{base_url}/search"
        now = self.clock.now()
        for attempt in (1, 2):
            token = auth.grant(self.client, self.http_config, token_url, form, key=key, now=now, source_id=opts.id,
                               api_name="Reddit", basic=(client_id, secret), headers={"User-Agent": ua})
            resp = api.request(self.client, "GET", url, self.http_config, now=now, params=self._params(opts),
                               headers={"Authorization": f"bearer {token.value}", "User-Agent": ua,
                                        "Accept": "application/json"})
            if resp.status == 401 and attempt == 1:
                auth.CACHE.drop(key)          # revoked or expired early: one fresh token before giving up
                continue
            break
        warnings = self._honour_rate_headers(resp.headers, resp.url, opts)
        try:
            body = api.check(resp, source_id=opts.id, api="Reddit API", now=now, client=self.client)
        except SourceAuthError as exc:
            raise SourceAuthError(exc.reason + (" (script app: check the user's password and 2FA)" if script
                                                else ""), source_id=opts.id) from None
        mentions, more = _listing(body, opts.id)
        return CollectResult(mentions=mentions, warnings=warnings + more)

    def _honour_rate_headers(self, headers: dict[str, str], url: str, opts: RedditOptions) -> list[str]:
        """Reddit counts requests per 10-minute window: when the budget is nearly spent, leave the host
        alone until `x-ratelimit-reset` instead of running into 429s."""
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers.get("x-ratelimit-reset") or 0)
        except (KeyError, ValueError):
            return []
        if remaining > opts.min_remaining:
            return []
        limiter = limiter_of(self.client)
        if limiter is not None:
            limiter.block(urlsplit(url).netloc, self.clock.now() + reset)
        return [f"Reddit rate budget nearly spent ({remaining:g} requests left); no more requests to it "
                f"for {reset:g}s (x-ratelimit-reset)"]


def _listing(body: Any, source_id: str) -> tuple[list[Mention], list[str]]:
    try:
        children = body["data"]["children"]
        assert isinstance(children, list)
    except (KeyError, TypeError, AssertionError):
        raise ParseError("Reddit answered JSON that is not a listing", source_id=source_id) from None
    mentions, warnings = [], []
    for child in children:
        try:
            if isinstance(child, dict) and child.get("kind") in ("t3", "t1"):
                mentions.append(_mention(child["data"], source_id))
        except (KeyError, TypeError, ValueError) as exc:
            warnings.append(f"skipped a post: {exc}"[:300])
    return mentions, warnings


def _mention(d: dict[str, Any], source_id: str) -> Mention:
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
