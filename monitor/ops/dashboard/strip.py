"""The health strip: what `monitor status` knows, said in plain words at the top of every dashboard page.

One source of truth: the lines are translated from `monitor.ops.health.report()` (sources failing, disabled or
overdue; Slack delivery halted or stuck; mentions parked; config, replicas, weekly report, actions) and
`health.quiet_health()` (alerts held by quiet hours now), never re-queried here. They are read from the
report's data, never its wording: a source's typed fields (`failing`, `disabled`, `not_polled_for_s`,
`stream.down_for_s`), the outbox's and routing's, and each problem's `kind` (`report()["issues"]`), so
rewording `monitor status` changes no line's severity. Without monitor.yaml the report is
`health.store_report()` (what the store records) and a line says which checks were skipped. The one figure
of its own is the period's unscored mentions (language not supported), read like the overview's other figures.
`kept()` is the strip a report file keeps, as of when it was made.

Every remote string (a source's or Slack's error text) is untrusted: secrets are redacted (`core.logs.redact`:
known secret values, Slack tokens, bearer headers, URL credentials), control characters made inert, the
length capped; the templates escape what is left. A problem `report()` gains later and this module does not
know yet is still shown, as `monitor status` words it, never dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from monitor.core.durations import format_duration
from monitor.core.logs import redact, secret_values
from monitor.ops import health
from monitor.ops.dashboard.figures import Window, local
from monitor.ops.dashboard.pages import _qs
from monitor.ops.health import SOURCE_KINDS
from monitor.store.database import Store

CAP = 200                   # characters of one remote string (an error message) shown in a line
LINE_CAP = 600              # characters of a whole line
SEVERITIES = ("critical", "warning", "info")
ASK = "Ask your admin to run `monitor status`."


@dataclass(frozen=True)
class Line:
    severity: str               # critical | warning | info (held, not broken: quiet hours, unscored, search)
    kind: str                   # source | delivery | routing | config | slack | replicas | report | actions | search | ...
    text: str
    link: str | None = None     # a page with the details, when there is one


@dataclass(frozen=True)
class Strip:
    lines: list[Line]
    healthy: bool | None        # `monitor status` would exit 0 (info lines do not count); None: not known (no
    complete: bool = True       # monitor.yaml, so `complete` False: its checks were skipped, said in a line)
    as_of: float | None = None  # set on a strip kept in a report file: when it was read

    def as_json(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "complete": self.complete,
                "problems": sum(ln.severity != "info" for ln in self.lines),
                "lines": [asdict(ln) for ln in self.lines]}


def clean(text: Any, cap: int = CAP) -> str:
    """A remote string made fit to show: secrets out, control characters inert, one line, at most `cap`."""
    s = " ".join(redact(str(text or ""), secret_values()).split())
    return s if len(s) <= cap else s[: cap - 1].rstrip() + "…"


def _at(iso_text: str | None, tz: str) -> str | None:
    if not iso_text:
        return None
    return local(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp(), tz, "%d %b %H:%M")


def _source_lines(s: dict[str, Any], tz: str) -> list[Line]:
    link = "/feed?" + _qs(source=s["id"])
    if s.get("disabled"):
        return [Line("critical", "source", f"Source {s['id']} is disabled: {clean(s['disabled'])}. No mentions are "
                     f"collected from it until it is fixed. {ASK}", link)]
    out = []
    if s.get("not_polled_for_s"):
        out.append(Line("critical", "source", f"Source {s['id']} has not been checked for "
                        f"{format_duration(s['not_polled_for_s'])} (it should be every {format_duration(s['every'])}): "
                        f"the monitor may not be running, so new mentions are not collected. {ASK}", link))
    st = s.get("stream") or {}
    if st.get("down_for_s"):
        tried = (f" It has tried {s['consecutive_failures']} time(s) in a row and keeps retrying."
                 if s["consecutive_failures"] else "")
        err = f" Last error: {clean(s['last_error'])}." if s.get("last_error") and s["consecutive_failures"] else ""
        what = (f"has never connected (trying for {format_duration(st['down_for_s'])})" if not s.get("last_success")
                else f"has been disconnected for {format_duration(st['down_for_s'])}"
                     + (f" (since {local(st['down_since'], tz, '%d %b %H:%M')})" if st.get("down_since") else ""))
        out.append(Line("critical", "source", f"Stream {s['id']} {what}: new mentions from it are not collected "
                        f"until it reconnects.{tried}{err} {ASK}", link))
    elif s.get("failing"):                  # the report's fact, not its wording (reworded freely)
        since = _at(s.get("last_success"), tz)
        err = f" Last error: {clean(s['last_error'])}." if s.get("last_error") else ""
        out.append(Line("warning", "source", f"Source {s['id']} is failing: its last {s['consecutive_failures']} "
                        f"checks failed ({f'last worked {since}' if since else 'it has never worked'}); mentions "
                        f"from it may be missing.{err}", link))
    return out


def _outbox_lines(ob: dict[str, Any], now: float, tz: str, data: str | None) -> list[Line]:
    out = []
    link = f"{data}/outbox_pending" if data else None
    since = local(now - ob["oldest_pending_age_s"], tz, "%d %b %H:%M") if ob.get("oldest_pending_age_s") else None
    waiting = f" (oldest waiting since {since})" if since else ""
    if ob.get("halted"):
        out.append(Line("critical", "delivery", f"Slack delivery is halted: {clean(ob['halted'])}{waiting}. "
                        f"{ob['pending']} alert message(s) are stored and will be sent when it is fixed. {ASK}", link))
    elif ob.get("stuck"):
        err = f"; last error: {clean(ob['last_error'])}" if ob.get("last_error") else ""
        out.append(Line("critical", "delivery", f"{ob['stuck_count']} Slack message(s) have waited more than "
                        f"{format_duration(ob['stuck_after_s'])} to be sent{waiting}{err}. They are stored and will "
                        f"be sent when Slack accepts them. {ASK}", link))
    if ob.get("unrecorded"):
        why = f"; last: {clean(ob['unrecorded_error'])}" if ob.get("unrecorded_error") else ""
        out.append(Line("warning", "delivery", f"{ob['unrecorded']} Slack message(s) may have been posted but are "
                        f"not recorded yet (the monitor cannot write, Slack answers slowly, or its history cannot be "
                        f"read to check{why}). {ASK}", link))
    return out


def _routing_lines(rt: dict[str, Any], data: str | None, tz: str) -> list[Line]:
    out = [Line("critical", "routing", f"New mentions are not being analysed since {_at(p['since'], tz)}: "
                + ("the monitor cannot use its database" if p["cause"] == "outage" else "the database server is too "
                   "slow") + f". {p['waiting']} mention(s) are kept and wait; no alert is raised for them until it "
                f"recovers. {ASK}") for p in rt.get("paused") or []]
    if rt.get("stalled"):
        st = rt["stalled"]
        out.append(Line("critical", "routing", f"New mentions are not being analysed: {st['waiting']} wait, the oldest"
                        f" since {_at(st['oldest'], tz)}, and the monitor cannot record why (it cannot write to its "
                        f"database). No alert is raised for them until it recovers. {ASK}"))
    if not rt.get("parked"):
        return out
    return out + [Line("warning", "routing", f"{rt['parked']} mention(s) could not be analysed and are parked: they are "
                 f"kept but raise no alert until an admin fixes the cause and runs `monitor retry-mentions --all`. "
                 f"{ASK}", f"{data}/mentions_not_routed" if data else None)]


def _other_line(p: dict[str, str]) -> Line:
    """A problem with no record of its own to read (config, Slack, replicas, report, actions), by its kind; a
    kind this module does not know yet is said as `monitor status` says it, never dropped."""
    kind, detail = p["kind"], p.get("detail") or p["text"]
    if kind == "database_damaged":
        return Line("critical", "database", f"The monitor's database is damaged: {clean(detail, 400)}. Until it is "
                    f"repaired, mentions and alerts may be missing here and in Slack. {ASK}")
    if kind == "config":
        return Line("warning", "config", f"The monitor runs an older configuration than the file on disk: "
                    f"{clean(detail)}. {ASK}")
    if kind == "slack_terminal":
        return Line("critical", "slack", "Alerts are not sent to Slack: the monitor only prints them "
                    f"(slack.mode is terminal), so nobody is notified. {ASK}")
    if kind == "replicas_differ":
        return Line("warning", "replicas", f"The monitor's copies disagree: {clean(detail)}. {ASK}")
    if kind == "report_not_posted":
        return Line("warning", "report", f"The weekly report was not posted: {clean(p['text'].removeprefix('weekly report '))}.", "/report")
    if kind == "search_accents":
        return Line("warning", "search", "Search on the feed does not ignore accents here: \"cafe\" does not find "
                    "\"café\" (the database may not add PostgreSQL's unaccent extension). Search both spellings "
                    f"meanwhile. {ASK}", "/feed")
    if kind in ("actions_stuck", "actions_failed"):
        return Line("warning", "actions", f"Tickets/webhooks: {clean(detail)}.")
    return Line("warning", "other", f"{clean(p['text'], 300)}. {ASK}")


# problems said from their part's record (typed fields), by the line kind that says them
FROM_RECORDS = {"delivery_halted": "delivery", "delivery_unrecorded": "delivery", "delivery_stuck": "delivery",
                "routing_parked": "routing", "routing_paused": "routing", "routing_stalled": "routing"} | {k: "source" for k in SOURCE_KINDS}


def lines_of(rep: dict[str, Any], quiet: dict[str, Any] | None, unscored: dict[str, Any] | None, now: float,
             tz: str, data: str | None = None, sel: dict[str, Any] | None = None,
             rules_problem: str | None = None) -> Strip:
    """The strip for a `health.report()` (or `health.store_report()`), a `health.quiet_health()` and the
    period's unscored mentions.

    `data` is Datasette's database path (`/data/monitor`) when it is served, for links to its saved queries;
    `sel` the page's period and brand, kept in the links to the feed and the alerts board; `rules_problem`
    why the dashboard's rules.yaml is not the file on disk (`liverules`: an edit that does not validate)."""
    out: list[Line] = []
    if rules_problem:
        out.append(Line("warning", "rules", f"{clean(rules_problem, 500)}. {ASK}"))
    for s in rep["sources"]:
        if not s["healthy"]:      # a problem `_source_lines` does not word yet is said as `monitor status` says it
            out += _source_lines(s, tz) or [Line("warning", "source", f"Source {s['id']}: "
                                                 f"{clean('; '.join(s['problems']), 300)}. {ASK}",
                                                 "/feed?" + _qs(source=s["id"]))]
    out += _outbox_lines(rep["outbox"], now, tz, data)
    out += _routing_lines(rep.get("routing") or {}, data, tz)
    said = {ln.kind for ln in out}
    for p in rep.get("issues", []):
        if p["kind"] not in FROM_RECORDS:
            out.append(_other_line(p))
        elif FROM_RECORDS[p["kind"]] not in said:      # never silent: a record line that did not come out
            out.append(Line("warning", FROM_RECORDS[p["kind"]], f"{clean(p['text'], 300)}. {ASK}"))
    healthy: bool | None = False if out or rep["healthy"] is False else rep["healthy"]
    if rep.get("complete") is False:
        out.append(Line("info", "skipped", "Read without monitor.yaml: these lines are what the database records "
                        "(sources disabled or failing, Slack delivery, parked mentions). Not checked: "
                        f"{', '.join(rep.get('skipped') or ())}. {ASK}"))
    sel = {k: v for k, v in (sel or {}).items() if k in ("period", "brand", "start", "end")}
    if quiet and quiet.get("held"):
        until = _at(quiet.get("until"), tz)
        out.append(Line("info", "quiet_hours", f"{quiet['held']} alert(s) are held by quiet hours"
                        + (f" until {until} ({tz})" if until else "") + ": they go to Slack when quiet hours end "
                        "(alerts excepted from quiet hours are sent now).", "/alerts?" + _qs(sel) + "#held"))
    if unscored and unscored.get("n"):
        langs = ", ".join(clean(x, 12) for x in unscored["languages"][:8]) or "unknown"
        out.append(Line("info", "unscored", f"{unscored['n']} mention(s) in this period were not scored for "
                        f"sentiment (language not supported: {langs}): they show as unscored and alert only through "
                        "rules that do not need a sentiment.", "/feed?" + _qs(sel, sentiment="unscored")))
    if (rep.get("search") or {}).get("note"):     # accepted (`storage.unaccent: optional`): no problem, still said
        out.append(Line("info", "search", "Search on the feed does not ignore accents: \"cafe\" does not find "
                        "\"café\". This database has no unaccent extension and the monitor is set to run without it "
                        "(storage.unaccent: optional): search both spellings.", "/feed"))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    out = [Line(ln.severity, ln.kind, ln.text if len(ln.text) <= LINE_CAP else ln.text[: LINE_CAP - 1] + "…",
                ln.link) for ln in sorted(out, key=lambda ln: order[ln.severity])]
    return Strip(out, healthy, rep.get("complete") is not False)


def unscored_in(store: Store, w: Window) -> dict[str, Any]:
    """Matched mentions of the period left unscored (their language has no sentiment model), and which languages."""
    rows = store.query(f"SELECT COALESCE(m.language, '?') AS language, COUNT(*) AS n FROM mentions m WHERE "
                       f"{w.mention_where()} AND m.unscored = 1 GROUP BY 1 ORDER BY n DESC, language", w.params())
    return {"n": sum(r["n"] for r in rows), "languages": [r["language"] for r in rows]}


def kept(store: Store, w: Window, as_of: float, config: Any = None, damage: str | None = None) -> Strip:
    """The strip a report file keeps (`report.overview`: the weekly report, `monitor report`, /report.md): the
    lines as of `as_of`, so a reader of an old report knows its figures were incomplete (a source down that
    week); from `monitor status`'s report with monitor.yaml, else what the store alone knows (and that said).
    `damage`: the database's damage (`Store.quick_check()`), its first line when there is some, as in
    `monitor status`. No links: a file opened later, elsewhere, has no dashboard beside it."""
    rep = health.report(config, store, as_of) if config is not None else health.store_report(store, as_of)
    rep = health.with_damage(rep, damage)
    s = lines_of(rep, None, unscored_in(store, w), as_of, w.tz)
    return Strip([replace(ln, link=None) for ln in s.lines], s.healthy, s.complete, as_of)
