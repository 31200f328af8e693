"""The first screen's content, and the weekly report made of it: HTML, Markdown, or one PNG for Slack.

`overview` gathers everything a comms manager reads first (how bad, about what, how fast did we answer);
the dashboard's home page and the report render the same object, so they never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitor.core.durations import format_duration
from monitor.ops.dashboard import charts, strip
from monitor.ops.dashboard.figures import (
    Headline,
    Series,
    Window,
    change,
    headline,
    local,
    series,
    share_of_voice,
    sla_breaches,
    top_negative,
    top_stories,
)
from monitor.store.database import Store

DEFAULT_ACK_TARGET = 3600.0


@dataclass
class Overview:
    window: Window
    as_of: float
    now: Headline
    before: Headline
    series: Series
    sources: list[dict[str, Any]]
    authors: list[dict[str, Any]]
    voice: list[dict[str, Any]]
    stories: list[dict[str, Any]]
    breaches: list[dict[str, Any]]
    ack_target: float
    svg: dict[str, str] = field(default_factory=dict)
    health: strip.Strip | None = None     # the health strip as of `as_of`, kept in the files made of this

    def figures(self) -> list[tuple[str, str, str]]:
        """(label, value, change against the previous period) for the headline tiles, in reading order."""
        n, b = self.now, self.before
        share = f"{n.share_negative:.1%}" if n.share_negative is not None else "—"
        return [
            ("Mentions", f"{n.mentions:,}", change(n.mentions, b.mentions)),
            ("Negative", f"{n.negative:,}", change(n.negative, b.negative)),
            ("Share negative", share, _pts(n.share_negative, b.share_negative)),
            ("Total reach", f"{n.reach:,}", change(n.reach, b.reach)),
            ("Open alerts", f"{n.open_alerts:,}", change(n.open_alerts, b.open_alerts)),
            ("Median time to acknowledge", _dur(n.tta), change(n.tta, b.tta)),
            ("Median time to first response", _dur(n.ttfr), change(n.ttfr, b.ttfr)),
            ("Median time to resolve", _dur(n.ttr), change(n.ttr, b.ttr)),
        ]

    def period_text(self) -> str:
        w = self.window
        brand = f" · {w.brand}" if w.brand else " · all brands"
        return f"{local(w.since, w.tz, '%a %d %b %Y %H:%M')} → {local(w.until, w.tz, '%a %d %b %Y %H:%M')} ({w.tz}){brand}"


def _dur(seconds: float | None) -> str:
    return format_duration(seconds) if seconds is not None else "—"


def _pts(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    d = (now - before) * 100
    return "=" if abs(d) < 0.05 else f"{'+' if d > 0 else '−'}{abs(d):.1f} pts"


def overview(store: Store, w: Window, as_of: float, *, ack_target: float = DEFAULT_ACK_TARGET,
             draw: bool = True, health: bool = True, config: Any = None,
             damage: Callable[[Store], str | None] = Store.quick_check) -> Overview:
    """`health`: keep the health strip as of `as_of` (`strip.kept`, with `config`'s checks when given), for a
    report file: read later, it says the monitor was not healthy when made (the dashboard's pages, which show
    their own live strip, pass False). `damage`: how the kept strip learns whether the database is damaged
    (default: `Store.quick_check()` now, as `monitor status`; the dashboard passes its cached check)."""
    s = series(store, w)
    o = Overview(w, as_of, headline(store, w), headline(store, w.previous), s, top_negative(store, w, "source"),
                 top_negative(store, w, "author"), share_of_voice(store, w), top_stories(store, w),
                 sla_breaches(store, w, ack_target), ack_target)
    if health:
        o.health = strip.kept(store, w, as_of, config, damage(store))
    if draw:
        key = {"buckets": s.buckets, "tz": w.tz, "step": w.step, "length": w.length <= 2 * 86400}
        o.svg = {"volume": charts.cached_svg({**key, "v": s.by_sentiment, "spikes": s.spikes},
                                             lambda: charts.volume(s, w)),
                 "issues": charts.cached_svg({**key, "i": s.by_issue}, lambda: charts.issues(s, w)),
                 "voice": charts.cached_svg({"voice": o.voice}, lambda: charts.voice(o.voice))}
    return o


def markdown(o: Overview, link: str | None = None) -> str:
    """The report as text: what goes beside the image in Slack, and `--format md`."""
    lines = [f"# Mentions report — {o.period_text()}", ""]
    if o.health is not None and (o.health.lines or o.health.healthy):
        lines += [f"## Monitor health when this report was made ({local(o.as_of, o.window.tz, '%Y-%m-%d %H:%M')})"]
        lines += [f"- {ln.severity.upper()}: {md_text(ln.text)}" for ln in o.health.lines]
        lines += ["- All sources healthy; Slack delivery working."] if o.health.healthy else []
        lines += [""]
    lines += [f"- **{label}**: {value}" + (f" ({ch} vs previous period)" if ch else "") for label, value, ch in o.figures()]
    lines += ["", "## Top stories"]
    lines += [f"{i}. #{s['id']} {s['brand'] or ''}: {_one_line(s['title'])} — {s['mention_count']} mention(s), "
              f"reach {s['reach']:,}" + (f", {s['issue']}" if s["issue"] else "") + f" ({s['state']})"
              for i, s in enumerate(o.stories, 1)] or ["none"]
    lines += ["", f"## SLA breaches (not acknowledged within target; default {format_duration(o.ack_target)})"]
    lines += [f"- #{b['id']} {b['brand'] or ''}: {_one_line(b['title'])} — waited {format_duration(b['waited'])} "
              f"(target {format_duration(b['target'])})" + (f", acknowledged by {b['acked_by']}" if b["acked_by"]
                                                             else ", still not acknowledged")
              for b in o.breaches] or ["none"]
    lines += ["", "## Top negative sources"]
    lines += [f"- {r['name']} ({r['kind']}): {r['negative']} negative, reach {r['reach']:,}" for r in o.sources] or ["none"]
    lines += ["", "## Share of voice"]
    total = sum(r["mentions"] for r in o.voice) or 1
    lines += [f"- {r['brand']}: {r['mentions']:,} ({r['mentions'] / total:.0%}), {r['negative']:,} negative"
              for r in o.voice] or ["none"]
    if link:
        lines += ["", f"Dashboard: {link}"]
    lines += ["", f"_As of {local(o.as_of, o.window.tz, '%Y-%m-%d %H:%M')} {o.window.tz}_"]
    return "\n".join(lines) + "\n"


def md_text(text: str) -> str:
    """A line of the strip (already scrubbed and capped) made inert in Markdown: no link, image, HTML or emphasis."""
    return re.sub(r"([\\`*_\[\]<>#!|])", r"\\\1", text)


def _one_line(text: str | None, n: int = 90) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[: n - 1] + "…"


def png(o: Overview) -> bytes:
    """One image: the headline figures, mentions by sentiment with spikes, issue types, share of voice."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 11.5), dpi=100, layout="constrained")
    rows: Any = fig.subfigures(4, 1, height_ratios=[2.2, 3.2, 2.6, 2.6])
    top, vol, iss, bottom = rows
    top.suptitle(f"Mentions report · {o.period_text()}", fontsize=12, fontweight="bold", x=0.01, ha="left")
    ax = top.add_subplot()
    ax.axis("off")
    for i, (label, value, ch) in enumerate(o.figures()):
        x, y = (i % 4) / 4 + 0.01, 0.72 if i < 4 else 0.12
        ax.text(x, y + 0.26, label, fontsize=8.5, color="#555", transform=ax.transAxes)
        ax.text(x, y, value, fontsize=17, fontweight="bold", transform=ax.transAxes)
        if ch:
            ax.text(x, y - 0.13, f"{ch} vs previous", fontsize=8, color="#555", transform=ax.transAxes)
    for sub, title in ((vol, "Mentions by sentiment (spikes marked; line: negative share)"),
                       (iss, "Issue types of negative mentions"), (bottom, "Share of voice · top stories · SLA")):
        sub.suptitle(title, fontsize=10, fontweight="bold", x=0.01, ha="left")
    charts.volume(o.series, o.window, vol)
    charts.issues(o.series, o.window, iss)
    cols: Any = bottom.subfigures(1, 2, width_ratios=[1, 1.3])
    left, right = cols
    charts.voice(o.voice, left)
    tx = right.add_subplot()
    tx.axis("off")
    lines = ["Top stories"] + [f"#{s['id']} {_one_line(s['title'], 48)} ({s['mention_count']})" for s in o.stories[:5]]
    lines += ["", f"SLA breaches: {len(o.breaches)}"]
    lines += [f"#{b['id']} waited {format_duration(b['waited'])}" for b in o.breaches[:4]]
    tx.text(0, 1, "\n".join(lines), va="top", fontsize=8.5, transform=tx.transAxes, family="DejaVu Sans")
    fig.text(0.99, 0.002, f"as of {local(o.as_of, o.window.tz, '%Y-%m-%d %H:%M')} {o.window.tz}", ha="right",
             fontsize=7, color="#777")
    return charts.png(fig)

