"""Google Business Profile reviews of a location you manage (`accounts.locations.reviews.list`, API v4).

The official route for a business: Google approves Business Profile API access for the Cloud project
(an application form; approval takes days), then an OAuth client and a refresh token for a user who manages
the location (scope `business.manage`) are exchanged for access tokens (`sources/auth.py`). Reviews come
newest first by update time, 50 a page; `starRating` is an enum (ONE..FIVE), and a review may have a rating
and no comment at all: such mentions are attributed to the source's `brands` by the analyser.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register

STARS = {"ONE": 1.0, "TWO": 2.0, "THREE": 3.0, "FOUR": 4.0, "FIVE": 5.0}
SCOPE = "https://www.googleapis.com/auth/business.manage"


class GoogleBusinessOptions(SourceOptions):
    location: str                              # accounts/{accountId}/locations/{locationId}
    client_id_env: str = "GOOGLE_BUSINESS_CLIENT_ID"
    client_secret_env: str = "GOOGLE_BUSINESS_CLIENT_SECRET"
    refresh_token_env: str = "GOOGLE_BUSINESS_REFRESH_TOKEN"
    api_url: str = "https://mybusiness.googleapis.com"
    token_url: str = auth.GOOGLE_TOKEN_URL
    page_size: int = Field(50, ge=1, le=50)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("location")
    @classmethod
    def _loc(cls, v: str) -> str:
        v = v.strip().strip("/")
        if not re.fullmatch(r"accounts/\d+/locations/\d+", v):
            raise ValueError(f'location "{v}" must be accounts/<account id>/locations/<location id>')
        return v

    @field_validator("api_url", "token_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class GoogleBusinessCollector(Collector):
    """Google Business Profile reviews of a location you manage (OAuth refresh token; API access approval)."""

    kind = "googlebusiness"
    example: ClassVar[dict[str, Any]] = {"location": "accounts/1234567890/locations/9876543210"}
    Options = GoogleBusinessOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"location": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.client_id_env, options.client_secret_env, options.refresh_token_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        missing = [f"${n}" for n in cls.credential_envs(options) if not environ.get(n)]
        if not missing:
            return None
        return (f"no {', '.join(missing)}: an OAuth client of a project approved for the Business Profile API, "
                "and a refresh token (scope business.manage) of a user who manages the location")

    def collect(self, state: SourceState) -> CollectResult:
        opts: GoogleBusinessOptions = self.options  # type: ignore[assignment]
        cid = auth.require(opts.client_id_env, opts.id, "OAuth client id")
        secret = auth.require(opts.client_secret_env, opts.id, "OAuth client secret")
        refresh = auth.require(opts.refresh_token_env, opts.id, "OAuth refresh token")
        key = auth.cache_key("gbp", opts.token_url, cid, refresh)

        def token() -> str:
            return auth.grant(self.client, self.http_config, opts.token_url,
                              {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": cid,
                               "client_secret": secret}, key=key, now=self.clock.now(), source_id=opts.id,
                              api_name="Google OAuth").value

        since = float((state.cursor or {}).get("since") or 0)
        newest = since
        url = f"{opts.api_url}/v4/{opts.location}/reviews"
        mentions: list[Mention] = []
        warnings: list[str] = []
        page_token: str | None = None
        pages = opts.max_pages if since else 1
        for _ in range(pages):
            params: dict[str, Any] = {"pageSize": opts.page_size, "orderBy": "updateTime desc"}
            if page_token:
                params["pageToken"] = page_token
            body, _ = api.get_json(self, url, api_name="Business Profile API", params=params, token=token,
                                   drop=lambda: auth.CACHE.drop(key))
            if not isinstance(body, dict):
                raise ParseError("reviews.list answered JSON that is not an object", source_id=opts.id)
            reviews = body.get("reviews") or []
            older = False
            for r in reviews:
                try:
                    m = _mention(r, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a review: {exc}"[:300])
                    continue
                mentions.append(m)
                updated = float(m.raw.get("updated") or 0)
                newest = max(newest, updated)
                older = older or bool(since and updated <= since)
            page_token = body.get("nextPageToken")
            if not page_token or not reviews or older:
                break
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} reviews changed since the last poll; the "
                                "rest were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _mention(r: dict[str, Any], source_id: str) -> Mention:
    rid = str(r.get("reviewId") or r["name"])
    reviewer = r.get("reviewer") or {}
    anonymous = bool(reviewer.get("isAnonymous"))
    return Mention(source_id=source_id, source_kind="googlebusiness", external_id=rid,
                   text=str(r.get("comment") or ""), rating=STARS.get(str(r.get("starRating"))),
                   author=None if anonymous else reviewer.get("displayName") or None,
                   published=api.parse_time(r.get("createTime")), url=None,
                   raw={"name": r.get("name"), "replied": bool(r.get("reviewReply")),
                        "updated": api.parse_time(r.get("updateTime"))})
