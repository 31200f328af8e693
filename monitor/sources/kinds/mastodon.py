"""Mastodon: hashtag timelines and status search on the configured instances, paged forward with min_id."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator, model_validator

from monitor.core import logs
from monitor.core.errors import ParseError
from monitor.core.model import Mention
from monitor.core.scrub import safe_netloc
from monitor.core.textutil import html_to_text
from monitor.sources.base import (
    Collector,
    CollectResult,
    SourceOptions,
    SourceState,
    check_url,
    endpoint_synonym,
    refuse_both,
    register,
    web_url,
)


class MastodonOptions(SourceOptions):
    instances: list[str] = Field(default_factory=lambda: ["https://mastodon.social"])   # each one's api_url
    api_url: str | None = None                         # one instance: the same as instances: [api_url]
                                                       # (after validation it is in `instances`)
    tags: list[str] = Field(default_factory=list)      # hashtag timelines (public, no token needed)
    query: str | None = None                           # /api/v2/search statuses (most instances want a token)
    token_env: str = "MASTODON_ACCESS_TOKEN"           # used when set
    page_size: int = Field(40, ge=1, le=40)
    max_pages: int = Field(5, ge=1, le=50)

    @field_validator("instances")
    @classmethod
    def _instances(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one instance URL")
        return [check_url(u, "instance").rstrip("/") for u in v]

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return [t.lstrip("#") for t in v]

    @model_validator(mode="after")
    def _something(self) -> MastodonOptions:
        if not self.tags and not self.query:
            raise ValueError("give tags: [...] or query: (or both)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _one_instance(cls, data: Any) -> Any:
        return endpoint_synonym(data, "instances", as_list=True)

    @field_validator("api_url")
    @classmethod
    def _not_both(cls, v: str | None) -> str | None:
        return refuse_both(v, "instances")


@register
class MastodonCollector(Collector):
    """Mastodon hashtag timelines and status search on the configured instances; followers as reach."""

    kind = "mastodon"
    example: ClassVar[dict[str, Any]] = {"query": "acme"}
    Options = MastodonOptions

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.token_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        if options.query and not environ.get(options.token_env):
            return (f"no ${options.token_env}: most instances refuse status search (query:) without a token; "
                    "hashtag timelines still work")
        return None

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"tags": [target]} if target.startswith("#") else {"query": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: MastodonOptions = self.options  # type: ignore[assignment]
        token = os.environ.get(opts.token_env)
        logs.add_secret(token)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        cursor: dict[str, str] = dict(state.cursor or {})
        seen: dict[str, Mention] = {}
        warnings: list[str] = []
        for inst in opts.instances:
            streams: list[tuple[str, str, dict[str, str]]] = [(f"{inst} #{t}", f"{inst}/api/v1/timelines/tag/{quote(t, safe='')}", {}) for t in opts.tags]
            if opts.query:
                streams.append((f"{inst} q:{opts.query}", f"{inst}/api/v2/search",
                                {"q": opts.query, "type": "statuses", "resolve": "false"}))
            for key, url, extra in streams:
                min_id = cursor.get(key)
                pages = opts.max_pages if min_id else 1
                for _ in range(pages):
                    params = {**extra, "limit": opts.page_size, **({"min_id": min_id} if min_id else {})}
                    body = self.get(url, params=params, headers=headers, credentials=bool(token)).json(opts.id)
                    statuses = body.get("statuses") if isinstance(body, dict) else body
                    if not isinstance(statuses, list):
                        raise ParseError(f"{_host(inst)} answered without a list of statuses", source_id=opts.id)
                    for st in statuses:
                        try:
                            m = _mention(st, inst, opts.id)
                        except (KeyError, TypeError, ValueError) as exc:
                            warnings.append(f"skipped a status from {_host(inst)}: {exc}"[:300])
                            continue
                        seen.setdefault(m.external_id, m)      # one post seen on two instances is one mention
                    ids = [int(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
                    if ids:
                        min_id = str(max(ids + [int(min_id or 0)]))
                    if len(statuses) < opts.page_size or not min_id:
                        break
                else:
                    if cursor.get(key):
                        warnings.append(f"{key}: more than {pages * opts.page_size} new statuses; the rest "
                                        "comes next poll")
                if min_id:
                    cursor[key] = min_id
        return CollectResult(mentions=list(seen.values()), warnings=warnings, cursor=cursor or None)


def _host(url: str) -> str:
    return safe_netloc(url)


def _mention(st: dict[str, Any], instance: str, source_id: str) -> Mention:
    if st.get("reblog"):
        st = st["reblog"]
    account = st.get("account") or {}
    acct = account.get("acct") or ""
    if acct and "@" not in acct:           # a local account: its domain is the one in its profile URL
        acct = f"{acct}@{urlsplit(str(account.get('url') or instance)).hostname or _host(instance)}"
    created = st.get("created_at")
    lang = st.get("language")
    return Mention(source_id=source_id, source_kind="mastodon", external_id=str(st.get("uri") or st["id"]),
                   title=html_to_text(st.get("spoiler_text")) or None, text=html_to_text(st.get("content")),
                   url=web_url(st.get("url")) or web_url(st.get("uri")), author=f"@{acct}" if acct else None,
                   published=datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() if created else None,
                   language=lang if isinstance(lang, str) and len(lang) == 2 else None,
                   reach=account.get("followers_count"),
                   raw={"instance": _host(instance), "instance_url": instance, "id": str(st.get("id") or ""),
                        "boosts": st.get("reblogs_count"),
                        "favourites": st.get("favourites_count"), "replies": st.get("replies_count")})
