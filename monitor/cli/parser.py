"""The `monitor` command line. The only place that turns exceptions into messages and exit codes.

Exit status: 0 ok, 1 runtime failure (or unhealthy, for `status`), 2 invalid config or usage.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from monitor import __version__
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json  # noqa: F401 - re-exported
from monitor.cli.paths import default_path
from monitor.core import logs
from monitor.core.args import OneLineParser
from monitor.core.durations import parse_duration
from monitor.core.errors import (
    AlertError,
    ConfigError,
    ConfigValidationError,
    LockHeld,
    MonitorError,
    SourceError,
)
from monitor.ops import systemd

log = logging.getLogger("monitor")


_Parser = OneLineParser      # a usage error is ONE line on stderr and exit 2 (monitor.core.args)


def _duration(text: str) -> float:
    """A CLI duration needs its unit (`--for 90` is ambiguous: 90 seconds? minutes?)."""
    try:
        value = parse_duration(text)       # a bare number string has no unit and is rejected there
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
    return value


def _alert_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"alert id must be a number like 42 (got {text!r})")
    return int(text)


def _mention_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"mention id must be a number like 42 (got {text!r})")
    return int(text)


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (got {text!r})")
    return int(text)


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a TCP port 1-65535 (got {text!r})")
    return int(text)


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    """Global options, accepted before or after the command (`monitor --config X alerts` too).

    On the command's own parser they default to SUPPRESS, so a value given before the command is kept
    unless repeated after it.
    """
    def d(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    g = p.add_argument_group("global options")
    g.add_argument("--config", default=d(None), metavar="PATH",
                   help="default: $MONITOR_CONFIG, else /etc/mention-monitor/monitor.yaml, else config/monitor.yaml")
    g.add_argument("--rules", default=d(None), metavar="PATH",
                   help="default: $MONITOR_RULES, else /etc/mention-monitor/rules.yaml, else rules.yaml")
    g.add_argument("--db", default=d(None), metavar="PATH", help="overrides storage.path")
    g.add_argument("--log-level", default=d("INFO"), choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   type=str.upper)
    g.add_argument("--log-format", default=d("text"), choices=["text", "json"])


def build_parser() -> argparse.ArgumentParser:
    from monitor.sources import registered

    summaries = {k: c.summary() for k, c in registered().items()}
    kinds = "\n".join(f"  {k:<12} {v}" for k, v in summaries.items())
    parser = _Parser(
        prog="monitor", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Self-hosted brand-mention monitoring: collect, score, route to Slack, escalate.",
        epilog=f"source kinds:\n{kinds}")
    parser.add_argument("--version", action="version", version=f"mention-monitor {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        return p

    p = add("run", "run the daemon (or one pass with --once, for cron)")
    p.add_argument("--once", action="store_true", help="poll every source once, deliver what is due, exit")
    add("check", "validate config and rules; every error names file, line, key and a hint")
    p = add("explain", "dry run of one mention: brands, language, sentiment, routes tried, who is notified")
    p.add_argument("text")
    p.add_argument("--source", default="rss", help="source kind or id (default: rss)")
    p.add_argument("--brand", help="only this brand")
    p.add_argument("--rating", type=float)
    p.add_argument("--reach", type=int)
    p.add_argument("--lang")
    p.add_argument("--json", action="store_true")
    add("score", "score texts from stdin (lines, or JSON lines with text/rating/lang); JSON lines out")
    p = add("label", "label a mention for `monitor train`: ID negative|not-negative, or --csv FILE (text,label[,language])")
    p.add_argument("id", type=int, nargs="?", help="mention id (an alert id with --alert)")
    p.add_argument("verdict", nargs="?", choices=["negative", "not-negative"])
    p.add_argument("--alert", action="store_true", help="ID is an alert: label every mention of it")
    p.add_argument("--csv", metavar="FILE", help="import labels from a CSV file with a header")
    p.add_argument("--by", default=None, help="who (default: the current user)")
    p = add("train", "refit the learned sentiment layer on the team's labels; keep it only if better (or --force)")
    p.add_argument("--force", action="store_true", help="keep the new model even if it is not better")
    p = add("replay", "run stored mentions through the current rules; print who would be told; send nothing")
    p.add_argument("--since", default="7d", type=_duration,
                   help="how far back, by publication time (default: %(default)s)")
    p = add("preview", "fetch one source now and print what it would collect, as JSON lines")
    p.add_argument("kind")
    p.add_argument("target", help="URL (rss, reviews), query (twitter, reddit, hackernews, bluesky, mastodon; "
                   "#tag for mastodon tags) or app id (appstore)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="another source option, as in config (e.g. --set api_url=http://…, --set countries=[us,fr])")
    p = add("alerts", "list alerts (or one alert's history with its id)")
    p.add_argument("id", type=_alert_id, nargs="?", help="show this alert and every transition, with who and when")
    p.add_argument("--open", action="store_true", help="only alerts not yet resolved")
    p.add_argument("--limit", type=_count, default=100)
    p.add_argument("--json", action="store_true")
    for name, what in (("ack", "acknowledge"), ("resolve", "resolve"), ("reopen", "reopen"),
                       ("snooze", "snooze"), ("not-negative", "mark as not negative (a false positive) and resolve")):
        p = add(name, f"{what} an alert (the same as the Slack button)")
        p.add_argument("id", type=_alert_id)
        p.add_argument("--by", default=None, help="who (default: cli:<your login name>)")
        if name == "snooze":
            p.add_argument("--for", dest="for_", default="1h", type=_duration,
                           help="how long, with a unit: 30m, 2h, 1d (default: %(default)s)")
    p = add("reply", "reply to an alert's original post on its platform, or --mark it replied elsewhere")
    p.add_argument("id", type=_alert_id, help="the alert")
    p.add_argument("text", nargs="?", help="the reply (shown with --draft when left out)")
    p.add_argument("--by", default=None, help="who replies (default: the current user)")
    p.add_argument("--mark", nargs="?", const="", default=None, metavar="URL",
                   help="record a reply made elsewhere (optionally its link) as the first response")
    p.add_argument("--draft", action="store_true", help="print the draft from the replies: templates and exit")
    p = add("approve", "approve (or --reject) a reply waiting for approval; an approved reply is posted at once")
    p.add_argument("reply_id", type=_alert_id)
    p.add_argument("--reject", action="store_true")
    p.add_argument("--text", default=None, help="approve an edited text instead")
    p.add_argument("--by", default=None, help="who approves (default: the current user)")
    p = add("feedback", "list “Not negative” feedback kept for ops and the scorer")
    p.add_argument("--limit", type=_count, default=1000)
    p.add_argument("--json", action="store_true")
    p = add("status", "per-source health, delivery queue, open alerts; exit 1 when unhealthy")
    p.add_argument("--json", action="store_true")
    p = add("retry-mentions", "route again mentions parked (or waiting to be retried) because their analysis or "
            "routing raised: resets their failure count for the next pass")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="ids", type=_mention_id, action="append", metavar="ID",
                       help="this mention (repeat for more)")
    which.add_argument("--all", action="store_true", help="every parked or failing mention")
    p.add_argument("--json", action="store_true")
    p = add("migrate", "bring the database schema up to date (SQLite or PostgreSQL; safe beside running replicas)")
    p.add_argument("--dry-run", action="store_true", help="list the migrations that would run; write nothing")
    p.add_argument("--json", action="store_true")
    p = add("demo", "a first look offline: a bundled sample feed on 127.0.0.1, the daemon on it, alerts printed")
    p.add_argument("--for", dest="for_", type=_duration, default=None, metavar="DURATION",
                   help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--dir", default=None, metavar="PATH", help="where to keep its state (default: a temp dir)")
    p = add("ui", "the comms dashboard (live, read-only; the only writes are feedback clicks), Datasette under /data")
    p.add_argument("--host", default="127.0.0.1", help="default: %(default)s (only this machine)")
    p.add_argument("--port", type=_port, default=8001, help="default: %(default)s")
    p.add_argument("--no-data", action="store_true", help="do not serve Datasette under /data")
    p = add("report", "the report: headline figures, charts, top stories, SLA breaches (HTML, PNG or Markdown)")
    p.add_argument("--since", default=7 * 86400.0, type=_duration, help="period ending now (default: 7d)")
    p.add_argument("--brand", help="only this brand (default: all)")
    p.add_argument("--format", default="html", choices=["html", "png", "md"])
    p.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a closed stdout (`monitor alerts --json | head`) ends it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()              # a closed pipe shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """The reader went away: later writes (and Python's final flush) must not print BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = args.config or default_path("config")
    args.rules = args.rules or default_path("rules")
    try:
        systemd.load_credentials()      # before logging starts, so the redactor knows every secret
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    one_shot = not (args.command == "run" and not args.once)    # only the daemon is patient
    logs.setup(args.log_level, args.log_format, one_shot=one_shot)
    if not one_shot:
        return _run(args)
    _fail_fast(args)
    try:
        return _run(args)
    finally:
        from monitor.store import patience
        patience.fail_fast(None)            # a process running main() more than once (tests) starts afresh


def _run(args: argparse.Namespace) -> int:
    handler = _HANDLERS[args.command.replace("-", "_")]
    try:
        return handler(args)
    except ConfigValidationError as exc:
        _print_issues(exc)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockHeld as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except (AlertError, SourceError) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except MonitorError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug is still one line; the traceback is in DEBUG logs
        log.debug("unexpected error", exc_info=True)
        print(f"monitor {args.command}: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
              "(run with --log-level DEBUG for details)", file=sys.stderr)
        return EXIT_FAIL


def _fail_fast(args: argparse.Namespace) -> None:
    """A one-shot command pointed at a PostgreSQL that is down says so in one line within
    `storage.connect_timeout` (5 s), instead of waiting for the pool (monitor.store.patience.fail_fast; not
    `postgres`, which would import psycopg into every command on SQLite)."""
    from monitor.config.settings import load_config
    from monitor.store import patience

    timeout = patience.CONNECT_TIMEOUT_S
    try:                                   # the command loads (and reports on) the config itself
        timeout = load_config(args.config).storage.connect_timeout
    except Exception:  # noqa: BLE001 - no config (`alerts --db X`) or a broken one: the default
        pass
    patience.fail_fast(timeout)


MAX_SHOWN_ISSUES = 50


def _print_issues(exc: ConfigValidationError) -> None:
    """Every issue, up to 50; past that a summary per file (5,000 lines help nobody)."""
    for issue in exc.issues[:MAX_SHOWN_ISSUES]:
        print(f"error: {issue}", file=sys.stderr)
    rest = exc.issues[MAX_SHOWN_ISSUES:]
    if rest:
        per_file: dict[str, int] = {}
        for issue in rest:
            per_file[issue.file] = per_file.get(issue.file, 0) + 1
        print(f"... and {len(rest)} more error(s) not shown ("
              + ", ".join(f"{n} in {f}" for f, n in per_file.items()) + "); fix the first ones and run again",
              file=sys.stderr)
    print(f"{len(exc.issues)} error(s); nothing was started", file=sys.stderr)


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from monitor.cli import commands

    return {name: getattr(commands, f"cmd_{name}") for name in (
        "run", "check", "explain", "score", "label", "train", "replay", "preview", "alerts", "ack", "resolve",
        "reopen", "snooze", "not_negative", "reply", "approve", "feedback", "status", "retry_mentions", "migrate", "ui",
        "report", "demo")}


class _Lazy(dict[str, Any]):
    """Command implementations import the heavy stages; `monitor --help` should not pay for that."""

    def __missing__(self, key: str) -> Any:
        self.update(_commands())
        return dict.__getitem__(self, key)


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = _Lazy()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
