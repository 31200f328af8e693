"""Durations as ops write them ("30s", "5m", "1h30m", "7d") and as the runtime uses them (float seconds)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(value: Any) -> float:
    """Seconds for "90s", "5m", "1h30m", "2d" or a bare number of seconds; ValueError with a hint otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r} (use e.g. 30s, 5m, 2h, 7d)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"bad duration {value!r}: must not be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"bad duration {value!r} (use e.g. 30s, 5m, 2h, 7d)")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ValueError(f'bad duration "{value}" (use e.g. 30s, 5m, 2h, 7d, or 1h30m)')
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact form: 5400 -> "1h30m", for messages and `monitor status`."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    out, rest = "", int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


# In JSON Schema (editors), a duration is what ops write: "30s", "5m", "1h30m", "7d", or seconds.
DURATION_SCHEMA = {"anyOf": [{"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*)+$"},
                             {"const": 0}],
                   "description": "a duration with its unit: 30s, 5m, 2h, 1h30m, 7d (only 0 needs none)"}
FROM_FILE = "from_file"      # validation context key: the value was written by a person in a YAML file


def _duration_field(value: Any, info: ValidationInfo) -> float:
    """In a config file a duration needs its unit, as in Alertmanager: `group_wait: 30` is 30 what?
    (Only 0 is the same in every unit.) Code building models directly may still pass seconds."""
    if (isinstance(value, int | float) and not isinstance(value, bool) and value != 0
            and isinstance(info.context, dict) and info.context.get(FROM_FILE)):
        raise ValueError(f"duration {value!r} has no unit (write e.g. {value:g}s, or 30s, 5m, 2h, 7d)")
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_duration_field), WithJsonSchema(DURATION_SCHEMA)]
