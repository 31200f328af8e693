"""Quiet hours: when a non-excepted alert's messages wait, and until when.

The window is wall-clock time in its own time zone (22:00–07:00 Europe/Paris stays 22:00–07:00 across DST),
and may cross midnight. A held message is not queued at all until the window ends: the alert's own timer
moves to the end of the window, so nothing is lost, and a held message never sits at the head of a channel's
queue blocking an excepted (critical) alert behind it.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from .rules import QuietHours, Rules


def _hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def quiet_until(q: QuietHours | None, now: float) -> float | None:
    """The epoch second the quiet window containing `now` ends, or None when `now` is not in one."""
    if q is None:
        return None
    tz = zoneinfo.ZoneInfo(q.tz)
    local = datetime.fromtimestamp(now, UTC).astimezone(tz)
    start, end = _hhmm(q.from_), _hhmm(q.to)
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:                                   # crosses midnight: 22:00 → 07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    wall = datetime.combine(end_day, end)
    # A wall time that does not exist (spring-forward gap) resolves forward; an ambiguous one to its first.
    ends = wall.replace(tzinfo=tz)
    back = ends.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != wall:
        ends = (wall + timedelta(hours=1)).replace(tzinfo=tz)
    return max(ends.timestamp(), now)


def exempt(rules: Rules, route: str | None, policy: str | None) -> bool:
    """`except:` names policies or routes whose alerts go through quiet hours."""
    q = rules.quiet_hours
    if q is None:
        return True
    names = set(q.except_)
    return bool((route and route in names) or (policy and policy in names))


def hold_until(rules: Rules, route: str | None, policy: str | None, now: float) -> float | None:
    """When a message of this alert due now may go out, if quiet hours hold it; None: it may go now."""
    if exempt(rules, route, policy):
        return None
    return quiet_until(rules.quiet_hours, now)
