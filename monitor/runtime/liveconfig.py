"""What a changed config/monitor.yaml means for a running daemon: what applies live, what needs a restart.

Live: brands and their queries, the sentiment threshold, polled sources added, removed or changed, and the
Slack settings the sender reads per call (token variable, API URL, timeouts, pacing, digest). Everything
else (the database path, HTTP client limits, metrics listener, daemon pool, Slack mode and the interactive
endpoint, stream sources) is wired into threads and sockets at start: the running daemon keeps the old
value, and the change is reported as "monitor.yaml changed: restart required for …" instead of silently
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from monitor.config.settings import Config, SlackConfig
from monitor.sources import SourceOptions, is_stream

SLACK_RESTART = ("mode", "interactive", "http_listen", "http_path", "app_token_env", "signing_secret_env")
SECTIONS_RESTART = ("storage", "http", "metrics", "daemon")


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
            restart += [f"{section}.{k}" for k in _keys_changed(a, b, list(type(a).model_fields))] or [section]
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

    merged = replace(new, sources=sources, slack=slack, storage=old.storage, http=old.http,
                     metrics=old.metrics, daemon=old.daemon)
    return ConfigChange(merged, live, restart, added, removed, changed)
