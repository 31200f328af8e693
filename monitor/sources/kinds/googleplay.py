"""Google Play reviews of an app you publish, from the Play Developer API (`reviews.list`), with star ratings.

The official route for an app's owner: a Google Cloud service account, invited in Play Console (Users and
permissions) with "Reply to reviews" rights, signs an RS256 assertion for the `androidpublisher` scope
(`sources/auth.py`). The API returns reviews created or edited in the last week, newest first, paged with
`tokenPagination.nextPageToken`; a review's text is "title<TAB>body" when it has a title.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.sources import api, auth
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register

SCOPE = "https://www.googleapis.com/auth/androidpublisher"


class GooglePlayOptions(SourceOptions):
    package_name: str                                   # com.example.app
    service_account_env: str = "GOOGLE_PLAY_SERVICE_ACCOUNT"   # the JSON key, or the path of the .json file
    api_url: str = "https://androidpublisher.googleapis.com"
    token_url: str | None = None                        # default: the key's token_uri
    translation_language: str | None = None             # e.g. "en": Google translates the reviews
    page_size: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("package_name")
    @classmethod
    def _pkg(cls, v: str) -> str:
        m = re.search(r"(?:id=)?([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)", v)
        if not m:
            raise ValueError(f'package_name "{v}" is not an Android package name (com.example.app)')
        return m.group(1)

    @field_validator("api_url", "token_url")
    @classmethod
    def _api(cls, v: str | None) -> str | None:
        return check_url(v, "api_url").rstrip("/") if v else v


@register
class GooglePlayCollector(Collector):
    """Google Play reviews of your own app (Play Developer API, service account); star ratings."""

    kind = "googleplay"
    example: ClassVar[dict[str, Any]] = {"package_name": "com.acme.app"}
    Options = GooglePlayOptions

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"package_name": target}

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.service_account_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        if environ.get(options.service_account_env):
            return None
        return (f"no ${options.service_account_env}: put a service account's JSON key (or its path) there, and "
                "invite the account in Play Console with permission to see and reply to reviews")

    def collect(self, state: SourceState) -> CollectResult:
        opts: GooglePlayOptions = self.options  # type: ignore[assignment]
        raw = auth.require(opts.service_account_env, opts.id, "service-account key")
        since = float((state.cursor or {}).get("since") or 0)
        newest = since
        url = f"{opts.api_url}/androidpublisher/v3/applications/{opts.package_name}/reviews"
        holder: dict[str, auth.Token] = {}

        def token() -> str:
            holder["t"] = auth.google_service_account(self.client, self.http_config, raw, SCOPE,
                                                      now=self.clock.now(), source_id=opts.id,
                                                      env_name=opts.service_account_env, token_url=opts.token_url)
            return holder["t"].value

        mentions: list[Mention] = []
        warnings: list[str] = []
        page_token: str | None = None
        pages = opts.max_pages if since else 1
        for _ in range(pages):
            params: dict[str, Any] = {"maxResults": opts.page_size}
            if page_token:
                params["token"] = page_token
            if opts.translation_language:
                params["translationLanguage"] = opts.translation_language
            body, _ = api.get_json(self, url, api_name="Google Play Developer API", params=params, token=token,
                                   drop=lambda: auth.forget(holder.get("t")))
            if not isinstance(body, dict):
                raise ParseError("reviews.list answered JSON that is not an object", source_id=opts.id)
            reviews = body.get("reviews") or []
            older = False
            for r in reviews:
                try:
                    m = _mention(r, opts.package_name, opts.id)
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a review: {exc}"[:300])
                    continue
                mentions.append(m)
                changed = float(m.raw.get("modified") or 0)
                newest = max(newest, changed)
                older = older or bool(since and changed <= since)
            page_token = (body.get("tokenPagination") or {}).get("nextPageToken")
            if not page_token or not reviews or older:
                break
        else:
            if since:
                warnings.append(f"more than {pages * opts.page_size} reviews changed since the last poll; the "
                                "rest were skipped (raise max_pages or poll more often)")
        return CollectResult(mentions=mentions, warnings=warnings, cursor={"since": newest} if newest else None)


def _mention(r: dict[str, Any], package: str, source_id: str) -> Mention:
    rid = str(r["reviewId"])
    user = next((c["userComment"] for c in r.get("comments") or [] if isinstance(c, dict) and "userComment" in c),
                None)
    if not isinstance(user, dict):
        raise ValueError(f"review {rid[:40]} has no userComment")
    text = str(user.get("text") or "").strip()
    title, _, body = text.partition("\t") if "\t" in text else ("", "", text)
    stars = user.get("starRating")
    rating = float(stars) if isinstance(stars, int) and 1 <= stars <= 5 else None
    lang = str(user.get("reviewerLanguage") or "")[:2].lower() or None
    reply = any(isinstance(c, dict) and "developerComment" in c for c in r.get("comments") or [])
    return Mention(source_id=source_id, source_kind="googleplay", external_id=rid, text=body.strip(),
                   title=title.strip() or None, author=r.get("authorName") or None,
                   url=f"https://play.google.com/store/apps/details?id={package}&reviewId={rid}",
                   published=api.parse_time(user.get("lastModified")), language=lang, rating=rating,
                   reach=user.get("thumbsUpCount") if isinstance(user.get("thumbsUpCount"), int) else None,
                   raw={"version": user.get("appVersionName"), "device": user.get("device"),
                        "android": user.get("androidOsVersion"), "replied": reply,
                        "modified": api.parse_time(user.get("lastModified")),
                        "package": package})                 # where a reply goes (reviews.reply)
