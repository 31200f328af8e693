"""Posters for the official review and comment APIs: Google Play, App Store Connect, YouTube, Business
Profile, Trustpilot, Facebook Pages and Threads.

Each reuses its source kind's own credentials and token code (`monitor.sources.auth`: the service-account
assertion, the ES256 App Store Connect token, OAuth refresh-token and password grants, all cached and shared
with the collector), so a reply never re-implements a grant. A token the API refuses with 401 is dropped and
fetched once more (it may have been rotated or expired early); a grant that fails is a refusal the person
replying sees ("no credentials", "invalid_grant"), a token endpoint that is down or rate-limited is transient.
Which ids each call needs (review id, comment id, package, location) the collector keeps on the mention.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from monitor.core.errors import FetchError, ParseError, RateLimited, SourceAuthError
from monitor.respond.posters import Posted, Poster, ReplyRefused, ReplyTransient, check, register_poster
from monitor.sources import REGISTRY, api, auth
from monitor.sources.fetch import HttpConfig
from monitor.store.database import loads

PLAY_SCOPE = "https://www.googleapis.com/auth/androidpublisher"


class OfficialPoster(Poster):
    """Shared by the official-API posters: option lookup with the kind's defaults, guarded token calls, and
    a bearer call that retries once with a fresh token after a 401."""

    def o(self, name: str) -> Any:
        """The source's option, or the kind's default when the source is gone from the config."""
        if self.source is not None and hasattr(self.source, name):
            return getattr(self.source, name)
        return REGISTRY[self.kinds[0]].Options.model_fields[name].default

    @property
    def source_id(self) -> str:
        return str(getattr(self.source, "id", None) or self.kinds[0])

    def raw(self, mention: dict[str, Any]) -> dict[str, Any]:
        raw = loads(mention.get("raw"), {}) or {}
        return raw if isinstance(raw, dict) else {}

    def token_http(self) -> HttpConfig:
        """The deployment's `http:` for a token grant; the grant runs inside the attempt's guard, so the attempt's
        deadline bounds it (core/netguard cuts a nested guard at the enclosing deadline) and its address policy
        applies (`token_trust`). Through round 22 a fixed `HttpConfig()`: a slow token endpoint held the attempt
        60 s past its deadline, and `http:` settings were ignored."""
        return self.http

    def token_trust(self) -> list[str]:
        """What may be internal for a grant: the endpoints monitor.yaml configures, not a key file's `token_uri`
        (`sources.api.request` would trust the URL it is given)."""
        return self.endpoints()

    def guarded(self, fn: Callable[[], Any]) -> Any:
        """A call into `sources.auth`: its refusals become the reply's, its outages a retry later."""
        try:
            return fn()
        except SourceAuthError as exc:
            raise ReplyRefused(f"{self.platform} refused the credentials: {exc}") from None
        except RateLimited as exc:
            wait = max(1.0, exc.retry_at - time.time()) if exc.retry_at else None
            raise ReplyTransient(f"{self.platform}: {exc}", wait) from None
        except (FetchError, ParseError) as exc:
            raise ReplyTransient(f"{self.platform}: {exc}") from None

    def authed(self, method: str, url: str, token: Callable[[], str], drop: Callable[[], None],
               scheme: str = "Bearer", **kwargs: Any) -> dict[str, Any]:
        headers = dict(kwargs.pop("headers", None) or {})
        for attempt in (1, 2):
            value = self.guarded(token)
            resp = self.request(method, url, headers={**headers, "Authorization": f"{scheme} {value}"}, **kwargs)
            if resp.status_code == 401 and attempt == 1:
                drop()                      # rotated or expired early: one more try with a fresh token
                continue
            return check(resp, self.platform)
        raise AssertionError("unreachable")  # pragma: no cover

    def google_refresh(self, prefix: str = "") -> tuple[Callable[[], str], Callable[[], None]]:
        """An OAuth refresh-token grant from `{prefix}client_id_env` etc., keyed like the collector's."""
        cid = self.secret(self.o(f"{prefix}client_id_env"))
        secret = self.secret(self.o(f"{prefix}client_secret_env"))
        refresh = self.secret(self.o(f"{prefix}refresh_token_env"))
        token_url = self.o("token_url")
        key = auth.cache_key("gbp" if not prefix else f"{self.kinds[0]}-write", token_url, cid, refresh)

        def token() -> str:
            form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": cid, "client_secret": secret}
            return auth.grant(self.client, self.token_http(), token_url, form, key=key, now=time.time(),
                              source_id=self.source_id, api_name="Google OAuth", trusted=self.token_trust()).value
        return token, lambda: auth.CACHE.drop(key)


@register_poster
class GooglePlayPoster(OfficialPoster):
    """`reviews.reply`: POST .../applications/{package}/reviews/{reviewId}:reply with the service account."""

    kinds = ("googleplay",)
    platform = "googleplay"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        review = str(mention.get("external_id") or "")
        package = str(self.raw(mention).get("package") or self.o("package_name") or "")
        if not review or not package:
            raise ReplyRefused("this Google Play mention has no review id and package to reply to")
        env = self.o("service_account_env")
        sa = self.secret(env)
        holder: dict[str, auth.Token] = {}

        def token() -> str:
            holder["t"] = auth.google_service_account(self.client, self.token_http(), sa, PLAY_SCOPE, now=time.time(),
                                                      source_id=self.source_id, env_name=env,
                                                      token_url=self.o("token_url"), trusted=self.token_trust())
            return holder["t"].value
        body = self.authed("POST", f"{self.o('api_url')}/androidpublisher/v3/applications/{package}/reviews/"
                           f"{review}:reply", token, lambda: auth.forget(holder.get("t")), json={"replyText": text})
        if not isinstance(body.get("result"), dict):
            raise ReplyTransient("Google Play answered the reply without a result")
        return Posted(review, mention.get("url"))


@register_poster
class AppStoreConnectPoster(OfficialPoster):
    """POST /v1/customerReviewResponses (create or replace the one response a review may have)."""

    kinds = ("appstoreconnect",)
    platform = "appstoreconnect"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        review = str(mention.get("external_id") or "")
        if not review:
            raise ReplyRefused("this App Store Connect mention has no review id to respond to")
        key_id, issuer = self.secret(self.o("key_id_env")), self.secret(self.o("issuer_id_env"))
        pem_env = self.o("private_key_env")
        pem = self.secret(pem_env)

        def token() -> str:
            return auth.appstore_connect_token(key_id, issuer, pem, now=time.time(), source_id=self.source_id,
                                               env_name=pem_env)
        doc = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": text},
                        "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}}}}
        body = self.authed("POST", f"{self.o('api_url')}/v1/customerReviewResponses", token,
                           lambda: auth.CACHE.drop(auth.cache_key("asc", key_id, issuer)), json=doc)
        data = body.get("data")
        data = data if isinstance(data, dict) else {}
        return Posted(str(data.get("id") or review), mention.get("url"))


@register_poster
class YouTubePoster(OfficialPoster):
    """`comments.insert` (part=snippet, snippet.parentId): needs OAuth (scope youtube.force-ssl) of the
    channel's owner, not the API key the collector reads with."""

    kinds = ("youtube",)
    platform = "youtube"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        parent = str(mention.get("external_id") or "")
        if not parent:
            raise ReplyRefused("this YouTube mention has no comment id to reply to")
        token, drop = self.google_refresh("oauth_")
        body = self.authed("POST", f"{self.o('api_url')}/youtube/v3/comments", token, drop,
                           params={"part": "snippet"}, json={"snippet": {"parentId": parent, "textOriginal": text}})
        new_id = str(body.get("id") or "")
        video = self.raw(mention).get("video_id") or (body.get("snippet") or {}).get("videoId")
        return Posted(new_id, f"https://www.youtube.com/watch?v={video}&lc={new_id}" if video and new_id else None)


@register_poster
class GoogleBusinessPoster(OfficialPoster):
    """`reviews.updateReply`: PUT /v4/{review name}/reply with the location manager's refresh token."""

    kinds = ("googlebusiness",)
    platform = "googlebusiness"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        name = str(self.raw(mention).get("name") or "")
        if not name and self.source is not None and mention.get("external_id"):
            name = f"{self.o('location')}/reviews/{mention['external_id']}"
        if not name.startswith("accounts/"):
            raise ReplyRefused("this Business Profile mention has no review name (accounts/…/reviews/…) to reply to")
        token, drop = self.google_refresh()
        self.authed("PUT", f"{self.o('api_url')}/v4/{name}/reply", token, drop, json={"comment": text})
        return Posted(name, mention.get("url"))


@register_poster
class TrustpilotPoster(OfficialPoster):
    """POST /v1/private/reviews/{reviewId}/reply as a business user (OAuth password grant with the API key
    and secret; the reply is signed by `business_user_id`)."""

    kinds = ("trustpilot",)
    platform = "trustpilot"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        review = str(mention.get("external_id") or "")
        user_id = self.o("business_user_id")
        if not review:
            raise ReplyRefused("this Trustpilot mention has no review id to reply to")
        if not user_id:
            raise ReplyRefused("set business_user_id on the trustpilot source (the business user who signs replies)")
        api_key, api_secret = self.secret(self.o("api_key_env")), self.secret(self.o("api_secret_env"))
        user, password = self.secret(self.o("username_env")), self.secret(self.o("password_env"))
        base = self.o("api_url")
        url = f"{base}/v1/oauth/oauth-business-users-for-applications/accesstoken"
        ckey = auth.cache_key("trustpilot", url, api_key, user)

        def token() -> str:
            return auth.grant(self.client, self.token_http(), url, {"grant_type": "password", "username": user,
                                                       "password": password}, key=ckey, now=time.time(),
                              source_id=self.source_id, api_name="Trustpilot", basic=(api_key, api_secret),
                              trusted=self.token_trust()).value
        self.authed("POST", f"{base}/v1/private/reviews/{review}/reply", token, lambda: auth.CACHE.drop(ckey),
                    json={"authorBusinessUserId": user_id, "message": text})
        return Posted(review, mention.get("url"))


class GraphPoster(OfficialPoster):
    """Graph API answers: codes 4/17/32/613 are throttling even when the status is 400."""

    def graph(self, url: str, token: str, data: dict[str, str]) -> dict[str, Any]:
        resp = self.request("POST", url, headers={"Authorization": f"Bearer {token}"}, data=data)
        err = None
        if resp.status_code >= 400:
            try:
                err = (resp.json() or {}).get("error")
            except ValueError:
                err = None
        if isinstance(err, dict) and (err.get("code") in api.GRAPH_RATE_CODES or err.get("is_transient")):
            raise ReplyTransient(f"{self.platform} throttled the reply: {str(err.get('message'))[:150]}", 600.0)
        return check(resp, self.platform)


@register_poster
class FacebookPoster(GraphPoster):
    """POST /{comment-id}/comments with the Page token (needs pages_manage_engagement)."""

    kinds = ("facebook",)
    platform = "facebook"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        target = str(mention.get("external_id") or "")
        if not target or ":" in target or "/" in target:
            raise ReplyRefused("this Facebook mention has no comment id (the token cannot moderate the Page): "
                               "reply on Facebook and use Mark replied")
        token = self.secret(self.o("page_token_env"))
        body = self.graph(f"{self.o('api_url')}/{self.o('api_version')}/{target}/comments", token,
                          {"message": text})
        new_id = str(body.get("id") or "")
        return Posted(new_id, f"https://www.facebook.com/{new_id}" if new_id else None)


@register_poster
class ThreadsPoster(GraphPoster):
    """POST /me/threads (TEXT, reply_to_id) for a container, then /me/threads_publish; permalink fetched."""

    kinds = ("threads",)
    platform = "threads"

    def post(self, mention: dict[str, Any], text: str, key: str) -> Posted:
        target = str(mention.get("external_id") or "")
        if not target:
            raise ReplyRefused("this Threads mention has no post id to reply to")
        token = self.secret(self.o("token_env"))
        base = f"{self.o('api_url')}/v1.0/me"
        container = self.graph(f"{base}/threads", token, {"media_type": "TEXT", "text": text, "reply_to_id": target})
        if not container.get("id"):
            raise ReplyTransient("Threads answered without a container id")
        published = self.graph(f"{base}/threads_publish", token, {"creation_id": str(container["id"])})
        new_id = str(published.get("id") or "")
        link = None
        try:                                # the link is a courtesy: the reply is already public
            resp = self.client.get(f"{self.o('api_url')}/v1.0/{new_id}", params={"fields": "permalink"},
                                   headers={"Authorization": f"Bearer {token}"})
            link = resp.json().get("permalink") if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            link = None
        return Posted(new_id, link if isinstance(link, str) and link.startswith("https://") else None)
