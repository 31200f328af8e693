"""The period and brand a request asks for (`?period=`, `?start=`/`?end=`, `?brand=`), as a `figures.Window`.

Apart from `web` so every page, the strip's JSON and the report read their query the same way, and a bad or
unknown value falls back to the default (the last 7 days, every brand) instead of failing the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.ops.dashboard.figures import Window, local, window_for

PRESETS = ("24h", "7d", "30d")


def selected(q: Mapping[str, str], now: float, tz: str, brands: tuple[str, ...]) -> tuple[Window, dict[str, Any]]:
    """The window asked, and the selection the page keeps in its links (period, brand, start, end). Both dates
    given win over the preset ("custom"); a brand not configured is every brand."""
    period = q.get("period") or "7d"
    brand = q.get("brand") or None
    if brand and brand not in brands:
        brand = None
    start, end = q.get("start") or None, q.get("end") or None
    t0, t1 = day(start, tz), day(end, tz, plus=1)
    if t0 is not None and t1 is not None and t1 > t0:
        period = "custom"                  # both dates given: they win over the preset
    elif period == "custom" or period not in PRESETS:
        period = "7d"
        start = end = None
    w = window_for(period, now, tz, brand, t0, t1)
    return w, {"period": period, "brand": brand, "start": start if period == "custom" else None,
               "end": end if period == "custom" else None}


def day(text: str | None, tz: str, plus: int = 0) -> float | None:
    """The start of the local day `text` (YYYY-MM-DD) plus `plus` days, or None when it is not a date."""
    try:
        d = datetime.strptime(text or "", "%Y-%m-%d").replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    return d.timestamp() + plus * 86400


def window_text(w: Window) -> str:
    return f"{local(w.since, w.tz, '%d %b %H:%M')} → {local(w.until, w.tz, '%d %b %H:%M')}"


__all__ = ["PRESETS", "day", "selected", "window_text"]
