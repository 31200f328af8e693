"""`monitor reply` and `monitor approve`: the Reply button and the approval round from the terminal.

A reply is stored (and, where the route or brand asks for it, waits for approval) before anything is posted;
posting goes through the same `ReplyService` the daemon's respond worker uses, so a reply is posted once
whoever gets to it first.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from monitor.cli.alerts import _actor
from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK
from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock
from monitor.store.database import Store
from monitor.store.pg_online import unaccent_policy


def _replies(args: argparse.Namespace) -> Any:
    from monitor.respond.replies import ReplyService

    config = load_config(args.config)
    rules = load_rules(args.rules)
    with unaccent_policy(config.storage.unaccent):
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
