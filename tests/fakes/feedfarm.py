"""Many RSS feeds on many local hosts (one LocalServer per "host", each on its own port), for scale tests and
`make bench`: ETag/304 like real feed servers, a share of feeds that change every period, slow and hung feeds,
and per-host bookkeeping (requests in flight, request start times) to check politeness from the server side."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from email.utils import formatdate

from tests.fakes.feeds import Feed, Item, render_rss
from tests.fakes.server import LocalServer, Reply, Request

WORDS = "router update outage support refund shipping price release review service login app".split()


class FeedFarm:
    def __init__(self, hosts: int, feeds_per_host: int, *, items: int = 5, change_every: float | None = None,
                 change_share: float = 0.05, slow: set[int] | None = None, slow_s: float = 1.0,
                 hung: set[int] | None = None, hung_s: float = 3600.0, record: bool = False):
        self.hosts = hosts
        self.feeds_per_host = feeds_per_host
        self.items = items
        self.change_every = change_every
        self.change_stride = max(1, round(1 / change_share)) if change_share else 0
        self.slow, self.slow_s = slow or set(), slow_s
        self.hung, self.hung_s = hung or set(), hung_s
        self.record = record
        self.servers: list[LocalServer] = []
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[int, bytes, str]] = {}        # feed -> (generation, body, etag)
        self.inflight: dict[int, int] = defaultdict(int)
        self.max_inflight: dict[int, int] = defaultdict(int)
        self.starts: dict[int, list[float]] = defaultdict(list)   # host -> monotonic request starts
        self.hits: dict[int, int] = defaultdict(int)               # feed -> requests
        self.answered = {200: 0, 304: 0}

    def __len__(self) -> int:
        return self.hosts * self.feeds_per_host

    def urls(self) -> list[str]:
        return [f"{self.servers[n // self.feeds_per_host].url}/feed/{n}.xml" for n in range(len(self))]

    def _generation(self, n: int) -> int:
        if not self.change_every or not self.change_stride or n % self.change_stride:
            return 0
        return int((time.monotonic() - self.t0) / self.change_every)

    def _feed(self, n: int) -> tuple[bytes, str]:
        gen = self._generation(n)
        with self._lock:
            cached = self._cache.get(n)
            if cached and cached[0] == gen:
                return cached[1], cached[2]
        items = [Item(f"f{n}-g{gen}-{k}", f"{WORDS[(n + k) % len(WORDS)]} news {k} for feed {n}",
                      " ".join(WORDS[(n * k + j) % len(WORDS)] for j in range(30)),
                      f"https://news.example/{n}/{gen}/{k}", published=time.time() - 600 + gen + k)
                 for k in range(self.items)]
        body = render_rss(Feed(items, title=f"feed {n}"))
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        with self._lock:
            self._cache[n] = (gen, body, etag)
        return body, etag

    def _handler(self, host: int):
        def handle(req: Request) -> Reply:
            n = int(req.path.rsplit("/", 1)[-1].split(".")[0])
            with self._lock:
                self.hits[n] += 1
                self.inflight[host] += 1
                self.max_inflight[host] = max(self.max_inflight[host], self.inflight[host])
                if self.record:
                    self.starts[host].append(time.monotonic())
            try:
                if n in self.hung:
                    return Reply(200, delay=self.hung_s)       # never answers (the server's stop wakes it)
                if n in self.slow:
                    time.sleep(self.slow_s)
                body, etag = self._feed(n)
                status = 304 if req.headers.get("if-none-match") == etag else 200
                with self._lock:
                    self.answered[status] += 1
                if status == 304:
                    return Reply(304, b"", {"ETag": etag})
                return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": etag,
                                         "Last-Modified": formatdate(1_700_000_000, usegmt=True)})
            finally:
                with self._lock:
                    self.inflight[host] -= 1
        return handle

    def start(self) -> FeedFarm:
        self.servers = [LocalServer(self._handler(h)).start() for h in range(self.hosts)]
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.stop()

    def __enter__(self) -> FeedFarm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
