"""Server-sent events (the `text/event-stream` format), assembled line by line, every size capped.

Per the WHATWG spec: `event:` names the event, `data:` lines are joined with newlines, a blank line
dispatches, lines starting with `:` are comments (Mastodon's `:thump` heartbeats); a line ends at CRLF, LF or
CR. A hostile or broken server can send a line that never ends (regression: 2.7 GB in 27 s, nothing logged)
or an event that never dispatches, so `lines` refuses a line past MAX_LINE bytes (the stream is dropped and
reconnected, and the reason logged) and the parser drops an event past MAX_EVENT characters (counted as
malformed). The reading thread hands lines over through a queue of at most QUEUE_LINES.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.core.errors import SourceError

MAX_LINE = 1_048_576      # bytes in one line (one `data:` line holds one whole status of a few KB)
MAX_EVENT = 1_048_576     # characters in one event; an endless event without a blank line is cut, not buffered
QUEUE_LINES = 1_000       # lines waiting for the reading thread; the socket waits beyond that (TCP backpressure)


class LineTooLong(SourceError):
    """A line longer than MAX_LINE: the stream is not trusted further and is reconnected."""


def lines(chunks: Iterable[bytes], max_line: int = MAX_LINE) -> Iterator[str]:
    """Decoded lines of an event stream, never buffering more than `max_line` bytes of one line."""
    buf = b""
    after_cr = False               # the last line ended with a CR at a chunk's end: a LF next belongs to it
    for chunk in chunks:
        if after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        after_cr = False
        buf += chunk
        while (cut := _eol(buf)) is not None:
            end, width = cut
            after_cr = width == 1 and buf[end:end + 1] == b"\r" and end + 1 == len(buf)
            line, buf = buf[:end], buf[end + width:]
            yield line.decode("utf-8", "replace")
        if len(buf) > max_line:
            raise LineTooLong(f"event-stream line longer than {max_line:,} bytes without an end: dropped the "
                              "connection")
    if buf:
        yield buf.decode("utf-8", "replace")


def _eol(buf: bytes) -> tuple[int, int] | None:
    n, r = buf.find(b"\n"), buf.find(b"\r")
    if r == -1 and n == -1:
        return None
    if r == -1 or (n != -1 and n < r):
        return n, 1
    if r + 1 < len(buf) and buf[r + 1:r + 2] == b"\n":
        return r, 2
    return r, 1


@dataclass
class SseEvent:
    name: str
    data: str
    oversized: bool = False       # more than MAX_EVENT characters: data dropped, reported as malformed


class SseParser:
    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self.max_event = max_event
        self._name = "message"
        self._data: list[str] = []
        self._size = 0
        self._over = False

    def feed(self, line: str) -> SseEvent | None:
        """One line (without its newline); returns an event when a blank line completes one."""
        if not line:
            if not self._data and not self._over:
                self._name = "message"
                return None
            event = SseEvent(self._name, "" if self._over else "\n".join(self._data), self._over)
            self._name, self._data, self._size, self._over = "message", [], 0, False
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            self._name = value[:200]
        elif field == "data":
            self._size += len(value) + 1
            if self._size > self.max_event:
                self._over, self._data = True, []
            elif not self._over:
                self._data.append(value)
        return None
