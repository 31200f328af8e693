"""Server-sent events (the `text/event-stream` format), assembled line by line.

Per the WHATWG spec: `event:` names the event, `data:` lines are joined with newlines, a blank line
dispatches, lines starting with `:` are comments (Mastodon's `:thump` heartbeats).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EVENT = 1_048_576     # characters; an endless event without a blank line is cut, not buffered forever


@dataclass
class SseEvent:
    name: str
    data: str


class SseParser:
    def __init__(self) -> None:
        self._name = "message"
        self._data: list[str] = []
        self._size = 0

    def feed(self, line: str) -> SseEvent | None:
        """One line (without its newline); returns an event when a blank line completes one."""
        if not line:
            if not self._data:
                self._name = "message"
                return None
            event = SseEvent(self._name, "\n".join(self._data))
            self._name, self._data, self._size = "message", [], 0
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            self._name = value
        elif field == "data":
            self._size += len(value)
            if self._size <= MAX_EVENT:
                self._data.append(value)
        return None
