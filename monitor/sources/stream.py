"""What every stream kind shares: options, the items a stream yields, and the registry that finds it by `kind`.

A *stream* is a source that pushes (a WebSocket, server-sent events) instead of being polled. A kind only
knows its wire format: `read()` connects from a saved cursor and yields one `Item` per event, already
filtered by the `want` predicate it is given (the brand matcher), so posts nobody watches are never turned
into `Mention` objects, stored or scored. Batching, cursor saving, reconnects and health live in
`monitor.runtime.streams`, once for every kind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from monitor.core.clock import Clock
from monitor.core.durations import Duration
from monitor.core.model import Mention
from monitor.core.netguard import WATCHDOG, Guard
from monitor.sources.base import SourceOptions, endpoint_synonym, refuse_both
from monitor.sources.fetch import HttpConfig


class StreamOptions(SourceOptions):
    """Keys every stream kind accepts, on top of a source's `id`, `kind`, `brands`, `max_age`..."""

    batch_size: int = Field(200, ge=1, le=10_000)   # matched posts stored and routed in one transaction
    batch_wait: Duration = 0.25      # a matched post waits at most this long for its batch to fill
    cursor_every: Duration = 5.0     # save the position this often even when nothing matched
    idle_timeout: Duration = 90.0    # no frame (not even a heartbeat) for this long: reconnect
    max_backoff: Duration = 300.0    # reconnect delays double from 1s up to this, with jitter
    once_budget: Duration = 60.0     # `monitor run --once`: catch up from the saved cursor at most this long

    @field_validator("every")
    @classmethod
    def _every(cls, v: float) -> float:
        raise ValueError("stream sources are not polled, they stay connected: remove `every`")

    @field_validator("batch_wait", "cursor_every", "idle_timeout", "max_backoff", "once_budget")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be more than 0s")
        return v


class RemoteStreamOptions(StreamOptions):
    """A stream kind that connects to a remote endpoint, named `api_url` as in every kind (not the push kinds,
    which listen). Kinds that first named it otherwise keep that key working: `older_endpoint_key`."""

    api_url: str | None = None

    # `url`, `instance`: still accepted, and where the kind's code reads the endpoint (api_url alone moves there)
    older_endpoint_key: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _endpoint(cls, data: Any) -> Any:
        return endpoint_synonym(data, cls.older_endpoint_key) if cls.older_endpoint_key else data

    @field_validator("api_url")
    @classmethod
    def _one_endpoint_key(cls, v: str | None) -> str | None:
        return refuse_both(v, cls.older_endpoint_key) if cls.older_endpoint_key else v


@dataclass(slots=True)
class Item:
    """One event read from a stream. `mention` is None for events nobody wants (they still move the cursor)."""

    cursor: Any                      # JSON-able position *after* this event; resuming from it loses nothing
    mention: Mention | None = None
    event_time: float | None = None  # when the event happened, per the source (epoch s): for lag


@dataclass(slots=True)
class Malformed:
    """A frame that could not be understood: skipped and counted, never fatal."""

    reason: str


class Connected:
    """Yielded once per successful connection (the handshake is done): resets the failure count."""


CONNECTED = Connected()
Event = Item | Malformed | Connected | None      # None: nothing arrived within the tick (timers may fire)
Want = Callable[[str], bool]


class StreamSource:
    """Base class; subclasses set `kind`, `Options`, a one-line docstring, and implement `read`."""

    kind: ClassVar[str]
    Options: ClassVar[type[StreamOptions]] = StreamOptions
    # the kind-specific keys of a minimal working source: the docs test validates it against `monitor check`
    # and the shipped JSON Schema, so every registered kind is proven to be accepted by both
    example: ClassVar[dict[str, Any]]

    def __init__(self, options: StreamOptions, clock: Clock, http: HttpConfig):
        self.options = options
        self.clock = clock
        self.http = http
        self._opening: Guard | None = None

    @contextmanager
    def opening(self, seconds: float, stop: threading.Event, trusted: list[str]) -> Iterator[Guard]:
        """Open a connection inside this block: bounded by `seconds`, under the address policy (core/netguard),
        and reachable by `interrupt()` before there is any connection object to close: the guard knows the
        socket from its `connect` on (regression: a reconnect stalled in its WebSocket handshake held its
        thread until `connect_timeout`, and the daemon's stop reported the stream abandoned)."""
        with WATCHDOG.guard(seconds, trusted=trusted, allow_private=self.http.allow_private) as guard:
            self._opening = guard
            try:
                if stop.is_set():          # an interrupt that came before this block existed had nothing to reach
                    guard.cancel()
                yield guard
            finally:
                self._opening = None

    def read(self, cursor: Any, want: Want, stop: threading.Event, *, catch_up_to: float | None = None
             ) -> Iterator[Event]:  # pragma: no cover - abstract
        """Connect from `cursor` (None: start live) and yield events until the connection ends or `stop`.

        Raises `SourceAuthError` when credentials are refused, `SourceError` for any other failure. A clean
        end of stream returns. With `catch_up_to` (epoch s), return once events reach that time (cron mode).
        """
        raise NotImplementedError

    def interrupt(self) -> None:
        """Called from another thread on shutdown (or a lost lease): unblock a `read` stuck opening its
        connection. A kind closes its live connection too, then calls this."""
        guard = self._opening
        if guard is not None:
            guard.cancel()

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def is_stream(source: SourceOptions) -> bool:
    return isinstance(source, StreamOptions)
