"""Core: the vocabulary every stage shares, and nothing else (no I/O, no stage imports it depends on).

The `Mention` and `Target` records, the exception tree (`monitor.core.errors` draws it), clocks (injectable,
so tests fake time), durations, the query language, text helpers, YAML loading that remembers lines, the
validation helpers that turn pydantic errors into `file:line key: message (hint)`, logging with
secret redaction, `scrub` (URL credentials out, control characters inert, wherever a string is shown) and
`netguard` (one deadline and one address policy for every socket any stage opens, Slack's included). Everything above imports from here; this package imports nothing above it.
"""

from __future__ import annotations

from monitor.core.clock import Clock, FakeClock, SystemClock, iso
from monitor.core.durations import format_duration, parse_duration
from monitor.core.errors import ConfigError, ConfigIssue, ConfigValidationError, MonitorError
from monitor.core.model import Mention, Target

__all__ = ["Clock", "ConfigError", "ConfigIssue", "ConfigValidationError", "FakeClock", "Mention", "MonitorError",
           "SystemClock", "Target", "format_duration", "iso", "parse_duration"]
