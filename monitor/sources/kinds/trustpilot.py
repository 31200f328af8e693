"""Trustpilot reviews of a business unit (`GET /v1/business-units/{id}/reviews`), with star ratings.

The public Business Units API needs an API key (a Trustpilot Business plan with API access; the key goes in
the `apikey` header). Reviews come newest first (`orderBy=createdat.desc`), 100 a page, paged with `page`
and a `next-page` link; a key refused by Trustpilot's gateway answers an Apigee `fault` body.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register


class TrustpilotOptions(SourceOptions):
    business_unit_id: str                       # 24 hex digits (find it with /v1/business-units/find?name=)
    api_key_env: str = "TRUSTPILOT_API_KEY"
    api_url: str = "https://api.trustpilot.com"
    # replying (POST /v1/private/reviews/{id}/reply) needs a business user token: the key's secret and a
    # business user's login (OAuth password grant), and the id of the business user who signs the reply
    api_secret_env: str = "TRUSTPILOT_API_SECRET"
    username_env: str = "TRUSTPILOT_USERNAME"
    password_env: str = "TRUSTPILOT_PASSWORD"
    business_user_id: str | None = None
    language: str | None = None                 # e.g. "en"; default all languages
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("business_unit_id")
    @classmethod
    def _bu(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{24}", v.strip().lower()):
            raise ValueError(f'business_unit_id "{v}" is not a Trustpilot business unit id (24 hex digits)')
        return v.strip().lower()

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class TrustpilotCollector(Collector):
    """Trustpilot reviews of a business unit (Business Units API, API key); star ratings."""

    kind = "trustpilot"
    example: ClassVar[dict[str, Any]] = {"business_unit_id": "46d6a890000064000500e0c3"}
    Options = TrustpilotOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"business_unit_id": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.api_key_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        return None if environ.get(options.api_key_env) else \
            f"no ${options.api_key_env}: Trustpilot API keys come with a Business plan that includes API access"

    def collect(self, state: SourceState) -> CollectResult:
        opts: TrustpilotOptions = self.options  # type: ignore[assignment]
        key = auth.require(opts.api_key_env, opts.id, "API key")
        since = float((state.cursor or {}).get("since") or 0)
        newest = since
        mentions: list[Mention] = []
        warnings: list[str] = []
        pages = opts.max_pages if since else 1
        for page in range(1, pages + 1):
            params: dict[str, Any] = {"perPage": opts.page_size, "page": page, "orderBy": "createdat.desc"}
            if opts.language:
                params["language"] = opts.language
            body, _ = api.get_json(self, f"{opts.api_url}/v1/business-units/{opts.business_unit_id}/reviews",
                                   api_name="Trustpilot API", params=params, headers={"apikey": key})
            if not isinstance(body, dict) or not isinstance(body.get("reviews"), list):
                raise ParseError("Trustpilot answered without a reviews list", source_id=opts.id)
            older = False
            for r in body["reviews"]:
                try:
                    m = _mention(r, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a review: {exc}"[:300])
                    continue
                mentions.append(m)
                newest = max(newest, m.published or 0)
                older = older or bool(since and (m.published or 0) <= since)
            more = any(isinstance(link, dict) and link.get("rel") == "next-page" for link in body.get("links") or [])
            if not more or older or not body["reviews"]:
                break
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} new reviews since the last poll; the rest "
                                "were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _mention(r: dict[str, Any], source_id: str) -> Mention:
    rid = str(r["id"])
    stars = r.get("stars")
    consumer = r.get("consumer") or {}
    lang = r.get("language")
    return Mention(source_id=source_id, source_kind="trustpilot", external_id=rid,
                   title=r.get("title") or None, text=str(r.get("text") or ""),
                   author=consumer.get("displayName") or None, published=api.parse_time(r.get("createdAt")),
                   rating=float(stars) if isinstance(stars, int) and 1 <= stars <= 5 else None,
                   language=lang[:2].lower() if isinstance(lang, str) and len(lang) >= 2 else None,
                   url=f"https://www.trustpilot.com/reviews/{rid}",
                   raw={"replied": bool(r.get("companyReply")), "verified": r.get("isVerified")})
