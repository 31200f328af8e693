"""X/Twitter recent search through `tweepy.Client` (API v2), adapted to our limits.

tweepy hard-codes `https://api.twitter.com`, sets no timeout, and its rate-limit wait loop spins when the
`x-rate-limit-reset` header is missing. So the client is built with `wait_on_rate_limit=False` and its
`requests` session is adapted (kinds/_xsession: host rewritten to `api_url`, a default timeout, no redirects,
our User-Agent, the per-host limiter, and a cap on the body). A 429 becomes `RateLimited` at the reset time and
holds every X source polling with the same token until then (X's quota is the app's, `_spend`); 401/403 become
`SourceAuthError`, which disables the source until the token changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import requests
import tweepy
from pydantic import Field, field_validator

from monitor.core import logs
from monitor.core.clock import iso
from monitor.core.errors import (
    FetchError,
    ParseError,
    RateLimited,
    SourceAuthError,
    SourceError,
)
from monitor.core.model import Mention
from monitor.core.netguard import WATCHDOG, Guard
from monitor.core.scrub import safe_netloc
from monitor.sources.base import Collector, CollectResult, SourceOptions, SourceState, check_url, register
from monitor.sources.fetch import limiter_of, rate_limit_reset
from monitor.sources.kinds._xsession import TWITTER_HOST, adapt_session

log = logging.getLogger(__name__)

#: (API host, token fingerprint) -> epoch second until which X said that app's quota is spent (`_spend`)
#: X's rate-limit windows are 15 minutes: a reset further away than this is no hold a window can explain
X_WINDOW_S = 16 * 60.0
_SPENT: dict[tuple[str, str], float] = {}
_SPENT_LOCK = threading.Lock()

__all__ = ["TWITTER_HOST", "TwitterCollector", "TwitterOptions", "adapt_session"]


class TwitterOptions(SourceOptions):
    query: str = Field(min_length=1, max_length=512)      # X search syntax: 'acme -is:retweet lang:en'
    api_url: str = TWITTER_HOST
    token_env: str = "TWITTER_BEARER_TOKEN"
    max_pages: int = Field(5, ge=1, le=50)                # 100 posts per page
    page_size: int = Field(100, ge=10, le=100)

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return check_url(v, "api_url").rstrip("/")


@register
class TwitterCollector(Collector):
    """X/Twitter recent search (API v2, bearer token from the environment); follower count as reach."""

    _quota: tuple[str, str] = ("", "")     # (API host, token fingerprint): whose quota a 429 spends (`_spend`)

    kind = "twitter"
    example: ClassVar[dict[str, Any]] = {"query": "acme -is:retweet"}
    Options = TwitterOptions

    @classmethod
    def credential_envs(cls, options: Any) -> list[str]:
        return [options.token_env]

    @classmethod
    def credential_problem(cls, options: Any, environ: Any) -> str | None:
        return None if environ.get(options.token_env) else \
            f"no ${options.token_env}: X needs a bearer token from a paid API plan; the source will be disabled"

    @classmethod
    def preview_options(cls, target: str) -> dict[str, Any]:
        return {"query": target}

    def collect(self, state: SourceState) -> CollectResult:
        opts: TwitterOptions = self.options  # type: ignore[assignment]
        token = os.environ.get(opts.token_env)
        if not token:
            raise SourceAuthError(f"no bearer token in ${opts.token_env}", source_id=opts.id)
        logs.add_secret(token)
        self._quota = (safe_netloc(opts.api_url).lower(), hashlib.sha256(token.encode()).hexdigest()[:16])
        now = self.clock.now()
        with _SPENT_LOCK:
            until = _SPENT.get(self._quota, 0.0)
            if until > now + X_WINDOW_S:         # further than a window away: the clock went back; not a hold
                del _SPENT[self._quota]
                until = 0.0
        if until > now:
            raise RateLimited(f"the X API quota of the app behind ${opts.token_env} is spent (a 429 to an X source "
                              f"using it); not asking again before {iso(until)}", retry_at=until, source_id=opts.id)
        client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False, return_type=dict)
        adapt_session(client.session, opts.api_url, self.http_config, limiter_of(self.client), self.clock.now())
        http = self.http_config
        with WATCHDOG.guard(http.deadline, trusted=[opts.api_url], allow_private=http.allow_private) as poll:
            return self._poll(client, opts, state.cursor or {}, poll)

    def _poll(self, client: tweepy.Client, opts: TwitterOptions, cursor: dict[str, Any], poll: Guard) -> CollectResult:
        """The pages of one poll, all within `poll` (`http.deadline` from the poll's start, around each page's
        own guard: regression, a poll of `max_pages` pages on a slow API took up to max_pages x the deadline).

        Pages come newest first, so a poll cut after some pages has read the newest posts down to `oldest`;
        the cursor then keeps the range still unread, `since_id` < id < `until_id`, and `head`, the newest id
        read. The next poll reads that range first (both bounds exclusive: nothing twice), then what is newer
        than `head`, so nothing a cut poll missed is lost. A cut is the poll's deadline, a 429 or any other
        failed page (HTTP error, network, not JSON): one rule for all (regression: a 429 or 503 on page 2 or
        later threw the pages read away). A 429 after some pages also rides on the result (`rate_limited`)
        for the poller's back-off. A cut before any page was read fails the poll with its error."""
        since_id, gap, head = cursor.get("since_id"), cursor.get("until_id"), cursor.get("head")
        budget = opts.max_pages if since_id else 1    # first poll: the latest page only (each read is paid for)
        mentions: list[Mention] = []
        warnings: list[str] = []
        read = 0
        if gap:
            seg = _Segment(since_id, gap)
            self._read(client, opts, seg, budget, mentions, warnings, poll)
            read += seg.pages
            if seg.cut or not seg.done:
                if not read:
                    raise seg.cut or self._cut_error(opts, poll)
                warnings.append(self._cut_warning(seg.cut, read) if seg.cut else
                                f"read {read} page(s) of the posts a cut poll left; the rest at the next poll")
                return _result(mentions, {"since_id": since_id, "until_id": seg.oldest or gap, "head": head},
                               warnings, seg.cut)
            since_id, budget = head or since_id, budget - seg.pages
            if budget <= 0:
                return CollectResult(mentions, {"since_id": since_id}, warnings=warnings)
        seg = _Segment(since_id, None)
        self._read(client, opts, seg, budget, mentions, warnings, poll)
        read += seg.pages
        if seg.cut:
            if not read:
                raise seg.cut
            warnings.append(self._cut_warning(seg.cut, read))
            if seg.pages and since_id and seg.oldest:
                return _result(mentions, {"since_id": since_id, "until_id": seg.oldest, "head": seg.newest},
                               warnings, seg.cut)
        elif not seg.done and since_id:
            warnings.append(f"more than {seg.pages * opts.page_size} new posts since the last poll; "
                            "older ones were skipped (raise max_pages or poll more often)")
        newest = seg.newest or since_id
        return _result(mentions, {"since_id": newest} if newest else None, warnings, seg.cut)

    def _read(self, client: tweepy.Client, opts: TwitterOptions, seg: _Segment, budget: int,
              mentions: list[Mention], warnings: list[str], poll: Guard) -> None:
        """Read up to `budget` pages of `seg`, a page wholly or not at all; `seg.cut` says what stopped it early
        (the poll's deadline, a 429, a failed page). A refused token is no cut: it fails the poll (and disables
        the source), whatever was read."""
        next_token: str | None = None
        for _ in range(budget):
            if _past(poll):
                seg.cut = self._cut_error(opts, poll)
                return
            try:
                body = self._page(client, opts, seg.since_id, next_token, seg.until_id)
            except SourceAuthError:
                raise
            except (FetchError, ParseError) as exc:
                seg.cut = self._cut_error(opts, poll) if _past(poll) else exc
                return
            meta = body.get("meta") or {}
            users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users", []) if isinstance(u, dict)}
            for tweet in body.get("data") or []:
                try:
                    mentions.append(_mention(tweet, users, opts.id))
                except (KeyError, TypeError, ValueError) as exc:
                    warnings.append(f"skipped a post: {exc}"[:300])
            if not seg.pages:
                seg.newest = meta.get("newest_id")
            seg.pages += 1
            seg.oldest = meta.get("oldest_id") or seg.oldest
            next_token = meta.get("next_token")
            if not next_token:
                seg.done = True
                return

    def _cut_error(self, opts: TwitterOptions, poll: Guard) -> FetchError:
        return _DeadlineCut(opts, poll.deadline_said(self.http_config.deadline, "poll"))

    def _cut_warning(self, cut: SourceError, pages: int) -> str:
        if isinstance(cut, _DeadlineCut):
            return f"poll cut at {cut.said} after {pages} page(s); the older posts are read at the next poll"
        when = ""
        if isinstance(cut, RateLimited):
            when = f", after the reset at {iso(cut.retry_at)}" if cut.retry_at else ""
        return (f"poll cut after {pages} page(s) by: {cut.reason}; the older posts are read at the next poll"
                f"{when}")[:400]

    def _spend(self, opts: TwitterOptions, retry_at: float | None) -> None:
        """X limits search per app (the bearer token) per 15-minute window, across every request made with it:
        one source's 429 is that of every X source polling with the same token, so they are all held until the
        reset, without a request (regression, round 23: each other X source asked again and got its own 429).
        Keyed by the API host and a fingerprint of the token: sources with another app's token keep polling."""
        if not retry_at or retry_at > self.clock.now() + X_WINDOW_S:
            return                               # no reset said, or one no window explains: the source alone waits
        with _SPENT_LOCK:
            _SPENT[self._quota] = max(retry_at, _SPENT.get(self._quota, 0.0))
        log.warning("X API rate limit (429) on %s: no X source using $%s asks it again before %s (the quota is "
                    "the app's, shared by every source using its token)", self._quota[0], opts.token_env,
                    iso(retry_at), extra={"source_id": opts.id})

    def _page(self, client: tweepy.Client, opts: TwitterOptions, since_id: str | None,
              next_token: str | None, until_id: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "max_results": opts.page_size, "expansions": ["author_id"],
            "user_fields": ["public_metrics", "username", "name"],
            "tweet_fields": ["created_at", "public_metrics", "lang", "author_id", "conversation_id"]}
        if since_id:
            params["since_id"] = since_id
        if until_id:
            params["until_id"] = until_id
        if next_token:
            params["next_token"] = next_token
        try:
            body = client.search_recent_tweets(opts.query, **params)
        except tweepy.TooManyRequests as exc:
            retry_at = rate_limit_reset(exc.response.headers, self.clock.now())
            self._spend(opts, retry_at)
            raise RateLimited("X API rate limit (429)" + ("" if retry_at else ", no x-rate-limit-reset header"),
                              retry_at=retry_at, source_id=opts.id) from None
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise SourceAuthError(f"X API refused the token: HTTP {exc.response.status_code} "
                                  f"{_api_message(exc)}".strip(), source_id=opts.id) from None
        except tweepy.HTTPException as exc:
            raise FetchError(f"X API HTTP {exc.response.status_code}: {_api_message(exc)}"[:300],
                             source_id=opts.id, status=exc.response.status_code) from None
        except requests.Timeout:
            raise FetchError("timed out talking to the X API", source_id=opts.id) from None
        except requests.RequestException as exc:
            raise FetchError(f"network error talking to the X API: {type(exc).__name__}",
                             source_id=opts.id) from None
        except ValueError as exc:        # the body was not JSON
            raise ParseError(f"X API answered something that is not JSON: {str(exc)[:200]}",
                             source_id=opts.id) from None
        if not isinstance(body, dict):
            raise ParseError("X API answered JSON that is not an object", source_id=opts.id)
        return body


@dataclass
class _Segment:
    """Pages newest first of the posts with `since_id` < id < `until_id` (None: unbounded), as read so far."""
    since_id: str | None
    until_id: str | None
    newest: str | None = None      # the first page's newest_id: where the next poll starts once this is read
    oldest: str | None = None      # the last page read's oldest_id: a cut poll's range resumes below it
    pages: int = 0
    done: bool = False             # no next_token: nothing older is left in the range
    cut: SourceError | None = None     # what ended the reading early: the deadline, a 429, a failed page


class _DeadlineCut(FetchError):
    """The poll's deadline came before its pages were read: the poll's failure, or (pages read) its warning."""

    def __init__(self, opts: TwitterOptions, said: str) -> None:
        self.said = said                 # "the poll deadline (60s)", or an enclosing one's
        super().__init__(f"no complete answer from the X API ({safe_netloc(opts.api_url)}) within {said}",
                         source_id=opts.id)


def _result(mentions: list[Mention], cursor: dict[str, Any] | None, warnings: list[str],
            cut: SourceError | None) -> CollectResult:
    """The poll's result; a 429 that cut it after some pages rides along for the poller's back-off."""
    return CollectResult(mentions, cursor, warnings=warnings,
                         rate_limited=cut if isinstance(cut, RateLimited) else None)


def _past(poll: Guard) -> bool:
    """The poll's deadline has come (the watchdog may fire a moment after a slot wait gave up at it)."""
    return poll.fired or time.monotonic() >= poll.due


def _api_message(exc: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in exc.api_messages)[:200] if exc.api_messages else ""


def _mention(tweet: dict[str, Any], users: dict[str, Any], source_id: str) -> Mention:
    tid = str(tweet["id"])
    user = users.get(str(tweet.get("author_id"))) or {}
    username = user.get("username")
    created = tweet.get("created_at")
    lang = tweet.get("lang")
    return Mention(
        source_id=source_id, source_kind="twitter", external_id=tid, text=str(tweet.get("text") or ""),
        url=f"https://x.com/{username}/status/{tid}" if username else f"https://x.com/i/web/status/{tid}",
        author=f"@{username}" if username else None,
        published=datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() if created else None,
        language=lang if isinstance(lang, str) and len(lang) == 2 else None,
        reach=(user.get("public_metrics") or {}).get("followers_count"),
        raw={"metrics": tweet.get("public_metrics"), "conversation_id": tweet.get("conversation_id"),
             "name": user.get("name")},
    )
