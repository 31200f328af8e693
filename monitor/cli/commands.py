"""What each `monitor` subcommand does; the CLI module maps exceptions to exit codes around these."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import yaml

from monitor.alerting.grouping import snapshot
from monitor.alerting.quiet import exempt, hold_until, quiet_banner
from monitor.analyse.language import detect_language
from monitor.analyse.routing import Decision, Router
from monitor.cli.alerts import (  # noqa: F401 - the parser finds every cmd_* here
    _actor,
    _rules_if_any,
    _store,
    cmd_ack,
    cmd_alerts,
    cmd_feedback,
    cmd_not_negative,
    cmd_reopen,
    cmd_resolve,
    cmd_snooze,
    owner_names,
)
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from monitor.cli.replies import cmd_approve, cmd_reply  # noqa: F401 - the parser finds every cmd_* here
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock, iso
from monitor.core.durations import format_duration
from monitor.core.errors import (
    ConfigError,
    ConfigIssue,
    ConfigValidationError,
    MonitorError,
    StorageError,
    StorageUnavailable,
)
from monitor.core.model import Mention
from monitor.sources import REGISTRY, is_polled, is_stream, registered
from monitor.sources.fetch import make_client
from monitor.store.database import Store, corrupted, is_url
from monitor.store.migrations import MIGRATIONS, migration_statements
from monitor.store.pg_online import unaccent_policy
from monitor.store.runlock import RunLock

if TYPE_CHECKING:
    from monitor.analyse.analyzer import Analyzer
    from monitor.runtime.daemon import Paths

# The scorer (its lexicons and learned model) and the daemon's stack (Slack, streams, responders) are imported by
# the commands that use them: `monitor status`, `alerts`, `ack`... are new processes too, and paid ≈0.3 s for them.


def _paths(args: argparse.Namespace) -> Paths:
    from monitor.runtime.daemon import Paths

    return Paths(args.config, args.rules, args.db)


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.runtime.daemon import App, run_daemon, run_once
    from monitor.runtime.once import stop_on_signals

    if not args.once:
        return run_daemon(_paths(args))
    config = load_config(args.config)
    load_rules(args.rules)
    stop = threading.Event()
    restore = stop_on_signals(stop)           # SIGTERM/SIGINT: the pass stops and lets its leases go (below)
    try:
        with RunLock(config.db_path(args.db)):
            app = App(_paths(args), config=config)
            try:
                summary = run_once(app, stop=stop)
            finally:
                app.coord.stop()    # every lease still held (a poll cut short, a stream): the next box need not
                app.close()         # wait out storage.lease_ttl (regression: a SIGTERMed pass left them to lapse)
    finally:
        restore()
    interval = summary.get("cron_interval")
    print(f"polled {summary['polled']} source(s) ({summary.get('streams', 0)} stream(s) caught up), "
          f"{summary['failed']} failed, "
          f"{summary['new_mentions']} new mention(s), {summary['sent']} message(s) sent"
          + (f", {summary['taken']} source(s) taken by another replica (polled there within "
             + (f"{format_duration(interval / 2)}, half of daemon.cron_interval)" if interval else
                "half their `every`, assumed to be the cron interval: daemon.cron_interval is unset)")
             if summary.get("taken") else "")
          + (f", {summary['held']} alert(s) held by quiet hours ({quiet_banner(app.rules, time.time())})"
             if summary.get("held") else ""), file=sys.stderr)
    for source_id, why in (summary.get("skipped") or {}).items():      # never silently: back-off, disabled
        print(f"  not polled: {source_id}: {why}", file=sys.stderr)
    if summary.get("stopped"):
        print("stopped by a signal: what this pass had not done (polls, streams, routing, deliveries) is left to the"
              " next one; every lease was let go", file=sys.stderr)
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
    sl = config.slack
    missing = None
    if sl.mode == "terminal":
        print("slack: terminal mode (chosen in the config): alerts are printed by `monitor run`, sent to nobody")
    elif sl.mode == "webhook":
        hook = sl.webhook_url_env
        print(f"slack: webhook mode (one channel, no buttons): "
              f"{'$' + hook + ' found' if os.environ.get(hook) else 'no $' + hook}")
        missing = None if os.environ.get(hook) else hook
    else:
        token = sl.token_env
        print(f"slack: {'token found in $' + token if os.environ.get(token) else 'no token in $' + token}")
        missing = None if os.environ.get(token) else token
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
        _check_credentials(s)
    if rules.quiet_hours:
        print(f"quiet hours: {quiet_banner(rules, time.time())}")
    if missing:
        # the files are valid (check often runs where the secrets are not: CI, a shell without the credential
        # directory), but say plainly what `run` will do here
        print(f"warning: slack.mode is {sl.mode} but ${missing} is not set here (nor a readable credential file "
              "of that name): `monitor run` in this environment would refuse to start (exit 2); set it, or choose "
              "`slack.mode: terminal` to print alerts to the terminal", file=sys.stderr)
    return EXIT_OK


def _check_credentials(s: Any) -> None:
    """Name the variables a source reads its credentials from, and warn (not fail) when they are not set:
    the config is valid, the source will simply be refused until they are."""
    cls = REGISTRY[s.kind]
    if not hasattr(cls, "credential_problem"):
        return
    problem = cls.credential_problem(s, os.environ)
    found = [n for n in cls.credential_envs(s) if os.environ.get(n)]
    if problem:
        print(f"    warning: {problem}")
    elif found:
        print(f"    credentials: ${', $'.join(found)} found")


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


def cmd_label(args: argparse.Namespace) -> int:
    from monitor.alerting.labels import VERDICTS, import_csv, label_mentions
    if args.csv:
        print(f"{import_csv(_store(args), args.csv, _actor(args))} label(s) imported from {args.csv}")
        return EXIT_OK
    if args.id is None or args.verdict not in VERDICTS:
        print("monitor label: give ID and negative|not-negative, or --csv FILE", file=sys.stderr)
        return EXIT_CONFIG
    n = label_mentions(_store(args), [args.id], VERDICTS[args.verdict], _actor(args), alert=args.alert)
    print(f"{n} mention(s) labelled {args.verdict}; `monitor train` learns from them")
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    from monitor.alerting.labels import train
    config = load_config(args.config)
    r = train(_store(args), config, force=args.force)
    print(f"{r.labels} label(s): trained on {r.trained_on} plus the shipped data, judged on {r.held_out} held out")
    for name, (p, rec, f1) in (("before", r.before), ("after", r.after)):
        print(f"  {name:<6} precision {p:.3f}  recall {rec:.3f}  F1 {f1:.3f}")
    print(f"{'kept' if r.kept else 'not kept'}: {r.reason}" + (f"; written to {r.path} (the daemon uses it after"
                                                               " a reload: systemctl reload / SIGHUP)" if r.kept else
                                                               "; use --force to keep it anyway"))
    return EXIT_OK if r.kept else EXIT_FAIL


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.alerting.replay import replay
    analyzer = _analyzer(args)
    store = Store(analyzer.config.db_path(args.db))
    try:
        result = replay(store, analyzer, time.time() - args.since)
    finally:
        store.close()
    would = result.would
    for record in would:
        print_json(record)
    mentions = sum(r["mentions"] for r in would)
    stale = (f" ({result.stale} skipped: older than their source's max_age when collected, never alerted)"
             if result.stale else "")
    print(f"{result.mentions} mention(s) published in the last {format_duration(args.since)}{stale}; {len(would)} alert(s) covering {mentions} mention(s) would have "
          "been sent; nothing was sent", file=sys.stderr)
    return EXIT_OK


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


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.ops import health

    config = load_config(args.config)
    store = Store(config.db_path(args.db), readonly=True)      # looking changes nothing, whoever looks
    rules = _rules_if_any(args)
    try:
        damage = store.quick_check()          # a corrupted database is one line here, never a traceback
        now = time.time()
        report = health.report(config, store, now)
        quiet = health.quiet_health(rules, store, now)     # held alerts are not a problem, but never a surprise
        if quiet is not None:
            report["quiet_hours"] = quiet
    except sqlite3.DatabaseError as exc:
        raise StorageError(store.quick_check() or corrupted(store.path, str(exc))) from None
    except StorageUnavailable as exc:          # a malformed page found by a query: say it is corruption
        damaged = store.quick_check() if exc.driver == "DatabaseError" else None
        if damaged:
            raise StorageError(damaged) from None
        raise
    finally:
        store.close()
    health.with_damage(report, damage)           # a problem of its kind, in `issues` as in `problems`
    if args.json:
        print_json(report)
    else:
        lines = health.render(report)
        if report.get("quiet_hours"):
            q = report["quiet_hours"]
            lines.insert(-1, f"quiet hours: {q['window']}" + (f"; {q['held']} alert(s) held" if q["held"] else ""))
        print("\n".join(lines))
    return EXIT_OK if report["healthy"] else EXIT_FAIL


def cmd_retry_mentions(args: argparse.Namespace) -> int:
    """Reset the failure count of parked (or failing) mentions; the next pass (the daemon's, or the next
    `monitor run --once`) routes them again, once. Routed mentions are never touched, so nothing is sent twice."""
    from monitor.runtime.pipeline import retry_mentions

    store = _store(args)
    try:
        ids = sorted(set(args.ids)) if args.ids else None
        reset = retry_mentions(store, ids, all_or_none=True)
    finally:
        store.close()
    if ids is not None and len(reset) < len(ids):
        missing = [i for i in ids if i not in set(reset)]
        print(f"monitor retry-mentions: mention(s) {', '.join(map(str, missing))} not found or not failing "
              "(already routed, or never failed; see `monitor status`): nothing was reset", file=sys.stderr)
        return EXIT_CONFIG
    if args.json:
        print_json({"reset": reset})
    elif reset:
        print(f"{len(reset)} mention(s) reset ({', '.join(map(str, reset[:20]))}{' …' if len(reset) > 20 else ''}): "
              "the running daemon routes them within its next pass, or run `monitor run --once`")
    else:
        print("no parked or failing mentions")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema up to date deliberately (a deploy script, before restarting replicas) instead of at the
    daemon's next start: the version found, the target, the migrations run. The same steps as a starting daemon
    (`Store._migrate`, `_migrate_postgres` under the advisory lock), so it is safe beside running replicas and
    idempotent. `--dry-run` opens the database read-only and lists what would run."""
    config = load_config(args.config) if not args.db else None
    target = os.path.expanduser(args.db) if config is None else config.db_path(args.db)
    report: dict[str, Any] = {"database": target, "dialect": "postgres" if is_url(target) else "sqlite",
                              "target": len(MIGRATIONS), "dry_run": bool(args.dry_run), "applied": []}
    if args.dry_run and not is_url(target) and not os.path.exists(target):
        found, pending = 0, [(step + 1, migration_statements(step)) for step in range(len(MIGRATIONS))]
    else:
        store = Store(target, readonly=args.dry_run, migrate=False)
        try:
            report["database"] = store.display
            found = store.schema_version()
            pending = store.pending_migrations()          # a schema newer than this version: StorageError
            if pending and not args.dry_run:
                with unaccent_policy(config.storage.unaccent if config else "required"):
                    found, now = store.migrate()                # the version seen under the lock (a replica may
                report["applied"] = list(range(found + 1, now + 1))    # have migrated meanwhile)
        finally:
            store.close()
    report["found"] = found
    report["pending"] = [{"version": v, "statements": statements} for v, statements in pending]
    report["version"] = found if args.dry_run else len(MIGRATIONS)
    if args.json:
        print_json(report)
        return EXIT_OK
    print(f"database {report['database']} ({report['dialect']}): schema v{found}, this version of mention-monitor "
          f"uses v{len(MIGRATIONS)}")
    if not pending:
        print(f"already at v{found}: nothing to do")
    elif args.dry_run:
        print(f"would apply {len(pending)} migration(s) (dry run: nothing was written):")
        for version, statements in pending:
            if not statements:                 # a step for the other engine only (v16: PostgreSQL's search index)
                print(f"  v{version}: no statement on {report['dialect']}; only the version number changes")
            for statement in statements:
                line = " ".join(statement.split())
                print(f"  v{version}: {line[:117] + '...' if len(line) > 120 else line}")
    elif not report["applied"]:
        print(f"already at v{found} (migrated meanwhile by another process): nothing to do")
    else:
        print(f"migrated v{found} -> v{len(MIGRATIONS)} ({len(report['applied'])} migration(s) applied)")
    return EXIT_OK


def cmd_ui(args: argparse.Namespace) -> int:
    from monitor.ops.ui import dashboard, serve_dashboard

    config = load_config(args.config)
    try:
        rules: Rules | None = load_rules(args.rules)
    except ConfigError as exc:             # the dashboard still shows everything; held alerts show as open
        print(f"monitor ui: {args.rules} not loaded ({' '.join(str(exc).split())[:200]}): quiet-hours holds are "
              "not shown until it is fixed", file=sys.stderr)
        rules = None
    # rules.yaml is read again whenever it changes, so quiet hours and routes on screen follow the file
    app = dashboard(config, rules, config.db_path(args.db), with_datasette=not args.no_data, rules_path=args.rules)
    serve_dashboard(app, args.host, args.port)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """The weekly report (or any period) to stdout or --output: the dashboard's first screen, as a file."""
    from monitor.ops.dashboard import pages, report
    from monitor.ops.dashboard.figures import Window
    from monitor.ops.ui import ack_target

    config = load_config(args.config)
    if args.brand and args.brand not in config.brands:
        print(f"monitor: --brand {args.brand!r} is not a brand in {args.config} "
              f"(known: {', '.join(config.brands)})", file=sys.stderr)
        return EXIT_CONFIG
    now = time.time()
    store = Store(config.db_path(args.db), readonly=True)
    try:
        o = report.overview(store, Window(now - args.since, now, config.dashboard.tz, args.brand), now,
                            ack_target=ack_target(config), draw=args.format == "html", config=config)
    except StorageUnavailable as exc:          # a query met a damaged page: one line saying so, as `monitor status`
        damaged = store.quick_check() if exc.driver == "DatabaseError" else None
        if damaged:
            raise StorageError(damaged) from None
        raise
    finally:
        store.close()
    if args.format == "png":
        data = report.png(o)
        if not args.output:
            if sys.stdout.isatty():
                print("monitor: --format png writes an image: pass --output FILE (or redirect stdout)", file=sys.stderr)
                return EXIT_CONFIG
            sys.stdout.buffer.write(data)
            return EXIT_OK
        with open(args.output, "wb") as fh:
            fh.write(data)
    else:
        text = pages.report_html(o, config.dashboard.url) if args.format == "html" else report.markdown(
            o, config.dashboard.url)
        if not args.output:
            sys.stdout.write(text)
            return EXIT_OK
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"report written to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.cli.demo import run_demo
    return run_demo(args.for_, args.dir)
