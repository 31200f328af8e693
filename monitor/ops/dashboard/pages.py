"""Jinja2 templates with autoescaping on: every collected string (text, author, title, URL) is escaped.

Links to collected URLs go through `safe_url`: only http(s) is linked, so a hostile `javascript:` URL in a
feed becomes plain text. Chart SVG is the one thing marked safe: it comes from matplotlib, not from a post.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2

from monitor.core.durations import format_duration
from monitor.ops.dashboard.figures import local

CSS_FILE = "dashboard.css"


def safe_url(url: Any) -> str | None:
    if not isinstance(url, str) or len(url) > 2000:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _dur(seconds: Any) -> str:
    return format_duration(float(seconds)) if seconds is not None else "—"


def _qs(base: dict[str, Any] | None = None, **kw: Any) -> str:
    merged = {**(base or {}), **kw}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


@cache
def env() -> jinja2.Environment:
    e = jinja2.Environment(loader=jinja2.PackageLoader("monitor.ops.dashboard", "templates"),
                           autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    e.filters["safe_url"] = safe_url
    e.filters["dur"] = _dur
    e.filters["local"] = local
    e.globals["qs"] = _qs
    return e


@cache
def css() -> str:
    from importlib import resources
    return resources.files("monitor.ops.dashboard").joinpath(f"static/{CSS_FILE}").read_text(encoding="utf-8")


def render(template: str, **context: Any) -> str:
    return env().get_template(template).render(**context)


def report_html(o: Any, link: str | None = None, health: Any = None) -> str:
    """The standalone report (CSS inline, charts inline): a file to keep, mail or open offline. `health`: the
    dashboard's live strip on its /report; otherwise the strip the overview kept as of when it was made
    (`o.health`), so a saved report says whether its figures were complete (a source down that week)."""
    return render("report.html", o=o, link=link, css=css(), tz=o.window.tz,
                  health=health if health is not None else o.health)
