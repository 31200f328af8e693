"""What the operator sets for the outbox, as one record its parts share: a reload changes it while sending goes on.

Why a module of its own: the outbox is composed of parts (`lanes`, `outcomes`, `health`, `inflight`), and three
of them read these settings; `monitor.runtime.liveconfig` changes them on a reload through the Outbox's
attributes of the same names. Each part holds this record and reads it at use, so a reload is seen by all at
once and no part keeps a stale copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from monitor.core.model import Target

T = TypeVar("T")

STUCK_AFTER_S = 15 * 60


@dataclass
class OutboxSettings:
    interval: float = 1.0                                      # at most one message per lane this often (s)
    fallback: list[Target] = field(default_factory=list)      # where a message for a vanished channel goes
    stuck_after: float = STUCK_AFTER_S                         # a row pending longer is logged and counted stuck


class Setting(Generic[T]):
    """An attribute of the Outbox that is a field of its `settings` record: `outbox.interval = 0.0` sets it for
    every part at once (what a reload and the tests do)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, outbox: Any, owner: type | None = None) -> T:
        return getattr(outbox.settings, self.name)

    def __set__(self, outbox: Any, value: T) -> None:
        setattr(outbox.settings, self.name, value)
