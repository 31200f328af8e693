"""The `monitor` command line. The only place that turns exceptions into messages and exit codes.

Exit status: 0 ok, 1 runtime failure (or unhealthy, for `status`), 2 invalid config or usage.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from monitor import __version__
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, print_json  # noqa: F401 - re-exported
from monitor.core import logs
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


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("global options")
    g.add_argument("--config", default="config/monitor.yaml", metavar="PATH", help="default: %(default)s")
    g.add_argument("--rules", default="rules.yaml", metavar="PATH", help="default: %(default)s")
    g.add_argument("--db", default=None, metavar="PATH", help="overrides storage.path")
    g.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    g.add_argument("--log-format", default="text", choices=["text", "json"])


def build_parser() -> argparse.ArgumentParser:
    from monitor.sources import registered

    summaries = {k: c.summary() for k, c in registered().items()}
    kinds = "\n".join(f"  {k:<12} {v}" for k, v in summaries.items())
    parser = argparse.ArgumentParser(
        prog="monitor", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Self-hosted brand-mention monitoring: collect, score, route to Slack, escalate.",
        epilog=f"source kinds:\n{kinds}")
    parser.add_argument("--version", action="version", version=f"mention-monitor {__version__}")
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
    p = add("replay", "run stored mentions through the current rules; print who would be told; send nothing")
    p.add_argument("--since", default="7d", help="how far back (default: %(default)s)")
    p = add("preview", "fetch one source now and print what it would collect, as JSON lines")
    p.add_argument("kind")
    p.add_argument("target", help="URL (rss, reviews), query (twitter, reddit, hackernews, bluesky, mastodon; "
                   "#tag for mastodon tags) or app id (appstore)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="another source option, as in config (e.g. --set api_url=http://…, --set countries=[us,fr])")
    p = add("alerts", "list alerts (or one alert's history with its id)")
    p.add_argument("id", type=int, nargs="?", help="show this alert and every transition, with who and when")
    p.add_argument("--open", action="store_true", help="only alerts not yet resolved")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    for name, what in (("ack", "acknowledge"), ("resolve", "resolve"), ("reopen", "reopen"),
                       ("snooze", "snooze")):
        p = add(name, f"{what} an alert (the same as the Slack button)")
        p.add_argument("id", type=int)
        p.add_argument("--by", default=None, help="who (default: the current user)")
        if name == "snooze":
            p.add_argument("--for", dest="for_", default="1h", help="how long (default: %(default)s)")
    p = add("reply", "reply to an alert's original post on its platform, or --mark it replied elsewhere")
    p.add_argument("id", type=int, help="the alert")
    p.add_argument("text", nargs="?", help="the reply (shown with --draft when left out)")
    p.add_argument("--by", default=None, help="who replies (default: the current user)")
    p.add_argument("--mark", nargs="?", const="", default=None, metavar="URL",
                   help="record a reply made elsewhere (optionally its link) as the first response")
    p.add_argument("--draft", action="store_true", help="print the draft from the replies: templates and exit")
    p = add("approve", "approve (or --reject) a reply waiting for approval; an approved reply is posted at once")
    p.add_argument("reply_id", type=int)
    p.add_argument("--reject", action="store_true")
    p.add_argument("--text", default=None, help="approve an edited text instead")
    p.add_argument("--by", default=None, help="who approves (default: the current user)")
    p = add("feedback", "list “Not negative” feedback kept for ops and the scorer")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    p = add("status", "per-source health, delivery queue, open alerts; exit 1 when unhealthy")
    p.add_argument("--json", action="store_true")
    p = add("ui", "browse the state read-only in Datasette, with saved queries (needs mention-monitor[ui])")
    p.add_argument("--host", default="127.0.0.1", help="default: %(default)s (only this machine)")
    p.add_argument("--port", type=int, default=8001, help="default: %(default)s")
    p.add_argument("--live", action="store_true",
                   help="read the live database (read-only) instead of a consistent snapshot taken at start")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    systemd.load_credentials()          # before logging starts, so the redactor knows every secret
    logs.setup(args.log_level, args.log_format)
    handler = _HANDLERS[args.command]
    try:
        return handler(args)
    except ConfigValidationError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        print(f"{len(exc.issues)} error(s); nothing was started", file=sys.stderr)
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


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from monitor.cli import commands

    return {name: getattr(commands, f"cmd_{name}") for name in (
        "run", "check", "explain", "score", "replay", "preview", "alerts", "ack", "resolve", "reopen", "snooze",
        "reply", "approve", "feedback", "status", "ui")}


class _Lazy(dict[str, Any]):
    """Command implementations import the heavy stages; `monitor --help` should not pay for that."""

    def __missing__(self, key: str) -> Any:
        self.update(_commands())
        return dict.__getitem__(self, key)


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = _Lazy()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
