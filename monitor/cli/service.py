"""The commands that run the service and look after it: `run` (the daemon, or one `--once` pass), `check`
(the files, the credentials, what `run` would do here), `status`, `retry-mentions` and `migrate`.

They share the config, the database and the run lock; the daemon's own stack is imported inside `cmd_run`
only, so `monitor status` (often a cron job or a probe) does not pay for Slack, streams and responders.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from monitor.alerting.quiet import quiet_banner
from monitor.cli.alerts import _damage_or_raise, _rules_if_any, _store
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core.durations import format_duration
from monitor.core.errors import (
    ConfigIssue,
    ConfigValidationError,
    StorageError,
    StorageUnavailable,
)
from monitor.sources import REGISTRY, is_stream
from monitor.store.database import Store, corrupted, is_url
from monitor.store.migrations import MIGRATIONS, migration_statements
from monitor.store.pg_online import unaccent_policy
from monitor.store.runlock import RunLock

if TYPE_CHECKING:
    from monitor.runtime.daemon import Paths


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
    if summary.get("stopped"):          # exit 0 all the same: a stop asked for is no failure (README "cron")
        left = (["skipped " + ", ".join(summary["stages_skipped"])] if summary.get("stages_skipped") else []) \
            + (["cut short " + ", ".join(summary["stages_cut_short"])] if summary.get("stages_cut_short") else [])
        print(f"stopped by a signal: {'; '.join(left) or 'nothing skipped'}"
              + (", left to the next pass" if left else "") + "; every lease was let go", file=sys.stderr)
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
    _check_cron(config, getattr(args, "db", None))
    if missing:
        # the files are valid (check often runs where the secrets are not: CI, a shell without the credential
        # directory), but say plainly what `run` will do here
        print(f"warning: slack.mode is {sl.mode} but ${missing} is not set here (nor a readable credential file "
              "of that name): `monitor run` in this environment would refuse to start (exit 2); set it, or choose "
              "`slack.mode: terminal` to print alerts to the terminal", file=sys.stderr)
    return EXIT_OK


def _check_cron(config: Any, db: str | None) -> None:
    """The cron interval a `run --once` pass would use on PostgreSQL (replicas), where it decides which sources
    another box has just polled: said before the first pass, not only in that pass's log (an unset
    `daemon.cron_interval` with differing `every`s was seen only on a cron box's log). On SQLite (one box) it
    has no effect: said only when it is set, so nobody expects it to do something there."""
    from monitor.store.poll_turns import cron_interval

    interval = config.daemon.cron_interval
    if not is_url(config.db_path(db)):
        if interval is not None:
            print(f"cron: daemon.cron_interval ({format_duration(interval)}) applies only to cron on several "
                  "boxes (PostgreSQL); on SQLite every `run --once` pass polls every source")
        return
    everys = [float(s.every) for s in config.sources if s.enabled and not is_stream(s)]    # as `run_once` polls
    if not everys and interval is None:
        return
    decided = cron_interval(interval, everys)
    if decided.rests_on == "daemon.cron_interval":
        print(f"cron on replicas (PostgreSQL): interval {format_duration(interval)} (daemon.cron_interval): a "
              f"source another box polled within {format_duration(decided.window or 0)} is left to it")
        return
    said = ", ".join(map(format_duration, decided.everys))
    print(f"cron on replicas (PostgreSQL): interval assumed: each source's `every` ({said}), as "
          "daemon.cron_interval is unset")
    if decided.disagreement:
        print(f"    warning: the sources' `every` differ ({said}), so they cannot all be the cron interval: set "
              "daemon.cron_interval to how often cron runs `monitor run --once`")


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
    except StorageUnavailable as exc:          # a query met a damaged page: one line saying so
        _damage_or_raise(store, exc)
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
