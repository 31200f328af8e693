"""Posting a reply through the platform's own API, as a reply to the original post.

One class per platform, registered by the source kinds it answers (`@register_poster`); adding a platform is
one class. Every poster sends an idempotency key where the platform honours one (Mastodon's
`Idempotency-Key`), and classifies the answer the same way: 2xx is posted (with the new post's id and link),
429 and 5xx and network failures are `ReplyTransient` (waited for, retried), any other 4xx is `ReplyRefused`
with the platform's own reason, shown to whoever replied.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from monitor.core import logs
from monitor.respond.attempt import ReplyRefused, ReplyTransient, judge, send
from monitor.sources import REGISTRY, SourceOptions, api
from monitor.sources.fetch import HttpConfig, Response
from monitor.store.database import loads

POSTERS: dict[str, type[Poster]] = {}      # source kind -> poster
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "RATE_LIMIT_EXCEEDED"}


@dataclass(frozen=True)
class Posted:
    external_id: str
    url: str | None


def register_poster(cls: type[Poster]) -> type[Poster]:
    for kind in cls.kinds:
        POSTERS[kind] = cls
    return cls


def poster_for(kind: str | None) -> type[Poster] | None:
    return POSTERS.get(kind or "")


class Poster:
    """Base class: `kinds` it answers, `post` one reply to one stored mention."""

    kinds: ClassVar[tuple[str, ...]]
    platform: ClassVar[str]
    endpoint_envs: ClassVar[tuple[str, ...]] = ()    # variables that name this platform's API (BLUESKY_PDS_URL)
    default_endpoints: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source: SourceOptions | None, client: httpx.Client, http: HttpConfig | None = None):
        self.source = source
        self.client = client
        self.http = http or HttpConfig()        # the deployment's `http:`: redirects, token fetches' bounds

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:  # pragma: no cover - abstract
        raise NotImplementedError

    def endpoints(self) -> list[str]:
        """What ops configured for this platform, which the attempt's address policy trusts even if internal:
        the source's URL options (its instances, `api_url`, `token_url`; the kind's defaults when the source is
        gone from monitor.yaml), the poster's variables and defaults. Not a host the stored mention names."""
        if self.source is not None:
            values = list(self.source.model_dump().values())
        else:
            kind = REGISTRY.get(self.kinds[0])
            values = [f.default for f in kind.Options.model_fields.values()] if kind is not None else []
        values += [os.environ.get(e, "") for e in self.endpoint_envs] + list(self.default_endpoints)
        flat = [u for v in values for u in (v if isinstance(v, list | tuple) else [v])]
        return [u for u in flat if isinstance(u, str) and u.startswith(("http://", "https://", "ws://", "wss://"))]

    def opt(self, name: str, default: Any = None) -> Any:
        """The source's option, or `default` when the source has none or leaves it unset (a mastodon stream
        source without `token_env` asked for "$None" instead of the default variable)."""
        value = getattr(self.source, name, None) if self.source is not None else None
        return default if value is None else value

    def secret(self, env: str | None) -> str:
        value = os.environ.get(env or "")
        if not value:
            raise ReplyRefused(f"no credentials for {self.platform}: set ${env} (a token with write access)")
        logs.add_secret(value)
        return value

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, redirects judged (`attempt.send`), the network's failures transient."""
        return send(self.client, self.http, method, url, self.platform, **kwargs)

    def send(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return check(self.request(method, url, **kwargs), self.platform)


def check(resp: httpx.Response, platform: str) -> dict[str, Any]:
    """The platform's answer as JSON, or the right exception with its own reason."""
    if resp.status_code == 429 or resp.status_code >= 500:
        retry = resp.headers.get("Retry-After")
        reset = resp.headers.get("x-rate-limit-reset") or resp.headers.get("X-RateLimit-Reset")
        wait: float | None = None
        if retry and retry.replace(".", "", 1).isdigit():
            wait = float(retry)
        elif reset and reset.isdigit():
            wait = max(1.0, float(reset) - datetime.now(UTC).timestamp())
        raise ReplyTransient(f"{platform} answered HTTP {resp.status_code}", wait)
    if resp.status_code >= 400 and _error_code(resp) in RATE_REASONS:     # Google's 403 rateLimitExceeded
        raise ReplyTransient(f"{platform} answered HTTP {resp.status_code}: {reason(resp)}")
    if resp.status_code >= 400:
        raise ReplyRefused(f"{platform} refused the reply (HTTP {resp.status_code}): {reason(resp)}")
    if resp.status_code >= 300:            # one `send` did not follow: not a success (nothing was made)
        where = resp.headers.get("Location")
        raise ReplyRefused(f"{platform} answered HTTP {resp.status_code}"
                           + (f" redirecting to {logs.scrubbed(where, 200)}" if where else "")
                           + ": a redirect is not a success")
    try:
        body = resp.json() if resp.content else {}
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {"data": body}


def reason(resp: httpx.Response) -> str:
    """The error text platforms put in their bodies (error, message, detail, errors[0]), one line, capped, and
    scrubbed before the cap (a platform echoing the token it refused)."""
    return logs.scrubbed(" ".join(_reason(resp).split()), 200) or resp.reason_phrase


def _reason(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:4000]
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict) or isinstance(body.get("fault"), dict) or (
                isinstance(body.get("errors"), list) and body["errors"] and isinstance(body["errors"][0], dict)):
            code, message, _ = api.error_of(_as_response(resp))    # Google, Graph, Apigee, Apple JSON:API
            if code or message:
                return f"{code}: {message}" if code and message else code or message
        if isinstance(body.get("error"), str) and isinstance(body.get("message"), str):   # AT Protocol: code + text
            return f"{body['error']}: {body['message']}"
        for key in ("error_description", "error", "message", "detail", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])
        errs = body.get("errors")
        if isinstance(errs, list) and errs:
            return json.dumps(errs[0])
    return resp.reason_phrase


@register_poster
class MastodonPoster(Poster):
    """POST /api/v1/statuses with `in_reply_to_id`, the source's token and an Idempotency-Key."""

    kinds = ("mastodon", "mastodon-stream")
    platform = "mastodon"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        raw = loads(mention.get("raw"), {}) or {}
        status_id = str(raw.get("id") or "")
        if not status_id.isdigit():
            raise ReplyRefused("this Mastodon mention has no status id to reply to (collected before replies "
                               "were supported): reply on the platform and use Mark replied")
        configured = self.instances()
        instance = str(raw.get("instance_url") or raw.get("instance") or "")
        if instance and "://" not in instance:
            instance = f"https://{instance}"
        if not instance and len(configured) == 1:
            instance = configured[0]
        if not instance:
            raise ReplyRefused("this Mastodon mention does not say which instance it came from")
        if origin(instance) not in {origin(u) for u in configured}:
            raise ReplyRefused(self.unlisted(mention, instance, configured))
        token = self.secret(self.opt("token_env", "MASTODON_ACCESS_TOKEN"))
        body = self.send("POST", f"{instance.rstrip('/')}/api/v1/statuses",
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                         data={"status": text, "in_reply_to_id": status_id, "visibility": "public"})
        return Posted(str(body.get("id") or ""), body.get("url") or body.get("uri"))

    def instances(self) -> list[str]:
        """The instances the source's config lists (`instances`, or a stream's `instance`): the only places
        its token may go. None when the source is gone from monitor.yaml: whose token it was is unknown."""
        if self.source is None:
            return []
        value = getattr(self.source, "instances", None) or getattr(self.source, "instance", None) or []
        return [str(u) for u in ([value] if isinstance(value, str) else value)]

    def unlisted(self, mention: dict[str, Any], instance: str, configured: list[str]) -> str:
        """Why the token is not sent to `instance` (the mention's, named by a stored row: a row collected under
        an older config, an instance since removed, a crafted row): one line, for the thread and the log."""
        where = (f"source {self.source.id} lists {', '.join(configured) or 'no instance'}" if self.source is not None
                 else f"source {mention.get('source_id') or '?'} is no longer in monitor.yaml")
        return (f"this mention came from {instance}, which is not an instance configured for its source ({where}):"
                " its access token is not sent there; reply on Mastodon and use Mark replied")


def origin(url: str) -> tuple[str, str, int | None, str]:
    """A URL as the place a credential goes: scheme, host and port (the default port spelled or not), and the
    path prefix. By name, not by address: two names on one address may be two instances (virtual hosts)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").rstrip("."), port, parts.path.rstrip("/")


@register_poster
class BlueskyPoster(Poster):
    """com.atproto.repo.createRecord of an app.bsky.feed.post with a reply ref (root and parent uri+cid)."""

    kinds = ("bluesky", "jetstream")
    platform = "bluesky"
    PDS = "https://bsky.social"
    endpoint_envs = ("BLUESKY_PDS_URL",)
    default_endpoints = (PDS,)

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        raw = loads(mention.get("raw"), {}) or {}
        uri, cid = str(mention.get("external_id") or ""), raw.get("cid")
        if not uri.startswith("at://") or not cid:
            raise ReplyRefused("this Bluesky mention has no uri and cid to reply to: use Mark replied")
        pds = os.environ.get("BLUESKY_PDS_URL") or self.PDS
        handle = self.secret("BLUESKY_HANDLE")
        session = self.send("POST", f"{pds}/xrpc/com.atproto.server.createSession", secret_body=True,
                            json={"identifier": handle, "password": self.secret("BLUESKY_APP_PASSWORD")})
        parent = {"uri": uri, "cid": cid}
        root = raw.get("reply_root") if isinstance(raw.get("reply_root"), dict) else parent
        record = {"$type": "app.bsky.feed.post", "text": text, "reply": {"root": root, "parent": parent},
                  "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        body = self.send("POST", f"{pds}/xrpc/com.atproto.repo.createRecord",
                         headers={"Authorization": f"Bearer {session.get('accessJwt', '')}"},
                         json={"repo": session.get("did"), "collection": "app.bsky.feed.post", "record": record})
        new_uri = str(body.get("uri") or "")
        rkey = new_uri.rsplit("/", 1)[-1]
        return Posted(new_uri, f"https://bsky.app/profile/{handle}/post/{rkey}" if rkey else None)


@register_poster
class RedditPoster(Poster):
    """POST /api/comment (thing_id = the post's fullname) on oauth.reddit.com with a user token."""

    kinds = ("reddit",)
    platform = "reddit"
    endpoint_envs = ("REDDIT_OAUTH_URL",)
    default_endpoints = ("https://oauth.reddit.com",)

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        thing = str(mention.get("external_id") or "")
        if not thing.startswith(("t1_", "t3_")):
            raise ReplyRefused("this Reddit mention has no fullname (t1_/t3_) to reply to")
        token = self.secret("REDDIT_ACCESS_TOKEN")
        api = os.environ.get("REDDIT_OAUTH_URL") or "https://oauth.reddit.com"
        body = self.send("POST", f"{api}/api/comment", headers={"Authorization": f"bearer {token}"},
                         data={"thing_id": thing, "text": text, "api_type": "json"})
        data = ((body.get("json") or {}).get("data") or {}).get("things") or [{}]
        errors = (body.get("json") or {}).get("errors") or []
        if errors:
            raise ReplyRefused(f"reddit refused the reply: {errors[0]}")
        c = (data[0] or {}).get("data") or {}
        link = c.get("permalink")
        return Posted(str(c.get("name") or ""), f"https://www.reddit.com{link}" if link else None)


@register_poster
class TwitterPoster(Poster):
    """tweepy `create_tweet(text, in_reply_to_tweet_id)` with a user-context OAuth 2.0 token."""

    kinds = ("twitter",)
    platform = "twitter"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        import requests
        import tweepy

        from monitor.core.pooled import guard_session

        tweet_id = str(mention.get("external_id") or "")
        if not tweet_id.isdigit():
            raise ReplyRefused("this X mention has no tweet id to reply to")
        token = self.secret("TWITTER_USER_ACCESS_TOKEN")
        client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False)
        guard_session(client.session)          # a redirect to the same host reuses the connection: still bounded
        client.session.max_redirects = self.http.max_redirects
        client.session.hooks["response"].append(judged_redirect)   # requests follows 307/308 itself
        api_url = str(self.opt("api_url", "https://api.twitter.com") or "https://api.twitter.com").rstrip("/")
        if api_url != "https://api.twitter.com":
            from monitor.sources.kinds.twitter import TWITTER_HOST

            base = TWITTER_HOST.rstrip("/")
            session = client.session
            original = session.request

            def rewrite(method: str, url: str, *args: Any, **kw: Any) -> Any:
                return original(method, url.replace(base, api_url, 1), *args, **kw)
            session.request = rewrite
        try:
            resp = client.create_tweet(text=text, in_reply_to_tweet_id=tweet_id, user_auth=False)
        except tweepy.TooManyRequests as exc:
            raise ReplyTransient("x answered HTTP 429") from exc
        except tweepy.TwitterServerError as exc:
            raise ReplyTransient(f"x answered HTTP {exc.response.status_code}") from exc
        except tweepy.HTTPException as exc:
            msg = "; ".join(exc.api_messages) or str(exc)
            raise ReplyRefused(f"x refused the reply: {logs.scrubbed(' '.join(msg.split()), 200)}") from exc
        except requests.TooManyRedirects as exc:
            raise ReplyRefused(f"x redirected the reply more than http.max_redirects ({self.http.max_redirects})"
                               " times: not followed") from exc
        except requests.RequestException as exc:
            raise ReplyTransient(f"x unreachable: {type(exc).__name__}") from exc
        new_id = str((resp.data or {}).get("id") or "")
        return Posted(new_id, f"https://x.com/i/web/status/{new_id}" if new_id else None)


def judged_redirect(resp: Any, *args: Any, **kwargs: Any) -> None:
    """A `requests` response hook (it runs on every answer, before requests follows it): the redirect judged by
    `attempt.judge`, the policy `attempt.send` applies, so tweepy's own following never goes where `send`
    would not. Round 23: requests followed a 307/308 to another origin itself, stripping only `Authorization`,
    and the reply's text went to a server nobody configured; a 301/302/303 was refused here already."""
    if resp.is_redirect:
        judge("x", resp.request.method, resp.status_code, httpx.URL(resp.request.url),
              httpx.URL(resp.request.url).join(resp.headers["Location"]), resp.request.headers)


def _as_response(resp: httpx.Response) -> Response:
    return Response(str(resp.url), resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)


def _error_code(resp: httpx.Response) -> str:
    return api.error_of(_as_response(resp))[0]


def host_of(url: str | None) -> str:
    return urlsplit(url or "").netloc
