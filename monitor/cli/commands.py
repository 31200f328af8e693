"""What each `monitor` subcommand does; the CLI module maps exceptions to exit codes around these."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import yaml

from monitor.alerting.grouping import snapshot
from monitor.alerting.lifecycle import alert_events, get_alert, list_alerts, list_feedback, transition
from monitor.alerting.quiet import exempt, hold_until
from monitor.analyse.analyzer import Analyzer
from monitor.analyse.language import detect_language
from monitor.analyse.routing import Decision, Router
from monitor.analyse.sentiment import Scorer
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock, iso
from monitor.core.durations import format_duration, parse_duration
from monitor.core.errors import ConfigError, ConfigIssue, ConfigValidationError, MonitorError
from monitor.core.model import Mention
from monitor.runtime.daemon import App, Paths, run_daemon, run_once
from monitor.sources import REGISTRY, is_polled, is_stream, registered
from monitor.sources.fetch import make_client
from monitor.store.database import RunLock, Store


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
    print(f"polled {summary['polled']} source(s) ({summary.get('streams', 0)} stream(s) caught up), "
          f"{summary['failed']} failed, "
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
    sl = config.slack
    if sl.mode == "webhook":
        hook = sl.webhook_url_env
        print(f"slack: webhook mode (one channel, no buttons): "
              f"{'$' + hook + ' found' if os.environ.get(hook) else 'no $' + hook + ': alerts print to the terminal'}")
    else:
        print(f"slack: {'token found in $' + token if os.environ.get(token) else 'no $' + token + ': alerts print to the terminal'}")
        need = {"socket": sl.app_token_env, "http": sl.signing_secret_env}.get(sl.interactive)
        print(f"slack buttons: {sl.interactive}" + (f" ({'$' + need + ' found' if os.environ.get(need) else 'no $' + need + ': buttons will not work'})" if need else ""))
    if rules.replies or rules.actions or any(r.reply_approval for r in rules.routes) or rules.reply_approval:
        acted = [r.name for r in rules.routes if r.actions]
        print(f"responding: {len(rules.replies)} reply template(s); approval by "
              f"{', '.join(sorted({r.reply_approval for r in rules.routes if r.reply_approval} | set((rules.reply_approval or {}).values()))) or 'nobody'}"
              f"; {len(rules.actions or {})} action(s)" + (f" on route(s) {', '.join(acted)}" if acted else ""))
    for s in config.sources:
        if getattr(REGISTRY[s.kind], "push", False):
            secret = getattr(s, "secret_env", "")
            print(f"  source {s.id:<20} {s.kind:<11} {'push':<12} POST {config.inbound.listen}"
                  f"{getattr(s, 'path', '')} ({'$' + secret + ' found' if os.environ.get(secret) else 'no $' + secret + ': every delivery gets 401'})")
            continue
        if is_stream(s):
            print(f"  source {s.id:<20} {s.kind:<11} {'stream':<12} {REGISTRY[s.kind].summary()}")
        else:
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
    from monitor.alerting.replay import replay
    analyzer = _analyzer(args)
    store = Store(analyzer.config.db_path(args.db))
    try:
        n, would = replay(store, analyzer, time.time() - parse_duration(args.since))
    finally:
        store.close()
    for record in would:
        print_json(record)
    mentions = sum(r["mentions"] for r in would)
    print(f"{n} mention(s) since {args.since}; {len(would)} alert(s) covering {mentions} mention(s) would have "
          "been sent; nothing was sent", file=sys.stderr)
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    """Fetch one source now and print what it would collect; any failure is one line and exit 1."""
    if args.kind not in REGISTRY or not is_polled(args.kind):
        polled = [k for k in registered() if is_polled(k)]
        print(f"monitor: unknown source kind {args.kind!r} (known: {', '.join(polled)})", file=sys.stderr)
        return EXIT_CONFIG
    cls = REGISTRY[args.kind]
    from monitor.sources import SourceState
    from monitor.sources.fetch import HttpConfig
    try:
        http = load_config(args.config).http
    except (ConfigError, OSError):
        http = HttpConfig()            # preview works without (or with a broken) config file
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
    for m in result.mentions:
        print_json({"external_id": m.external_id, "published": iso(m.published), "author": m.author,
                    "url": m.url, "title": m.title, "text": m.text, "reach": m.reach, "rating": m.rating,
                    "language": m.language})
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"{len(result.mentions)} item(s)", file=sys.stderr)
    return EXIT_OK


def _store(args: argparse.Namespace) -> Store:
    return Store(load_config(args.config).db_path(args.db))


def cmd_alerts(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.id is not None:
        row = get_alert(store, args.id)
        events = alert_events(store, args.id)
        replies = store.query("SELECT id, state, platform, author, url, last_error, created_at, posted_at FROM replies"
                              " WHERE alert_id = ? ORDER BY id", (args.id,))
        tickets = store.query("SELECT id, name, kind, state, ticket_key, ticket_url, close_state, last_error FROM"
                              " actions WHERE alert_id = ? ORDER BY id", (args.id,))
        if args.json:
            print_json({**list_alerts_one(store, args.id), "events": events, "replies": replies, "actions": tickets})
            return EXIT_OK
        print(f"alert #{row['id']} ({row['kind']}) {row['state']}"
              + (f" ({row['resolution']})" if row["resolution"] else "")
              + f" · route {row['route'] or 'default'} · policy {row['policy'] or '-'} · level {row['level'] + 1}"
              + f" · {row['mention_count']} mention(s)")
        print(f"  {row['title'] or ''}")
        for e in events:
            print(f"  {iso(e['at'])}  {e['kind']:<13} {e['actor'] or '':<16} {e['detail'] or ''}")
        if row["next_action_at"] and row["state"] != "resolved":
            print(f"  next: {row['next_action']} at {iso(row['next_action_at'])}")
        if row.get("first_response_at"):
            print(f"  first response after {format_duration(row['first_response_at'] - row['created_at'])}"
                  f" by {row['first_response_by']}")
        for r in replies:
            print(f"  reply #{r['id']} {r['state']:<17} {r['platform']:<10} by {r['author']:<16} "
                  + (r["url"] or r["last_error"] or ""))
        for t in tickets:
            print(f"  action {t['name']} ({t['kind']}) {t['state']}"
                  + (f" {t['ticket_key']} {t['ticket_url'] or ''}" if t["ticket_key"] else "")
                  + (f", close {t['close_state']}" if t["close_state"] else "")
                  + (f" — {t['last_error']}" if t["last_error"] else ""))
        return EXIT_OK
    rows = list_alerts(store, only_open=args.open, limit=args.limit)
    if args.json:
        for r in rows:
            print_json(r)
        return EXIT_OK
    if not rows:
        print("no alerts" if not args.open else "no open alerts")
    for r in rows:
        owners = ",".join(r["owners"])
        tta = f" ack {format_duration(r['time_to_ack'])}" if r["time_to_ack"] is not None else ""
        ttr = f" resolve {format_duration(r['time_to_resolve'])}" if r["time_to_resolve"] is not None else ""
        ttr += (f" respond {format_duration(r['time_to_first_response'])}"
                if r.get("time_to_first_response") is not None else "")
        print(f"#{r['id']:<5} {r['state']:<12} {iso(r['created_at'])}  {r['brand'] or '-':<12} "
              f"route={r['route'] or 'default'} owners={owners} mentions={r['mention_count']}{tta}{ttr}  "
              f"{(r['title'] or '')[:60]}")
    return EXIT_OK


def list_alerts_one(store: Store, alert_id: int) -> dict[str, Any]:
    return next(r for r in list_alerts(store, limit=1_000_000) if r["id"] == alert_id)


def _actor(args: argparse.Namespace) -> str:
    return args.by or f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


def _transition(args: argparse.Namespace, action: str, until: float | None = None) -> int:
    row = transition(_store(args), args.id, action, _actor(args), until=until)
    extra = f" until {iso(row['snoozed_until'])}" if row.get("snoozed_until") else ""
    extra += f" ({row['resolution']})" if row.get("resolution") else ""
    print(f"alert #{row['id']} is {row['state']}{extra}")
    return EXIT_OK


def cmd_ack(args: argparse.Namespace) -> int:
    return _transition(args, "ack")


def cmd_resolve(args: argparse.Namespace) -> int:
    return _transition(args, "resolve")


def cmd_reopen(args: argparse.Namespace) -> int:
    return _transition(args, "reopen")


def cmd_snooze(args: argparse.Namespace) -> int:
    return _transition(args, "snooze", time.time() + parse_duration(args.for_))


def _replies(args: argparse.Namespace) -> Any:
    from monitor.respond.replies import ReplyService

    config = load_config(args.config)
    rules = load_rules(args.rules)
    store = Store(config.db_path(args.db))
    return ReplyService(store, lambda: rules, config, SystemClock())


def _post_now(svc: Any, reply_id: int, budget_s: float = 20.0) -> int:
    """Post a stored, approved reply from the terminal: its URL, or one line saying why not (exit 1)."""
    deadline = time.monotonic() + budget_s
    while True:
        r = svc.post(reply_id) or svc.get(reply_id)
        if r.state == "posted":
            print(r.url or f"posted (reply #{r.id}; {r.platform} gave no link)")
            return EXIT_OK
        if r.state == "failed":
            print(f"monitor: {' '.join((r.last_error or 'the platform refused the reply').split())}", file=sys.stderr)
            return EXIT_FAIL
        wait = (r.not_before or 0) - time.time()
        if time.monotonic() + max(wait, 0) > deadline:
            print(f"monitor: not posted yet ({r.last_error or 'busy'}); reply #{r.id} is stored and the daemon "
                  "(`monitor run`) retries it", file=sys.stderr)
            return EXIT_FAIL
        time.sleep(max(0.05, wait))


def cmd_reply(args: argparse.Namespace) -> int:
    from monitor.respond.drafts import TooLong

    svc = _replies(args)
    try:
        if args.draft:
            target, draft = svc.draft(args.id)
            print(draft)
            print(f"({target.platform}: at most {target.limit} characters"
                  + ("" if target.postable else "; cannot be posted from here, use --mark") + ")", file=sys.stderr)
            return EXIT_OK
        if args.mark is not None:
            r = svc.mark(args.id, args.mark or None, _actor(args))
            print(f"alert #{r.alert_id} marked replied" + (f": {r.url}" if r.url else ""))
            return EXIT_OK
        if not args.text:
            print("monitor: give the reply text (or --draft to see the suggested one, --mark URL for a reply made "
                  "elsewhere)", file=sys.stderr)
            return EXIT_CONFIG
        try:
            r = svc.submit(args.id, args.text, _actor(args))
        except TooLong as exc:
            print(f"monitor: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if r.state == "awaiting_approval":
            print(f"reply #{r.id} stored; it waits for approval by {r.approver} (`monitor approve {r.id}`)")
            return EXIT_OK
        return _post_now(svc, r.id)
    finally:
        svc.close()
        svc.store.close()


def cmd_approve(args: argparse.Namespace) -> int:
    from monitor.respond.drafts import TooLong

    svc = _replies(args)
    try:
        try:
            r = svc.decide(args.reply_id, not args.reject, _actor(args), text=args.text)
        except TooLong as exc:
            print(f"monitor: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if r.state == "rejected":
            print(f"reply #{r.id} rejected")
            return EXIT_OK
        return _post_now(svc, r.id)
    finally:
        svc.close()
        svc.store.close()


def cmd_feedback(args: argparse.Namespace) -> int:
    rows = list_feedback(_store(args), limit=args.limit)
    if args.json:
        for r in rows:
            print_json({**r, "at": iso(r["at"])})
        return EXIT_OK
    if not rows:
        print("no feedback yet")
    for r in rows:
        text = " ".join((r["text"] or "").split())[:80]
        print(f"{iso(r['at'])}  {r['verdict']:<13} {r['brand'] or '-':<12} by {r['actor'] or '?':<16} "
              f"alert #{r['alert_id']}  {text}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.ops import health

    config = load_config(args.config)
    store = Store(config.db_path(args.db), readonly=True)      # looking changes nothing, whoever looks
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
    from monitor.ops.ui import UI

    db = os.path.expanduser(args.db) if args.db else load_config(args.config).db_path()   # --db needs no config
    ui = UI(db, live=args.live)
    try:
        ui.serve(args.host, args.port)
    finally:
        ui.close()
    return EXIT_OK
