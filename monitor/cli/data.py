"""The commands over the team's data: `label` and `train` (verdicts in, a learned model out), `replay` (the
rules over past mentions), `report` and `ui` (the dashboard, as a file or served) and `demo`.

Kept apart from `service` and `scoring`: these read what is stored (or, for `demo`, make it), not the live
pass. `replay` borrows `scoring`'s analyser so it judges exactly as `explain` does.
"""

from __future__ import annotations

import argparse
import sys
import time

from monitor.cli.alerts import _actor, _damage_or_raise, _store
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json
from monitor.cli.scoring import _analyzer
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import load_config
from monitor.core.durations import format_duration
from monitor.core.errors import ConfigError, StorageUnavailable
from monitor.store.database import Store


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
    except StorageUnavailable as exc:          # a query met a damaged page: one line saying so
        _damage_or_raise(store, exc)
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
