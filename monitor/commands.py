"""What each `monitor` subcommand does; the CLI module maps exceptions to exit codes around these."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from .alerts import list_alerts, transition
from .cli import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from .clock import SystemClock, iso
from .collectors import REGISTRY, registered
from .config import load_config
from .daemon import App, Paths, run_daemon, run_once
from .durations import format_duration, parse_duration
from .errors import ConfigIssue, ConfigValidationError, MonitorError
from .fetch import make_client
from .language import detect_language
from .model import Mention
from .pipeline import Analyzer, mention_from_row
from .routing import Router
from .rules import load_rules
from .sentiment import Scorer
from .storage import RunLock, Store


def _paths(args: argparse.Namespace) -> Paths:
    return Paths(args.config, args.rules, args.db)


def cmd_run(args: argparse.Namespace) -> int:
    if not args.once:
        return run_daemon(_paths(args))
    config = load_config(args.config)
    load_rules(args.rules)
    with RunLock(config.db_path(args.db)):
        app = App(_paths(args), config=config)
        try:
            summary = run_once(app)
        finally:
            app.close()
    print(f"polled {summary['polled']} source(s), {summary['failed']} failed, "
          f"{summary['new_mentions']} new mention(s), {summary['sent']} message(s) sent", file=sys.stderr)
    return EXIT_FAIL if summary["failed"] and not summary["polled"] else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    issues: list[ConfigIssue] = []
    config = rules = None
    try:
        config = load_config(args.config)
    except ConfigValidationError as exc:
        issues += exc.issues
    try:
        rules = load_rules(args.rules)
    except ConfigValidationError as exc:
        issues += exc.issues
    if issues:
        raise ConfigValidationError(issues)
    assert config is not None and rules is not None
    kinds = sorted({s.kind for s in config.sources})
    print(f"{args.config}: OK — {len(config.brands)} brand(s), {len(config.sources)} source(s) "
          f"({', '.join(kinds) or 'none'})")
    print(f"{args.rules}: OK — {len(rules.owners)} owner(s), {len(rules.routes)} route(s), "
          f"{len(rules.escalation_policies)} escalation polic(ies)")
    token = config.slack.token_env
    print(f"slack: {'token found in $' + token if os.environ.get(token) else 'no $' + token + ': alerts print to the terminal'}")
    for s in config.sources:
        print(f"  source {s.id:<20} {s.kind:<11} every {format_duration(s.every):<6} {REGISTRY[s.kind].summary()}")
    return EXIT_OK


def _analyzer(args: argparse.Namespace) -> Analyzer:
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
        "drivers": [d.to_dict() for d in sentiment.drivers],
        "route": decision.route if decision else None,
        "routes": [h.route for v in analysis.verdicts for h in v.decision.hits],
        "notify": sorted({o for v in analysis.verdicts for o in v.decision.owners}),
        "trace": [{"route": s.route, "matched": s.matched, "why": list(s.reasons)}
                  for s in (decision.trace if decision else [])],
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
    if decision:
        print("routes:")
        for step in decision.trace:
            print(f"  {'✓' if step.matched else '✗'} {step.route}: {'; '.join(step.reasons)}")
    print(f"route:     {out['route'] or ('default owner' if out['notify'] else 'none: stored, not sent')}")
    print(f"notify:    {', '.join(out['notify']) or 'nobody'}")
    return EXIT_OK


def cmd_score(args: argparse.Namespace) -> int:
    config = load_config(args.config) if os.path.exists(args.config) else None
    scorer = Scorer(config.sentiment.threshold if config else -0.05)
    status = EXIT_OK
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        text, rating, lang = line, None, None
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
                text, rating, lang = str(obj["text"]), obj.get("rating"), obj.get("lang")
            except (ValueError, KeyError, TypeError) as exc:
                print(f"stdin:{lineno}: not a JSON object with a \"text\" key: {exc}", file=sys.stderr)
                status = EXIT_FAIL
                continue
        lang = lang or detect_language(text)
        print_json(scorer.score(text, lang=lang, rating=rating).to_dict())
    return status


def cmd_replay(args: argparse.Namespace) -> int:
    analyzer = _analyzer(args)
    store = Store(analyzer.config.db_path(args.db))
    since = time.time() - parse_duration(args.since)
    rows = store.query("SELECT * FROM mentions WHERE collected_at >= ? ORDER BY id", (since,))
    would = 0
    for row in rows:
        m = mention_from_row(row)
        for v in analyzer.analyze(m).verdicts:
            for hit in v.decision.hits:
                would += 1
                print_json({"mention_id": m.id, "collected_at": iso(row["collected_at"]), "brand": v.brand,
                            "route": hit.route, "notify": [t.owner for t in hit.targets],
                            "channels": [t.slack for t in hit.targets], "score": v.sentiment.score,
                            "text": m.full_text[:200]})
    print(f"{len(rows)} mention(s) since {args.since}; {would} alert(s) would be sent; nothing was sent",
          file=sys.stderr)
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    if args.kind not in REGISTRY:
        print(f"monitor: unknown source kind {args.kind!r} (known: {', '.join(registered())})", file=sys.stderr)
        return EXIT_CONFIG
    cls = REGISTRY[args.kind]
    try:
        config = load_config(args.config)
        http = config.http
    except ConfigValidationError:
        from .fetch import HttpConfig
        http = HttpConfig()
    try:
        opts = cls.Options.model_validate({"id": "preview", "kind": args.kind, **cls.preview_options(args.target)})
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the one-line reason here
        print(f"monitor: bad target for {args.kind}: {str(exc).splitlines()[-1].strip()}", file=sys.stderr)
        return EXIT_CONFIG
    from .collectors import SourceState
    with make_client(http) as client:
        try:
            result = cls(opts, client, SystemClock(), http).collect(SourceState())
        except MonitorError as exc:
            print(f"monitor: preview failed: {exc}", file=sys.stderr)
            return EXIT_FAIL
    for m in result.mentions:
        print_json({"external_id": m.external_id, "published": iso(m.published), "author": m.author,
                    "url": m.url, "title": m.title, "text": m.text, "reach": m.reach, "rating": m.rating})
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"{len(result.mentions)} item(s)", file=sys.stderr)
    return EXIT_OK


def _store(args: argparse.Namespace) -> Store:
    return Store(load_config(args.config).db_path(args.db))


def cmd_alerts(args: argparse.Namespace) -> int:
    rows = list_alerts(_store(args), only_open=args.open)
    if args.json:
        for r in rows:
            print_json(r)
        return EXIT_OK
    if not rows:
        print("no alerts" if not args.open else "no open alerts")
    for r in rows:
        owners = ",".join(t["owner"] for t in r["targets"])
        print(f"#{r['id']:<5} {r['state']:<12} {iso(r['created_at'])}  {r['brand'] or '-':<12} "
              f"route={r['route'] or 'default'} owners={owners} mentions={r['mention_count']}  {(r['title'] or '')[:60]}")
    return EXIT_OK


def _actor(args: argparse.Namespace) -> str:
    return args.by or f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


def cmd_ack(args: argparse.Namespace) -> int:
    row = transition(_store(args), args.id, "ack", _actor(args))
    print(f"alert #{row['id']} is {row['state']}")
    return EXIT_OK


def cmd_resolve(args: argparse.Namespace) -> int:
    row = transition(_store(args), args.id, "resolve", _actor(args))
    print(f"alert #{row['id']} is {row['state']}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from . import health

    config = load_config(args.config)
    store = Store(config.db_path(args.db))
    try:
        report = health.report(config, store, time.time())
    finally:
        store.close()
    if args.json:
        print_json(report)
    else:
        print("\n".join(health.render(report)))
    return EXIT_OK if report["healthy"] else EXIT_FAIL


def cmd_ui(args: argparse.Namespace) -> int:
    from .ui import UI

    db = os.path.expanduser(args.db) if args.db else load_config(args.config).db_path()   # --db needs no config
    ui = UI(db, live=args.live)
    try:
        ui.serve(args.host, args.port)
    finally:
        ui.close()
    return EXIT_OK
