"""Quiet hours: when a non-excepted alert's messages wait, and until when.

The window is wall-clock time in its own time zone (22:00–07:00 Europe/Paris stays 22:00–07:00 across DST),
and may cross midnight. A held message is not queued at all until the window ends: the alert's own timer
moves to the end of the window, so nothing is lost, and a held message never sits at the head of a channel's
queue blocking an excepted (critical) alert behind it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from monitor.config.rules import QuietHours, Rules


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
    return max(_first_instant_at(datetime.combine(end_day, end), tz), now)


def _first_instant_at(wall: datetime, tz: zoneinfo.ZoneInfo) -> float:
    """The first instant the local clock reads `wall` or later: a wall time in a spring-forward gap ends
    the window when the clock jumps past it; an ambiguous one (fall back) at its first occurrence."""
    early = wall.replace(tzinfo=tz, fold=0).timestamp()
    late = wall.replace(tzinfo=tz, fold=1).timestamp()
    if datetime.fromtimestamp(early, tz).replace(tzinfo=None) == wall:
        return early
    lo, hi = int(min(early, late)), int(max(early, late))      # the gap: the jump is in between
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return float(hi)


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


def release_text(rules: Rules, until: float) -> str:
    """"07:00 Europe/Paris": when held messages go out, in the window's own time zone (what ops wrote)."""
    q = rules.quiet_hours
    tz = zoneinfo.ZoneInfo(q.tz if q else "UTC")
    return f"{datetime.fromtimestamp(until, tz):%H:%M} {q.tz if q else 'UTC'}"


def quiet_banner(rules: Rules, now: float) -> str:
    """One line said at start and on reload, so nobody wonders why only critical alerts arrive at night."""
    q = rules.quiet_hours
    if q is None:
        return "off"
    until = quiet_until(q, now)
    excepted = f", except {', '.join(q.except_)}" if q.except_ else ", no exceptions"
    state = f"quiet NOW: other alerts are held until {release_text(rules, until)}" if until else "not quiet now"
    return f"{q.from_}-{q.to} {q.tz}{excepted}; {state}"


def held_until(rules: Rules | None, alert: Mapping[str, Any], now: float) -> float | None:
    """The one definition of "held by quiet hours now", used by `monitor status`, `monitor alerts`, the
    dashboard's alerts board and its health strip: the alert is not resolved, its next message (a first
    message or an update, `flush_at`; an escalation, reminder, ack timeout or snooze's end, `next_action_at`)
    comes due before the current quiet window ends, and the *current* rules.yaml does not except its route or
    policy (what the daemon checks when the timer fires; the `quiet_exempt` column stored at creation is not
    consulted, so an `except:` change is seen at once). Returns when it goes out (the window's end), or None."""
    if rules is None or alert.get("state") == "resolved":
        return None
    pending = [t for t in (alert.get("flush_at"), alert.get("next_action_at")) if t]
    if not pending:
        return None
    until = hold_until(rules, alert.get("route"), alert.get("policy"), now)
    if until is None or min(pending) > until:
        return None                             # nothing due before quiet hours end: nothing waits
    return until


def hold_note(rules: Rules, alert: Mapping[str, Any], now: float) -> str | None:
    """"held by quiet hours until 07:00 Europe/Paris" for an alert whose next message waits for the window
    to end (its first message, an update, an escalation or a snooze's end); None otherwise."""
    until = held_until(rules, alert, now)
    return None if until is None else f"held by quiet hours until {release_text(rules, until)}"


def count_held(rules: Rules | None, alerts: list[dict[str, Any]], now: float, brand: str | None = None) -> int:
    """Alerts held by quiet hours now (`held_until`), of one brand when `brand` is given."""
    return sum(held_until(rules, a, now) is not None for a in alerts if brand is None or a.get("brand") == brand)
