"""Charts drawn on the server with matplotlib: SVG inline in the dashboard and report, PNG for Slack.

Why server-side: one drawing for the page, the HTML report and the image posted to Slack; no JavaScript
bundle to vendor, audit or keep working offline; and no browser needed by the daemon to make the weekly
image. matplotlib's object API (Figure, no pyplot) keeps no global state, so server threads can draw at once.
Labels that come from collected data (issue types, brand names) are text in the SVG, escaped by matplotlib's
SVG writer.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure, SubFigure  # noqa: E402 - after choosing the backend
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from monitor.ops.dashboard.figures import SENTIMENTS, Series, Window  # noqa: E402

COLOURS = {"negative": "#c8334a", "neutral": "#9aa5b1", "positive": "#2e8b57", "unscored": "#d9c9a3"}
ISSUE_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974"]
matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "svg.hashsalt": "monitor"})


def _own(width: float, height: float, *, left: float = 0.07, right: float = 0.97, bottom: float = 0.12,
         top: float = 0.96) -> Figure:
    """A standalone chart with fixed margins: constrained layout doubles the drawing time of a page."""
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    return fig


def _labels(w: Window) -> list[str]:
    fmt = "%H:%M" if w.step < 86400 and w.length <= 2 * 86400 else ("%a %d %Hh" if w.step < 86400 else "%a %d %b")
    return [datetime.fromtimestamp(t, ZoneInfo(w.tz)).strftime(fmt) for t in w.buckets()]


def _ticks(ax: Any, labels: list[str], w: Window) -> None:
    """At most ~8 labels; 6-hour buckets (7 days) are labelled once a day, at local midnight."""
    if w.step == 6 * 3600 and len(labels) > 8:
        pos = list(range(0, len(labels), 4))
        labels = [datetime.fromtimestamp(t, ZoneInfo(w.tz)).strftime("%a %d") for t in w.buckets()]
    else:
        pos = list(range(0, len(labels), max(1, -(-len(labels) // 8))))
    ax.set_xticks(pos, [labels[i] for i in pos], rotation=0)


def volume(s: Series, w: Window, fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Mentions per bucket stacked by sentiment, spikes marked, negative share on the right axis."""
    fig = fig or _own(12.5, 3.4, left=0.05, right=0.94)
    ax = fig.add_subplot()
    x = list(range(len(s.buckets)))
    bottom = [0] * len(x)
    for name in SENTIMENTS:
        vals = s.by_sentiment[name]
        if any(vals):
            ax.bar(x, vals, bottom=bottom, color=COLOURS[name], label=name, width=0.85)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    for i in s.spikes:
        ax.annotate("spike", (i, bottom[i]), xytext=(0, 6), textcoords="offset points", ha="center",
                    color="#c8334a", fontweight="bold", arrowprops={"arrowstyle": "-", "color": "#c8334a"})
    ax.set_ylabel("mentions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*bottom, 1]) * 1.25)
    share = ax.twinx()
    share.plot(x, [v if v is not None else float("nan") for v in s.negative_share], color="#1f2d3d",
               marker=".", linewidth=1.2, label="negative share")
    share.set_ylim(0, 1.05)
    share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share.spines["top"].set_visible(False)
    share.set_ylabel("negative share")
    _ticks(ax, _labels(w), w)
    handles, names = ax.get_legend_handles_labels()
    h2, n2 = share.get_legend_handles_labels()
    ax.legend(handles + h2, names + n2, loc="upper left", ncols=5, frameon=False, fontsize=8)
    return fig


def issues(s: Series, w: Window, fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Negative mentions per bucket by issue type."""
    fig = fig or _own(12.5, 2.6, left=0.05, right=0.94)
    ax = fig.add_subplot()
    x = list(range(len(s.buckets)))
    bottom = [0] * len(x)
    ranked = sorted(s.by_issue.items(), key=lambda kv: -sum(kv[1]))
    for i, (name, vals) in enumerate(ranked):
        ax.bar(x, vals, bottom=bottom, color=ISSUE_COLOURS[i % len(ISSUE_COLOURS)], label=name[:30], width=0.85)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    if not ranked:
        ax.text(0.5, 0.5, "no issue types recorded for negative mentions in this period", ha="center",
                va="center", transform=ax.transAxes, color="#666")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("negative mentions")
    _ticks(ax, _labels(w), w)
    if ranked:
        ax.legend(loc="upper left", ncols=6, frameon=False, fontsize=8)
        ax.set_ylim(0, max([*bottom, 1]) * 1.3)
    return fig


def voice(rows: list[dict[str, Any]], fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Share of voice: each brand's mentions, the negative part darker."""
    fig = fig or _own(4.4, max(1.6, 0.45 * len(rows) + 0.8), left=0.2, bottom=0.2)
    ax = fig.add_subplot()
    names = [str(r["brand"])[:24] for r in rows][::-1]
    total = [int(r["mentions"]) for r in rows][::-1]
    neg = [int(r["negative"]) for r in rows][::-1]
    everything = sum(total) or 1
    ax.barh(names, total, color="#9aa5b1", label="mentions")
    ax.barh(names, neg, color=COLOURS["negative"], label="negative")
    for i, t in enumerate(total):
        ax.text(t, i, f" {t / everything:.0%}", va="center", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max([*total, 1]) * 1.2)
    if not rows:
        ax.text(0.5, 0.5, "no mentions", ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return fig


_CACHE: OrderedDict[str, str] = OrderedDict()
_LOCK = threading.Lock()


def cached_svg(key: Any, draw: Callable[[], Figure | SubFigure]) -> str:
    """The SVG of `draw()`, reused while its data (the key) is the same: a reload that finds nothing new
    costs no drawing. Keys are the chart's full input, so a changed figure is never served stale."""
    k = json.dumps(key, sort_keys=True, default=str)
    with _LOCK:
        if k in _CACHE:
            _CACHE.move_to_end(k)
            return _CACHE[k]
    text = svg(draw())
    with _LOCK:
        _CACHE[k] = text
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return text


def svg(fig: Figure | SubFigure) -> str:
    assert isinstance(fig, Figure), "a subfigure is saved with its parent"
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]            # drop the XML prolog and doctype: inline in HTML


def png(fig: Figure | SubFigure, dpi: int = 110) -> bytes:
    assert isinstance(fig, Figure), "a subfigure is saved with its parent"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
