"""The commands that judge without sending: `explain` (one text, every step from brands to escalation),
`score` (a stream of texts, one JSON line each) and `preview` (one source fetched now, each item judged).

They run the analyser the daemon runs, on the files given, and write nothing: what they print is what the
daemon would decide, so a rule or a lexicon can be tried before it is deployed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import yaml

from monitor.alerting.grouping import snapshot
from monitor.alerting.quiet import exempt, hold_until
from monitor.analyse.language import detect_language
from monitor.analyse.routing import Decision, Router
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock, iso
from monitor.core.durations import format_duration
from monitor.core.errors import ConfigError, MonitorError
from monitor.core.model import Mention
from monitor.sources import REGISTRY, is_polled, registered
from monitor.sources.fetch import make_client

if TYPE_CHECKING:
    from monitor.analyse.analyzer import Analyzer


def _analyzer(args: argparse.Namespace) -> Analyzer:
    from monitor.analyse.analyzer import Analyzer

    config = load_config(args.config)
    return Analyzer(config, Router(load_rules(args.rules)))


def cmd_explain(args: argparse.Namespace) -> int:
    analyzer = _analyzer(args)
    config = analyzer.config
    source_kind, source_id = args.source, args.source
    for s in config.sources:
        if s.id == args.source:
            source_kind = s.kind
    m = Mention(source_id=source_id, source_kind=source_kind, external_id="explain", text=args.text,
                reach=args.reach, rating=args.rating, language=args.lang)
    analysis = analyzer.analyze(m, [args.brand] if args.brand else None)
    brands_detail = analyzer.matcher.explain(args.text)
    first = analysis.verdicts[0] if analysis.verdicts else None
    sentiment = first.sentiment if first else analyzer.scorer.score(args.text, lang=analysis.language,
                                                                    rating=args.rating)
    decision = first.decision if first else None
    out: dict[str, Any] = {
        "brands": [v.brand for v in analysis.verdicts],
        "brand_details": brands_detail,
        "skipped_brands": analysis.skipped,
        "language": sentiment.language or analysis.language,
        "score": sentiment.score, "negative": sentiment.negative, "unscored": sentiment.unscored,
        "issue": sentiment.issue,
        "drivers": [d.to_dict() for d in sentiment.drivers],
        "route": decision.route if decision else None,
        "routes": [h.route for v in analysis.verdicts for h in v.decision.hits],
        "notify": sorted({o for v in analysis.verdicts for o in v.decision.owners}),
        "trace": [{"route": s.route, "matched": s.matched, "why": list(s.reasons)}
                  for s in (decision.trace if decision else [])],
        **_plan(analyzer.router.rules, decision),
    }
    if args.json:
        print_json(out)
        return EXIT_OK
    print(f"brands:    {', '.join(out['brands']) or '(none matched: the mention would be ignored)'}")
    for d in brands_detail:
        if d.get("matched") or d.get("terms_found"):
            print(f"           {d['brand']}: found {d.get('terms_found')}" +
                  (f", excluded by {d['excluded_by']}" if d.get("excluded_by") else ""))
    for b, why in analysis.skipped.items():
        print(f"           {b}: dropped ({why})")
    print(f"language:  {out['language'] or 'unknown'}")
    if sentiment.unscored:
        print("sentiment: unscored (language not supported); routed by its other keys")
    else:
        print(f"sentiment: {sentiment.score:+.3f} ({'negative' if sentiment.negative else 'not negative'})")
    for drv in sentiment.drivers:
        print(f"           {drv.weight:+.2f} {drv.text} ({drv.kind})")
    print(f"issue:     {sentiment.issue or 'none'}")
    if decision:
        print("routes:")
        for step in decision.trace:
            print(f"  {'✓' if step.matched else '✗'} {step.route}: {'; '.join(step.reasons)}")
    print(f"route:     {out['route'] or ('default owner' if out['notify'] else 'none: stored, not sent')}")
    print(f"notify:    {', '.join(out['notify']) or 'nobody'}")
    if out["notify"]:
        for i, lvl in enumerate(out["escalation"]):
            when = "at once" if not lvl["after"] else f"after {format_duration(lvl['after'])} unacknowledged"
            rep = f", {lvl['repeat']} repeat(s)" if lvl["repeat"] else ""
            print(f"  level {i + 1}: {', '.join(lvl['notify'])} {when}{rep}")
        g = out["grouping"]
        print(f"grouping:  first message after {format_duration(g['group_wait'])}, updates at most every "
              f"{format_duration(g['group_interval'])}, re-announced every {format_duration(g['repeat_after'])}"
              + (f", reopens {format_duration(g['ack_timeout'])} after an unresolved ack" if g["ack_timeout"] else ""))
        q = out["quiet_hours"]
        if q:
            print(f"quiet:     {'excepted, goes through quiet hours' if q['exempt'] else 'waits during quiet hours'}"
                  + (f" (quiet now, until {q['now_until']})" if q["now_until"] else ""))
    return EXIT_OK


def _plan(rules: Rules, decision: Decision | None) -> dict[str, Any]:
    """What happens after routing: the policy's levels, grouping timers, quiet hours (first hit)."""
    hit = decision.hits[0] if decision and decision.hits else None
    if hit is None:
        return {"policy": None, "escalation": [], "grouping": None, "quiet_hours": None}
    levels = snapshot(rules, hit)
    quiet = None
    if rules.quiet_hours:
        until = hold_until(rules, hit.route, hit.policy, time.time())
        quiet = {"exempt": exempt(rules, hit.route, hit.policy), "now_until": iso(until)}
    return {"policy": hit.policy,
            "escalation": [{"after": lv["after"], "repeat": lv["repeat"],
                            "notify": [t["owner"] if t["owner"] != "inline" else t["slack"] for t in lv["targets"]]}
                           for lv in levels],
            "grouping": rules.timing(hit.route), "quiet_hours": quiet}


def cmd_score(args: argparse.Namespace) -> int:
    """One JSON line out per line in (a bad line gets {"error": ...} there and on stderr; the rest go on)."""
    from monitor.analyse.analyzer import scorer_for
    from monitor.analyse.sentiment import Scorer

    scorer = scorer_for(load_config(args.config)) if os.path.exists(args.config) else Scorer()
    status = EXIT_OK
    for lineno, line in enumerate(sys.stdin, 1):
        if not line.strip():
            print_json({"line": lineno, "skipped": "blank line"})     # one line in, one line out
            sys.stdout.flush()
            continue
        try:
            text, rating, lang = _score_input(line.rstrip("\n"))
            s = scorer.score(text, lang=lang or detect_language(text), rating=rating)
            print_json({**s.to_dict(), "issue": s.issue})
        except (ValueError, TypeError) as exc:
            print(f"stdin:{lineno}: {exc}", file=sys.stderr)
            print_json({"error": f"stdin:{lineno}: {exc}"})
            status = EXIT_FAIL
        sys.stdout.flush()
    return status


def _score_input(line: str) -> tuple[str, float | None, str | None]:
    """A plain line is the text; a line starting with "{" is {"text": str, "rating": 1..5, "lang": "fr"}."""
    if not line.lstrip().startswith("{"):
        return line, None, None
    obj = json.loads(line)
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError('not a JSON object with a "text" string')
    rating, lang = obj.get("rating"), obj.get("lang")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int | float)
                               or not 1 <= rating <= 5):   # NaN fails the range test too
        raise ValueError(f'"rating" must be a number of stars from 1 to 5, not {json.dumps(rating)}')
    if lang is not None and (not isinstance(lang, str) or not lang.strip()):
        raise ValueError(f'"lang" must be a language code such as "en", not {json.dumps(lang)}')
    return obj["text"], rating, lang


def cmd_preview(args: argparse.Namespace) -> int:
    """Fetch one source now and print what it would collect; any failure is one line and exit 1."""
    if args.kind not in REGISTRY or not is_polled(args.kind):
        polled = [k for k in registered() if is_polled(k)]
        print(f"monitor: unknown source kind {args.kind!r} (known: {', '.join(polled)})", file=sys.stderr)
        return EXIT_CONFIG
    cls = REGISTRY[args.kind]
    from monitor.analyse.analyzer import Analyzer
    from monitor.sources import SourceState
    from monitor.sources.fetch import HttpConfig
    analyzer: Analyzer | None = None
    http = HttpConfig()
    try:
        config = load_config(args.config)
        http = config.http
        analyzer = Analyzer(config, Router(load_rules(args.rules)))
    except (ConfigError, OSError):
        pass                # preview works without (or with a broken) config: items are listed, not judged
    extra: dict[str, Any] = {}
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            print(f"monitor: --set {item!r}: expected KEY=VALUE", file=sys.stderr)
            return EXIT_CONFIG
        extra[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    try:
        opts = cls.Options.model_validate({"id": "preview", "kind": args.kind, **cls.preview_options(args.target),
                                           **extra})
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the one-line reason here
        reason = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()) \
            if hasattr(exc, "errors") else str(exc)
        print(f"monitor: bad target for {args.kind}: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    with make_client(http) as client:
        try:
            result = cls(opts, client, SystemClock(), http).collect(SourceState())
        except MonitorError as exc:
            print(f"monitor: preview failed: {' '.join(str(exc).split())}", file=sys.stderr)
            return EXIT_FAIL
        except Exception as exc:  # noqa: BLE001 - a collector bug is still one line, never a traceback
            print(f"monitor: preview failed: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                  file=sys.stderr)
            return EXIT_FAIL
    now = time.time()
    for m in result.mentions:
        print_json({"external_id": m.external_id, "published": iso(m.published), "author": m.author,
                    "url": m.url, "title": m.title, "text": m.text, "reach": m.reach, "rating": m.rating,
                    "language": m.language, **_judge(analyzer, m, opts.max_age, now)})
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"{len(result.mentions)} item(s)", file=sys.stderr)
    return EXIT_OK


def _judge(analyzer: Analyzer | None, m: Mention, max_age: float, now: float) -> dict[str, Any]:
    """What the daemon would do with this item: brands, score, issue type, and whether it would alert (and
    if not, why: too old, no brand, not negative, no route)."""
    if analyzer is None:
        return {"would_alert": None, "why_not": "no valid config/rules to judge by (pass --config/--rules)"}
    analysis = analyzer.analyze(m)
    first = analysis.verdicts[0].sentiment if analysis.verdicts else None
    out: dict[str, Any] = {"brands": [v.brand for v in analysis.verdicts],
                           "score": first.score if first else None, "negative": analysis.negative,
                           "issue": next((v.sentiment.issue for v in analysis.verdicts if v.sentiment.issue), None),
                           "routes": sorted({h.route or "default" for v in analysis.verdicts for h in v.decision.hits})}
    why = None
    if m.published and now - m.published > max_age:
        ago = format_duration(max(60, round((now - m.published) / 60) * 60))      # to the minute
        why = f"too old: published {ago} ago, max_age is {format_duration(max_age)}"
    elif not analysis.verdicts:
        why = "no brand matched" + (f" ({'; '.join(f'{b}: {r}' for b, r in analysis.skipped.items())})"
                                    if analysis.skipped else "")
    elif not out["routes"]:
        why = "not negative" if not analysis.negative else "no route matched"
    return {**out, "would_alert": why is None, "why_not": why}
