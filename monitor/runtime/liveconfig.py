"""What a changed config/monitor.yaml means for a running daemon: what applies live, what needs a restart.

Live: brands and their queries, the sentiment threshold, polled sources added, removed or changed, the
Slack settings the sender reads per call (token variable, API URL, timeouts, pacing, digest), and
`storage.unaccent` (only reports read it: `LIVE_IN_SECTIONS`). Everything
else (the database path, HTTP client limits, metrics listener, daemon pool, Slack mode and the interactive
endpoint, stream sources) is wired into threads and sockets at start: the running daemon keeps the old
value, and the change is reported as "monitor.yaml changed: restart required for …" instead of silently
ignored.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.alerting.quiet import quiet_banner
from monitor.analyse.analyzer import Analyzer
from monitor.analyse.routing import Router
from monitor.config.rules import Rules, load_rules
from monitor.config.settings import Config, SlackConfig, load_config
from monitor.core.clock import Clock
from monitor.core.errors import ConfigError
from monitor.notify.blockkit import escape
from monitor.notify.outbox import Outbox, Sender
from monitor.notify.queue import notify_plain
from monitor.ops.metrics import Metrics
from monitor.respond.replies import ReplyService
from monitor.runtime.reload import ReportedOnce, content_hash, record_state
from monitor.sources import SourceOptions, is_stream
from monitor.store.database import Store

log = logging.getLogger(__name__)

SLACK_RESTART = ("mode", "interactive", "http_listen", "http_path", "app_token_env", "signing_secret_env")
SECTIONS_RESTART = ("storage", "http", "metrics", "daemon")
#: keys of those sections read afresh by every report (`monitor status`, the weekly report's strip), never wired
#: into a thread or a socket: applied live (regression: editing storage.unaccent said "restart required");
#: `retention` is read by every retention run (the hourly job, each `--once` pass), so a reload applies it at the
#: next run (regression: the daemon kept pruning by the old value until a restart)
LIVE_IN_SECTIONS = {"storage": ("unaccent", "retention")}


@dataclass
class ConfigChange:
    """The config the daemon runs with after a reload, and what changed in it."""

    config: Config                                   # new live values; restart-only values kept from the old one
    live: list[str] = field(default_factory=list)    # what changed and is applied now
    restart: list[str] = field(default_factory=list)  # what changed and waits for a restart
    added: list[SourceOptions] = field(default_factory=list)      # polled sources
    removed: list[str] = field(default_factory=list)
    changed: list[SourceOptions] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.live or self.restart)


def _keys_changed(old: object, new: object, names: list[str] | tuple[str, ...]) -> list[str]:
    return [n for n in names if getattr(old, n) != getattr(new, n)]


def diff(old: Config, new: Config) -> ConfigChange:
    live: list[str] = []
    restart: list[str] = []
    if old.brands != new.brands:
        live.append("brands")
    if old.sentiment != new.sentiment:
        live.append("sentiment")
    for section in SECTIONS_RESTART:
        a, b = getattr(old, section), getattr(new, section)
        if a != b:
            keys = _keys_changed(a, b, list(type(a).model_fields))
            live += [f"{section}.{k}" for k in keys if k in LIVE_IN_SECTIONS.get(section, ())]
            restart += [f"{section}.{k}" for k in keys if k not in LIVE_IN_SECTIONS.get(section, ())]
            if not keys:
                restart.append(section)
    slack_restart = _keys_changed(old.slack, new.slack, SLACK_RESTART)
    restart += [f"slack.{k}" for k in slack_restart]
    slack_live = [k for k in _keys_changed(old.slack, new.slack, list(SlackConfig.model_fields))
                  if k not in SLACK_RESTART]
    live += [f"slack.{k}" for k in slack_live]
    slack = new.slack.model_copy(update={k: getattr(old.slack, k) for k in slack_restart})

    old_by = {s.id: s for s in old.sources}
    new_by = {s.id: s for s in new.sources}
    added = [s for sid, s in new_by.items() if sid not in old_by]
    removed = [sid for sid in old_by if sid not in new_by]
    changed = [s for sid, s in new_by.items() if sid in old_by and old_by[sid] != s]
    streams = sorted({s.id for s in added + changed if is_stream(s)}
                     | {sid for sid in removed if is_stream(old_by[sid])}
                     | {s.id for s in changed if is_stream(old_by[s.id])})
    restart += [f"stream source {sid}" for sid in streams]
    polled = [s for s in new.sources if not is_stream(s) or s.id not in streams]
    kept_streams = [old_by[sid] for sid in streams if sid in old_by]      # as running, until the restart
    sources = [s for s in polled if not is_stream(s)] + [s for s in new.sources if is_stream(s) and s.id not in streams]
    sources += kept_streams
    added = [s for s in added if not is_stream(s)]
    changed = [s for s in changed if not is_stream(s) and not is_stream(old_by[s.id])]
    removed = [sid for sid in removed if not is_stream(old_by[sid])]
    live += [f"source {s.id} added" for s in added] + [f"source {sid} removed" for sid in removed]
    live += [f"source {s.id} changed" for s in changed]

    storage = old.storage.model_copy(update={k: getattr(new.storage, k) for k in LIVE_IN_SECTIONS["storage"]})
    merged = replace(new, sources=sources, slack=slack, storage=storage, http=old.http,
                     metrics=old.metrics, daemon=old.daemon)
    return ConfigChange(merged, live, restart, added, removed, changed)


class LiveReload:
    """The reload half of `App`: one file at a time, a bad file keeps the last good config and is reported
    once per content to the ops owner; the outcome goes to the metrics and to `config_state` for status."""

    paths: Any
    config: Config
    rules: Rules
    _analyzer: Analyzer
    store: Store
    metrics: Metrics
    sender: Sender
    outbox: Outbox
    replies: ReplyService
    wake: threading.Event
    clock: Clock
    _reported: ReportedOnce
    _started: int
    _own_sender: bool
    on_sources_changed: Callable[[ConfigChange], None] | None

    def _default_sender(self, config: Config | None = None) -> Sender:
        raise NotImplementedError

    def reload(self, which: str) -> bool:
        """Reload one file ("config" or "rules"); a bad file keeps the last good one and says why, once."""
        path = self.paths.config if which == "config" else self.paths.rules
        digest = content_hash(path)
        try:
            message = self._reload_config() if which == "config" else self._reload_rules()
        except Exception as exc:  # noqa: BLE001 - whatever the file does, the reload says so and the daemon lives on
            if not isinstance(exc, ConfigError):
                log.exception("%s reload crashed", which)
            self.metrics.config_reloaded(False, self.clock.now())
            record_state(self.store, which, path, False, str(exc), self.clock.now())
            if not self._reported.first(path, digest, False):
                log.debug("%s is still invalid (already reported)", path)
                return False
            name = os.path.basename(path)
            log.error("%s reload failed (%s), keeping the last good config: %s", which, name, exc)
            notify_plain(self.store, f"config-error:{name}:{digest}:{self._started}",
                         f":warning: `{escape(name)}` reload failed; the daemon keeps running with the last good "
                         f"config.\n```{escape(str(exc))[:2500]}```", self.rules.ops_targets)
            self.wake.set()
            return False
        self.metrics.config_reloaded(True, self.clock.now())
        record_state(self.store, which, path, True, message, self.clock.now())
        if message and self._reported.first(path, digest, True):
            notify_plain(self.store, f"config-restart:{os.path.basename(path)}:{digest}:{self._started}",
                         f":information_source: {escape(message)}", self.rules.ops_targets)
            self.wake.set()
        return True

    def reload_rules(self) -> bool:
        return self.reload("rules")

    def reload_config(self) -> bool:
        return self.reload("config")

    def _reload_rules(self) -> str | None:
        rules = load_rules(self.paths.rules)
        # the scorer is rebuilt too, so a model written by `monitor train` takes effect on this reload; built
        # before the swap, so the new rules and the analyzer that routes by them appear together
        analyzer = Analyzer(self.config, Router(rules), None, self._analyzer.matcher)
        self.rules = rules
        self._analyzer = analyzer
        self.outbox.fallback = rules.default_targets
        log.info("rules reloaded", extra={"routes": len(rules.routes), "owners": len(rules.owners)})
        if rules.quiet_hours:
            log.warning("quiet hours are on: %s", quiet_banner(rules, self.clock.now()))
        return None

    def _reload_config(self) -> str | None:
        """Apply what can change live; return the "restart required" message for the rest (or None)."""
        new = load_config(self.paths.config)
        change = diff(self.config, new)
        if not change.anything:
            log.info("monitor.yaml reloaded: nothing changed")
            return None
        config = change.config
        slack_changed = any(k.startswith("slack.") for k in change.live)
        # a new token variable, URL or timeout: a new sender (a missing token fails the reload here)
        sender = self._default_sender(config) if self._own_sender and slack_changed else None
        analyzer = Analyzer(config, Router(self.rules))      # built first: config and analyzer swap together
        self.config = config
        self._analyzer = analyzer
        # replies read the sources (whose token, which instances may have it) from here: a reload that removes
        # an instance must stop the token going there now, not at the next restart (`http`, which built the
        # replies' client, is a restart key and stays as it was in `config`)
        self.replies.config = config
        if sender is not None:
            self.sender = sender
            self.outbox.sender = self.metrics.wrap_sender(sender)
        self.outbox.interval = config.slack.per_channel_interval
        self.outbox.stuck_after = config.slack.stuck_after
        if self.on_sources_changed and (change.added or change.removed or change.changed):
            self.on_sources_changed(change)
        if change.live:
            log.info("monitor.yaml reloaded", extra={"applied": change.live})
        if change.restart:
            message = f"monitor.yaml changed: restart required for {', '.join(change.restart)}"
            log.warning("%s (the running daemon keeps the old values)", message)
            return message + " (the running daemon keeps the old values until then)"
        return None

