"""App Store Connect customer reviews of an app you publish (`GET /v1/apps/{id}/customerReviews`).

The official route for an app's owner: an App Store Connect API key (Users and Access > Integrations; the
.p8 private key, its key id and the issuer id) signs a 20-minute ES256 token (`sources/auth.py`). Reviews
come newest first (`sort=-createdDate`), 200 a page, paged with `links.next`; `X-Rate-Limit` says how much
of the hourly budget is left. The legacy `appstore` kind (public iTunes feed) stays for apps you do not own.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register


class AppStoreConnectOptions(SourceOptions):
    app_id: str                                         # the Apple ID of the app (digits)
    key_id_env: str = "APPSTORE_CONNECT_KEY_ID"
    issuer_id_env: str = "APPSTORE_CONNECT_ISSUER_ID"
    private_key_env: str = "APPSTORE_CONNECT_PRIVATE_KEY"   # the .p8 contents, or its path
    api_url: str = "https://api.appstoreconnect.apple.com"
    territories: list[str] = Field(default_factory=list)    # ISO 3166-1 alpha-3 (USA, GBR); default all
    page_size: int = Field(200, ge=1, le=200)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("app_id", mode="before")
    @classmethod
    def _app(cls, v: Any) -> str:
        m = re.search(r"(?:^|id)(\d{5,12})(?:$|\D)", str(v))
        if not m:
            raise ValueError(f'app_id "{v}" is not an App Store id (the digits after "id" in the app\'s URL)')
        return m.group(1)

    @field_validator("territories")
    @classmethod
    def _terr(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if not re.fullmatch(r"[A-Za-z]{3}", t)]
        if bad:
            raise ValueError(f"territories {bad}: three-letter codes such as USA, GBR, FRA")
        return [t.upper() for t in v]

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class AppStoreConnectCollector(Collector):
    """App Store Connect customer reviews of your own app (ES256 API key); star ratings, all territories."""

    kind = "appstoreconnect"
    example: ClassVar[dict[str, Any]] = {"app_id": "1234567890"}
    Options = AppStoreConnectOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"app_id": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.key_id_env, options.issuer_id_env, options.private_key_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        missing = [f"${n}" for n in cls.credential_envs(options) if not environ.get(n)]
        if not missing:
            return None
        return (f"no {', '.join(missing)}: create an API key in App Store Connect (Users and Access > "
                "Integrations) with at least Customer Support access")

    def collect(self, state: SourceState) -> CollectResult:
        opts: AppStoreConnectOptions = self.options  # type: ignore[assignment]
        key_id = auth.require(opts.key_id_env, opts.id, "API key id")
        issuer = auth.require(opts.issuer_id_env, opts.id, "issuer id")
        pem = auth.require(opts.private_key_env, opts.id, "API private key (.p8)")

        def token() -> str:
            return auth.appstore_connect_token(key_id, issuer, pem, now=self.clock.now(), source_id=opts.id,
                                               env_name=opts.private_key_env)

        since = float((state.cursor or {}).get("since") or 0)
        newest = since
        url: str | None = f"{opts.api_url}/v1/apps/{opts.app_id}/customerReviews"
        params: dict[str, Any] | None = {"sort": "-createdDate", "limit": opts.page_size}
        if opts.territories and params is not None:
            params["filter[territory]"] = ",".join(opts.territories)
        mentions: list[Mention] = []
        warnings: list[str] = []
        pages = opts.max_pages if since else 1
        for _ in range(pages):
            assert url is not None
            body, resp = api.get_json(self, url, api_name="App Store Connect API", params=params, token=token,
                                      drop=lambda: auth.CACHE.drop(auth.cache_key("asc", key_id, issuer)))
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ParseError("customerReviews answered without a data list", source_id=opts.id)
            warnings += _budget(resp.headers)
            older = False
            for item in body["data"]:
                try:
                    m = _mention(item, opts.app_id, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a review: {exc}"[:300])
                    continue
                mentions.append(m)
                newest = max(newest, m.published or 0)
                older = older or bool(since and (m.published or 0) <= since)
            nxt = (body.get("links") or {}).get("next")
            if not nxt or older or not body["data"]:
                break
            if not api.same_host(nxt, opts.api_url):
                warnings.append("links.next points to another host; not followed")
                break
            url, params = nxt, None
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} new reviews since the last poll; the rest "
                                "were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _budget(headers: dict[str, str]) -> list[str]:
    """`X-Rate-Limit: user-hour-lim:3600;user-hour-rem:12;` — say so before the hour's budget runs out."""
    found = dict(re.findall(r"([a-z-]+):(\d+)", headers.get("x-rate-limit", "")))
    rem, lim = found.get("user-hour-rem"), found.get("user-hour-lim")
    if rem is not None and lim and int(rem) < max(10, int(lim) // 100):
        return [f"App Store Connect API budget nearly spent: {rem} of {lim} requests left this hour"]
    return []


def _mention(item: dict[str, Any], app_id: str, source_id: str) -> Mention:
    a = item["attributes"]
    rating = a.get("rating")
    return Mention(source_id=source_id, source_kind="appstoreconnect", external_id=str(item["id"]),
                   title=a.get("title") or None, text=str(a.get("body") or ""),
                   author=a.get("reviewerNickname") or None, published=api.parse_time(a.get("createdDate")),
                   rating=float(rating) if isinstance(rating, int) and 1 <= rating <= 5 else None,
                   url=f"https://apps.apple.com/app/id{app_id}?see-all=reviews",
                   raw={"territory": a.get("territory")})
