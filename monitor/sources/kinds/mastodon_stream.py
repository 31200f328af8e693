"""Mastodon streaming API: a hashtag or public timeline of one instance, as server-sent events.

Mastodon's streaming server does not replay: a status posted while we were disconnected never comes down
the stream. So every (re)connection first opens the stream, then closes the gap through the REST timeline
(`min_id=<last status id>`, paginated), then reads live; anything seen twice is absorbed by the store's
UNIQUE(source_id, external_id). Status ids are snowflakes (milliseconds << 16), so the resume point is
rewound by `rewind` to catch remote statuses that federate late with an older id.

Hostile instances: the back-fill goes through the capped `fetch` (size after decompression, total deadline,
redirect policy; in cron mode the deadline is at most `once_budget`), and the live stream through capped
lines, events and queue (`sse.py`) inside the core address guard.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import ConfigDict, Field, field_validator, model_validator

from monitor.core.durations import Duration
from monitor.core.errors import RateLimited, SourceAuthError, SourceError
from monitor.core.model import Mention
from monitor.core.scrub import safe_netloc
from monitor.core.textutil import html_to_text
from monitor.sources.fetch import HttpConfig, fetch, inflate, make_client
from monitor.sources.registry import register
from monitor.sources.sse import QUEUE_LINES, SseParser, lines
from monitor.sources.stream import CONNECTED, Event, Item, Malformed, RemoteStreamOptions, StreamSource, Want

PAGE = 40            # the REST timeline's maximum page size
TICK_S = 0.05
_END = object()

log = logging.getLogger(__name__)


class MastodonOptions(RemoteStreamOptions):
    # the instance, e.g. https://mastodon.social: `api_url` as in every kind, or `instance` (its older name);
    # after validation it is in `instance`
    instance: str | None = None
    older_endpoint_key: ClassVar[str] = "instance"
    hashtag: str | None = None                       # without '#'
    timeline: Literal["public", "public:local"] | None = None
    token_env: str | None = None                     # name of the variable holding an access token
    rewind: Duration = 60.0
    backfill_pages: int = Field(10, ge=0, le=100)    # at most this × 40 statuses fetched to close a gap
    batch_size: int = Field(1, ge=1, le=10_000)      # a hashtag trickles: route each status at once

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["api_url"]}, {"required": ["instance"]}]})

    @field_validator("instance")
    @classmethod
    def _instance(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f'"{v}" is not an instance address: api_url (or instance) must start with https:// '
                             "(e.g. https://mastodon.social)")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _check(self) -> MastodonOptions:
        if not self.instance:
            raise ValueError('missing required key "api_url": the instance, e.g. api_url: https://mastodon.social '
                             "(instance: is the older name)")
        if bool(self.hashtag) == bool(self.timeline):
            raise ValueError("set exactly one of hashtag (e.g. hashtag: acme) or timeline (public, public:local)")
        return self

    @field_validator("hashtag")
    @classmethod
    def _hashtag(cls, v: str | None) -> str | None:
        if v is None:
            return v
        tag = v.lstrip("#")
        if not tag or any(c in tag for c in " /?&#"):
            raise ValueError(f'hashtag "{v}" is not a hashtag (letters, digits, "_"; without "#")')
        return tag


@register
class MastodonSource(StreamSource):
    """Mastodon streaming API (server-sent events): one instance's hashtag or public timeline, gaps backfilled."""

    kind = "mastodon-stream"
    example: ClassVar[dict[str, Any]] = {"api_url": "https://mastodon.social", "hashtag": "acme"}
    Options = MastodonOptions

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._resp: httpx.Response | None = None

    @property
    def opts(self) -> MastodonOptions:
        return self.options  # type: ignore[return-value]

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.opts.token_env:
            token = os.environ.get(self.opts.token_env)
            if not token:
                raise SourceAuthError(f"${self.opts.token_env} is not set (token_env of this source)")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def stream_url(self) -> str:
        o = self.opts
        if o.hashtag:
            return f"{o.instance}/api/v1/streaming/hashtag?tag={quote(o.hashtag)}"
        return f"{o.instance}/api/v1/streaming/{'public/local' if o.timeline == 'public:local' else 'public'}"

    def timeline_url(self) -> str:
        o = self.opts
        if o.hashtag:
            return f"{o.instance}/api/v1/timelines/tag/{quote(o.hashtag)}"
        return f"{o.instance}/api/v1/timelines/public" + ("?local=true" if o.timeline == "public:local" else "")

    def read(self, cursor: Any, want: Want, stop: threading.Event, *, catch_up_to: float | None = None
             ) -> Iterator[Event]:
        headers = self._headers()
        with make_client(self.http) as client:
            if catch_up_to is not None:            # cron mode: the REST timeline is the catch-up
                cfg = self.http.model_copy(update={"deadline": min(self.http.deadline, self.opts.once_budget)})
                yield from self._backfill(client, headers, cursor, want, cfg, stop)
                return
            resp = self._open(client, headers, stop)
            inbox: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_LINES)
            done = threading.Event()
            pump = threading.Thread(target=_pump, args=(resp, inbox, done), name=f"sse-{self.opts.id}", daemon=True)
            pump.start()
            try:
                yield CONNECTED
                top = _id(cursor)
                if cursor:                         # a first start goes live from now, like Jetstream
                    for ev in self._backfill(client, headers, cursor, want, self.http, stop):
                        top = max(top, _id(ev.cursor)) if isinstance(ev, Item) else top
                        yield ev
                yield from self._live(inbox, want, stop, top)
            finally:
                done.set()
                self._resp = None
                _shutdown(resp)
                pump.join(timeout=2)

    def _open(self, client: httpx.Client, headers: dict[str, str], stop: threading.Event) -> httpx.Response:
        url = self.stream_url()
        host = safe_netloc(url)
        # the handshake within the fetch deadline, and only to the configured instance (no redirects);
        # `opening`: an interrupt reaches the request before its answer, as it reaches the live stream after
        with self.opening(self.http.deadline, stop, trusted=[url]) as guard:
            try:
                req = client.build_request("GET", url, headers=headers,
                                           timeout=httpx.Timeout(self.http.connect_timeout, read=None))
                resp = client.send(req, stream=True)
            except httpx.HTTPError as exc:
                why = "interrupted (stopping)" if guard.cancelled else f"{type(exc).__name__}: {exc}"
                raise SourceError(f"cannot connect to {host}: {why}"[:300]) from None
        if resp.status_code != 200:
            resp.close()
            if resp.status_code in (401, 403):
                raise SourceAuthError(f"HTTP {resp.status_code} from {host} (streaming needs a valid token?)")
            if resp.status_code == 429:
                raise RateLimited(f"HTTP 429 from {host}", retry_at=None)
            raise SourceError(f"HTTP {resp.status_code} from {host} opening the stream")
        if "text/event-stream" not in resp.headers.get("content-type", ""):
            resp.close()
            raise SourceError(f"{host} did not answer with an event stream "
                              f"({resp.headers.get('content-type') or 'no content type'})")
        self._resp = resp
        return resp

    def _live(self, inbox: queue.Queue[Any], want: Want, stop: threading.Event, top: int) -> Iterator[Event]:
        parser = SseParser()
        last = time.monotonic()
        while not stop.is_set():
            try:
                line = inbox.get(timeout=TICK_S)
            except queue.Empty:
                if time.monotonic() - last > self.opts.idle_timeout:
                    raise SourceError(f"no data (not even a heartbeat) for {self.opts.idle_timeout:g}s: "
                                      "reconnecting") from None
                yield None
                continue
            if line is _END:
                return
            if isinstance(line, BaseException):
                if stop.is_set():
                    return
                raise SourceError(f"stream dropped: {type(line).__name__}: {line}"[:300])
            last = time.monotonic()
            event = parser.feed(line)
            if event is None or event.name != "update":
                continue                       # heartbeats, deletes, edits, notifications
            if event.oversized:
                yield Malformed(f"update event larger than {parser.max_event:,} characters: dropped")
                continue
            item = self.parse(event.data, want, top)
            if isinstance(item, Item):
                top = _id(item.cursor)
            yield item

    def _backfill(self, client: httpx.Client, headers: dict[str, str], cursor: Any, want: Want, cfg: HttpConfig,
                  stop: threading.Event) -> Iterator[Item | Malformed]:
        """Statuses after `cursor`, oldest first, page by page; with no cursor, just the newest page.

        Through the capped `fetch` (regression: `client.get()` read a 1 GB double-gzip page into memory,
        and a trickling page ignored `once_budget`), each page inside `opening`, so `interrupt()` reaches a
        page still being answered (regression: a stop during a slow back-fill waited for the page's fetch
        deadline and the drain abandoned the stream). A page cut is not yielded: every status yielded moved
        the cursor, and what comes after it is asked for again at the next start."""
        after = _rewound(_id(cursor), self.opts.rewind) if cursor else None
        top = _id(cursor)
        pages = self.opts.backfill_pages if cursor else 1
        for n in range(pages):
            if stop.is_set():
                self._cut(n, top)
                return
            params: dict[str, Any] = {"limit": PAGE}
            if after is not None:
                params["min_id"] = str(after)
            url = self.timeline_url()
            # pages reuse a kept-alive connection: the guard knows it from the request's first byte (core/pooled)
            page_headers = {**headers, "Accept": "application/json"}
            with self.opening(cfg.deadline, stop, trusted=[url]) as guard:
                try:
                    resp = fetch(client, url, cfg, params=params, headers=page_headers,
                                 credentials="Authorization" in headers)
                except SourceError:
                    if not guard.cancelled:
                        raise
            if guard.cancelled:                # a body read to its end just as the stop came is dropped too
                self._cut(n, top)
                return
            try:
                page = resp.json()
                page.sort(key=lambda s: _id(s.get("id")))
            except (ValueError, AttributeError, TypeError, SourceError):
                yield Malformed("timeline page is not a JSON list of statuses")
                return
            for status in page:
                item = self._item(status, want, top)
                if isinstance(item, Item):
                    top = _id(item.cursor)
                yield item
            if len(page) < PAGE or not cursor:
                return
            after = _id(page[-1].get("id"))

    def _cut(self, pages_read: int, top: int) -> None:
        """Say that the back-fill stopped short, and where the next start resumes it."""
        log.warning("back-fill cut (stopping) after %d page(s): the statuses after %s are fetched at the next "
                    "start", pages_read, top or "the newest", extra={"source_id": self.opts.id})

    def parse(self, data: str, want: Want, top: int) -> Item | Malformed:
        import json

        try:
            status = json.loads(data)
        except ValueError:
            return Malformed("update event is not JSON")
        return self._item(status, want, top)

    def _item(self, status: Any, want: Want, top: int) -> Item | Malformed:
        if not isinstance(status, dict) or not isinstance(status.get("id"), str) or not status["id"].isdigit():
            return Malformed("status without a numeric id")
        sid = int(status["id"])
        cursor = str(max(sid, top))
        reblog = status.get("reblog")
        inner: dict[str, Any] = reblog if isinstance(reblog, dict) else status
        text = html_to_text(inner.get("content") or "")
        title = inner.get("spoiler_text") or None
        published = _time(inner.get("created_at"))
        if not want(f"{title}\n{text}" if title else text):
            return Item(cursor, None, published)
        acc = inner.get("account")
        account: dict[str, Any] = acc if isinstance(acc, dict) else {}
        return Item(cursor, Mention(
            source_id=self.opts.id, source_kind="mastodon-stream",
            external_id=str(inner.get("uri") or inner.get("url") or f"{self.opts.instance}/statuses/{sid}"),
            text=text, title=title, url=inner.get("url") or inner.get("uri"),
            author=account.get("acct"), published=published,
            language=(inner.get("language") or None), reach=account.get("followers_count"),
            raw={"id": status["id"], "instance": self.opts.instance}), published)

    def interrupt(self) -> None:
        resp = self._resp
        if resp is not None:
            _shutdown(resp)
        super().interrupt()


def _id(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _rewound(status_id: int, seconds: float) -> int:
    if status_id < 1 << 40 or seconds <= 0:    # not a snowflake (an old or tiny instance): ids are a plain sequence
        return status_id
    return max(0, (status_id >> 16) - int(seconds * 1000)) << 16


def _time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _pump(resp: httpx.Response, inbox: queue.Queue[Any], done: threading.Event) -> None:
    """Blocking reads on their own thread, so `read` can keep its timers and notice a stop. Lines are capped
    (`sse.lines`), the body is inflated in steps, and a full queue makes this thread (then TCP) wait."""
    def put(item: Any) -> bool:
        while not done.is_set():
            try:
                inbox.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        encodings = [e.strip().lower() for e in resp.headers.get("content-encoding", "").split(",") if e.strip()]
        for line in lines(inflate(resp.iter_raw(), encodings)):   # as each read arrives, not in fixed blocks
            if not put(line):
                return
        put(_END)
    except Exception as exc:  # noqa: BLE001 - handed to the reading thread, which decides
        put(exc)


def _shutdown(resp: httpx.Response) -> None:
    """Close from any thread: shutdown() wakes a recv() blocked on another thread, close() alone may not."""
    stream = resp.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        resp.close()
    except Exception:  # noqa: BLE001, S110 - closing a half-dead response may raise anything
        pass
