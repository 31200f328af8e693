"""Bluesky Jetstream: every new post on the network as JSON over a WebSocket, resumable by a microsecond cursor.

Jetstream replays from `cursor=<time_us>` (it keeps about a day), so the cursor saved after each stored batch
is a complete resume point: a restart or a reconnect asks for the events from there on. Resuming rewinds by
`rewind` (Jetstream's advice for gapless playback); the overlap is absorbed by the store's
UNIQUE(source_id, external_id), so nothing is lost and nothing is stored twice.

Redirects get the one policy of every transport (`fetch.check_redirect`: ws/wss only, never into a
non-public address, at most `http.max_redirects`), applied here hop by hop: websockets would otherwise follow
them itself, with no address check (regression: an internal service was reached through a ws:// redirect).
The socket is opened inside the core guard, which also checks the address actually connected to.

Zstd (`compress: true`) needs the dictionary Jetstream compresses with. It is not shipped here (it is not
redistributable offline from this project); point `zstd_dictionary` at a copy of Jetstream's published
`zstd_dictionary` file to enable it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

from pydantic import model_validator
from websockets.exceptions import (
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect

from monitor.core.durations import Duration
from monitor.core.errors import FetchError, RateLimited, SourceAuthError, SourceError
from monitor.core.model import Mention
from monitor.core.scrub import safe_netloc
from monitor.sources.fetch import check_redirect
from monitor.sources.registry import register
from monitor.sources.stream import CONNECTED, Event, Item, Malformed, RemoteStreamOptions, StreamSource, Want

POST = "app.bsky.feed.post"
TICK_S = 0.05          # how often `read` yields control when the stream is quiet (batch timers, stop)


class JetstreamOptions(RemoteStreamOptions):
    url: str = "wss://jetstream2.us-east.bsky.network/subscribe"     # the older name of api_url
    older_endpoint_key: ClassVar[str] = "url"
    rewind: Duration = 1.0           # resume this far before the saved cursor (overlap is deduplicated)
    compress: bool = False           # zstd frames; needs `zstd_dictionary`
    zstd_dictionary: str | None = None
    max_frame: int = 1_048_576       # bytes; a bigger frame closes the connection (and is reported)

    @model_validator(mode="after")
    def _check(self) -> JetstreamOptions:
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError(f'"{self.url}" is not a WebSocket address: api_url (or url) must start with ws:// '
                             "or wss://")
        if self.compress and not self.zstd_dictionary:
            raise ValueError("compress: true needs zstd_dictionary: the path of Jetstream's published zstd "
                             "dictionary (not shipped with mention-monitor); or leave compress off")
        if self.zstd_dictionary and not Path(self.zstd_dictionary).expanduser().is_file():
            raise ValueError(f'zstd_dictionary "{self.zstd_dictionary}" is not a readable file')
        return self


@register
class JetstreamSource(StreamSource):
    """Bluesky Jetstream firehose (WebSocket): every new post, filtered locally by every brand query."""

    kind = "jetstream"
    example: ClassVar[dict[str, Any]] = {}
    Options = JetstreamOptions

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._ws: ClientConnection | None = None
        opts: JetstreamOptions = self.options  # type: ignore[assignment]
        self._decompress = None
        if opts.compress and opts.zstd_dictionary:
            import zstandard

            zdict = zstandard.ZstdCompressionDict(Path(opts.zstd_dictionary).expanduser().read_bytes())
            dctx = zstandard.ZstdDecompressor(dict_data=zdict)
            self._decompress = lambda b: dctx.decompressobj().decompress(b)

    def url_for(self, cursor: int | None) -> str:
        opts: JetstreamOptions = self.options  # type: ignore[assignment]
        params: list[tuple[str, str]] = [("wantedCollections", POST)]
        if cursor:
            params.append(("cursor", str(max(0, int(cursor) - int(opts.rewind * 1_000_000)))))
        if opts.compress:
            params.append(("compress", "true"))
        sep = "&" if urlsplit(opts.url).query else "?"
        return opts.url + sep + urlencode(params)

    def read(self, cursor: Any, want: Want, stop: threading.Event, *, catch_up_to: float | None = None
             ) -> Iterator[Event]:
        opts: JetstreamOptions = self.options  # type: ignore[assignment]
        if catch_up_to is not None and not cursor:
            # cron mode, first run: nothing to catch up on; this run marks where the next one starts
            yield Item(int(catch_up_to * 1_000_000))
            return
        until_us = int(catch_up_to * 1_000_000) if catch_up_to is not None else None
        ws = self._connect(self.url_for(cursor), stop)
        parse, monotonic, idle = self.parse, time.monotonic, opts.idle_timeout
        with ws:                                  # the context closes it (and keeps websockets >= 14 quiet)
            try:
                yield CONNECTED
                last_frame = monotonic()
                while not stop.is_set():
                    try:
                        frame = ws.recv(timeout=TICK_S)
                    except TimeoutError:
                        if monotonic() - last_frame > idle:
                            raise SourceError(f"no frame for {idle:g}s: reconnecting") from None
                        yield None
                        continue
                    last_frame = monotonic()
                    event = parse(frame, want)
                    yield event
                    if until_us is not None and type(event) is Item and event.cursor >= until_us:
                        return
            except ConnectionClosedOK:
                return
            except ConnectionClosedError as exc:
                if stop.is_set():
                    return                         # our own interrupt on shutdown
                raise SourceError(f"connection dropped: {exc}"[:300]) from None
            finally:
                self._ws = None
                if stop.is_set():
                    ws.close_socket()

    def _connect(self, url: str, stop: threading.Event) -> ClientConnection:
        current = url
        for _hop in range(self.http.max_redirects + 1):
            location = self._open(current, trusted=url, stop=stop)
            if isinstance(location, ClientConnection):
                self._ws = location
                return location
            if urlsplit(location).scheme:
                nxt = location
            else:                                # urljoin knows http(s), not ws(s): join as http, map back
                nxt = "ws" + urljoin("http" + current[2:], location)[4:]
            try:
                check_redirect(nxt, self.http, trusted=url, schemes=("ws", "wss"))
            except FetchError as exc:
                raise SourceError(f"{exc} (from {safe_netloc(current)})") from None
            current = nxt
        raise SourceError(f"more than {self.http.max_redirects} redirects starting at {safe_netloc(url)}")

    def _open(self, url: str, trusted: str, stop: threading.Event) -> ClientConnection | str:
        """One handshake: the connection, or the Location a 3xx points to (never followed by websockets).
        `interrupt()` reaches it from the TCP connect on (`opening`)."""
        opts: JetstreamOptions = self.options  # type: ignore[assignment]
        parts = urlsplit(url)
        host = safe_netloc(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        with self.opening(self.http.connect_timeout * 2, stop, trusted=[trusted]) as guard:
            try:
                sock = socket.create_connection((parts.hostname or "", port), timeout=self.http.connect_timeout)
                ws = connect(url, sock=sock, open_timeout=self.http.connect_timeout, close_timeout=2,
                             max_size=opts.max_frame, max_queue=64, user_agent_header=self.http.user_agent,
                             compression=None, proxy=None)
            except (OSError, TimeoutError, InvalidHandshake, ValueError, WebSocketException) as exc:
                # with our own socket websockets does not follow a redirect: it raises about it, the 3xx
                # answer chained; the Location then goes through our policy
                status = next((e for e in (exc, exc.__cause__, exc.__context__) if isinstance(e, InvalidStatus)), None)
                if status is not None:
                    return self._refused(status, host)
                why = ("interrupted (stopping)" if guard.cancelled else "no handshake within the deadline"
                       if guard.fired else f"{type(exc).__name__}: {exc}")
                raise SourceError(f"cannot connect to {host}: {why}"[:300]) from None
        return ws

    @staticmethod
    def _refused(exc: InvalidStatus, host: str) -> str:
        status = exc.response.status_code
        if status in (301, 302, 303, 307, 308) and exc.response.headers.get("Location"):
            return str(exc.response.headers["Location"])
        if status in (401, 403):
            raise SourceAuthError(f"HTTP {status} from {host}") from None
        if status == 429:
            raise RateLimited(f"HTTP 429 from {host}", retry_at=None) from None
        raise SourceError(f"HTTP {status} from {host} during the WebSocket handshake") from None

    def interrupt(self) -> None:
        ws = self._ws
        if ws is not None:
            ws.close_socket()
        super().interrupt()

    def parse(self, frame: str | bytes, want: Want) -> Item | Malformed:
        """The hot path: one frame in; a Mention built only for a post some brand wants."""
        if self._decompress is not None and isinstance(frame, bytes):
            try:
                frame = self._decompress(frame)
            except Exception as exc:  # noqa: BLE001 - zstandard raises its own ZstdError
                return Malformed(f"zstd: {exc}"[:200])
        try:
            ev = json.loads(frame)
            t = ev["time_us"]
        except (ValueError, TypeError, KeyError):
            return Malformed("not a Jetstream event (JSON with time_us)")
        if type(t) is not int:
            return Malformed("time_us is not an integer")
        commit = ev.get("commit")
        if ev.get("kind") != "commit" or not isinstance(commit, dict) or commit.get("operation") != "create" \
                or commit.get("collection") != POST:
            return Item(t, None, t / 1e6)
        record = commit.get("record")
        if not isinstance(record, dict):
            return Malformed("post without a record")
        text = record.get("text")
        if not isinstance(text, str):
            return Malformed("post without text")
        if not want(text):
            return Item(t, None, t / 1e6)
        try:
            return Item(t, _mention(self.options.id, ev, commit, record, text), t / 1e6)
        except (KeyError, TypeError, ValueError) as exc:
            return Malformed(f"post: {exc}"[:200])


def _mention(source_id: str, ev: dict[str, Any], commit: dict[str, Any], record: dict[str, Any],
             text: str) -> Mention:
    did, rkey = str(ev["did"]), str(commit["rkey"])
    langs = record.get("langs")
    created = record.get("createdAt")
    published = None
    if isinstance(created, str):
        try:
            published = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        except ValueError:
            published = None
    return Mention(source_id=source_id, source_kind="jetstream", external_id=f"at://{did}/{POST}/{rkey}",
                   text=text, url=f"https://bsky.app/profile/{did}/post/{rkey}", author=did,
                   published=published if published is not None else ev["time_us"] / 1e6,
                   language=(langs[0][:2].lower() if isinstance(langs, list) and langs and isinstance(langs[0], str)
                             else None),
                   raw={"cid": commit.get("cid"), "time_us": ev["time_us"],
                        # a reply to this post needs its thread's root (uri + cid) when it is itself a reply
                        "reply_root": (record.get("reply") or {}).get("root")
                        if isinstance(record.get("reply"), dict) else None})
