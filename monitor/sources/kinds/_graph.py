"""What the Meta Graph APIs (Facebook Pages, Threads) share: usage headers and cursor paging.

Not a kind (the leading underscore keeps it out of the registry's import loop). Meta throttles by a rolling
percentage of an hourly budget, reported in `X-App-Usage`, `X-Page-Usage` and `X-Business-Use-Case-Usage`
(`estimated_time_to_regain_access` in minutes); error codes 4/17/32/613/80001+ mean "throttled" and code 190
an expired or revoked token (`sources/api.py`). Pages carry `paging.next`, an absolute URL with the cursor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from monitor.core.errors import ParseError
from monitor.sources import api
from monitor.sources.fetch import limiter_of

SLOW_DOWN_AT = 90.0       # percent of the budget: stop asking this host until access is regained


def usage(headers: dict[str, str]) -> tuple[float, float]:
    """(highest percentage used, seconds until access is regained) over the three usage headers."""
    worst, regain = 0.0, 0.0
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage", "x-business-use-case-usage"):
        try:
            data = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = [data] if isinstance(data, dict) and name != "x-business-use-case-usage" else [
            e for v in (data or {}).values() if isinstance(v, list) for e in v if isinstance(e, dict)]
        for e in entries:
            for k in ("call_count", "total_time", "total_cputime"):
                if isinstance(e.get(k), int | float):
                    worst = max(worst, float(e[k]))
            if isinstance(e.get("estimated_time_to_regain_access"), int | float):
                regain = max(regain, 60.0 * e["estimated_time_to_regain_access"])
    return worst, regain


def pages(collector: Any, url: str, params: dict[str, Any], token: Callable[[], str], api_name: str,
          max_pages: int, warnings: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's `data` list, following `paging.next` on the same host, at most `max_pages`."""
    next_url: str | None = url
    next_params: dict[str, Any] | None = params
    for _ in range(max_pages):
        assert next_url is not None
        body, resp = api.get_json(collector, next_url, api_name=api_name, params=next_params, token=token)
        used, regain = usage(resp.headers)
        if used >= SLOW_DOWN_AT:
            limiter = limiter_of(collector.client)
            if limiter is not None:
                limiter.block(urlsplit(resp.url).netloc, collector.clock.now() + max(regain, 600.0))
            warnings.append(f"{api_name}: {used:g}% of the hourly budget used; pausing this host "
                            f"{max(regain, 600.0) / 60:g} min")
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ParseError(f"{api_name} answered without a data list", source_id=collector.options.id)
        yield body["data"]
        nxt = (body.get("paging") or {}).get("next")
        if not nxt or not body["data"]:
            return
        if not api.same_host(nxt, url):
            warnings.append(f"{api_name}: paging.next points to another host; not followed")
            return
        next_url, next_params = nxt, None
