"""config/monitor.yaml: brands, sources, Slack, storage; validated whole before anything runs.

After `load_config` returns, the runtime trusts the result: every source's options are already the typed
model of its kind, every brand query already parsed (so a bad query is a config error, not a runtime one).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from monitor.core.durations import Duration
from monitor.core.errors import ConfigIssue, ConfigValidationError, QueryError
from monitor.core.query import parse_query
from monitor.core.validation import Strict, TimeOfDay, TimeZone, did_you_mean, validate
from monitor.core.yamlfile import LocatedYaml, load_yaml
from monitor.sources import REGISTRY, SourceOptions
from monitor.sources.fetch import HttpConfig

DEFAULT_CONFIG = "config/monitor.yaml"


class BrandConfig(Strict):
    query: str
    languages: list[str] | None = None
    overrides: dict[str, float] = Field(default_factory=dict)   # word -> valence on VADER's -4..4 scale

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, v: dict[str, float]) -> dict[str, float]:
        for word, score in v.items():
            if not -4.0 <= score <= 4.0:
                raise ValueError(f'override for "{word}" is {score:g}; word scores range from -4 to 4')
        return v


class DigestConfig(Strict):
    """A daily summary per owner; off unless `slack.digest` is set."""

    at: TimeOfDay = "09:00"
    tz: TimeZone = "UTC"
    owners: list[str] | None = None            # default: every owner in rules.yaml
    skip_empty: bool = True                    # no message for an owner with nothing to report


class SlackConfig(Strict):
    # bot: Web API with a token; webhook: one channel, no buttons, no threads, no edits; terminal: print alerts
    # here and send nothing (a first look; must be chosen, a missing token is an error, never a fallback)
    mode: Literal["bot", "webhook", "terminal"] = "bot"
    api_url: str = "https://slack.com/api/"
    token_env: str = "SLACK_BOT_TOKEN"
    app_token_env: str = "SLACK_APP_TOKEN"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    interactive: Literal["socket", "http", "off"] = "socket"   # socket: when $SLACK_APP_TOKEN is set
    http_listen: str = "127.0.0.1:3000"       # interactive: http — host:port of the Request URL endpoint
    http_path: str = "/slack/actions"
    per_channel_interval: Duration = 1.0      # at most one message per channel this often (Slack's guidance)
    timeout: Duration = 15.0
    stuck_after: Duration = 900.0             # a message pending longer shows in `monitor status` and the logs
    digest: DigestConfig | None = None

    @field_validator("interactive", mode="before")
    @classmethod
    def _interactive(cls, v: Any) -> Any:
        return {False: "off", True: "socket"}.get(v, v) if isinstance(v, bool) else v   # YAML reads off as false

    @field_validator("http_listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f'http_listen "{v}" must be host:port, e.g. "127.0.0.1:3000"')
        return v

    @field_validator("http_path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f'http_path "{v}" must start with "/"')
        return v

    @field_validator("api_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f'api_url "{v}" must start with http:// or https://')
        return v if v.endswith("/") else v + "/"


class StorageConfig(Strict):
    path: str = "var/monitor.db"
    # A postgresql:// URL: the state lives in PostgreSQL and several replicas may share it (README
    # "Several machines"). $MONITOR_DATABASE_URL overrides it; a password belongs there, not in this file.
    url: str | None = None
    # How long a replica's lease (a polled host, a stream, a Slack channel...) survives without renewal: a
    # replica that dies is replaced after this long. Longer than http.deadline, so a slow poll keeps its host;
    # unset, it is http.deadline + 30s (at least 60s).
    lease_ttl: Duration | None = None
    # PostgreSQL: how long a one-shot command (`monitor status`, `migrate`, `alerts`, `run --once`...) waits for
    # the server before it says, in one line, that it cannot connect (the daemon waits longer and retries).
    connect_timeout: Duration = 5.0
    # PostgreSQL without the `unaccent` extension (a managed database where it cannot be installed): search
    # does not fold accents ("cafe" does not find "café"). `required`: that is a `monitor status` problem
    # (exit 1) until a database owner creates it; `optional`: a choice made here, still said, not a problem.
    unaccent: Literal["required", "optional"] = "required"

    @field_validator("connect_timeout")
    @classmethod
    def _connect_timeout(cls, v: float) -> float:
        if not 1.0 <= v <= 60.0:
            raise ValueError(f"connect_timeout {v:g}s must be between 1s and 60s (a command run when things are "
                             "broken must say so quickly)")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError(f'url "{v.split("@")[-1]}" must start with postgresql:// (or leave it out for SQLite)')
        return v
    # Mentions older than this are pruned daily (those linked to an alert, or with feedback, are kept, and
    # pruned ones stay counted in the daily summary); null keeps everything.
    retention: Duration | None = 90 * 86400.0

    @field_validator("retention")
    @classmethod
    def _retention(cls, v: float | None) -> float | None:
        if v is not None and v < 86400:
            raise ValueError(f"retention {v:g}s is shorter than a day; use e.g. 30d, or null to keep everything")
        return v


class MetricsConfig(Strict):
    """Prometheus metrics, off unless asked for: `listen` serves /metrics, `textfile` suits cron runs."""

    listen: str | None = None            # "127.0.0.1:9464"; "0.0.0.0:9464" exposes it to the network
    textfile: str | None = None          # written after each `--once` pass (node_exporter textfile collector)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str | None) -> str | None:
        if v is not None:
            split_listen(v)
        return v


def split_listen(value: str) -> tuple[str, int]:
    """"127.0.0.1:9464", "[::1]:9464" or ":9464" (loopback) to (host, port); ValueError with a hint."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'listen "{value}" must be HOST:PORT, e.g. "127.0.0.1:9464"')
    return (host.strip("[]") or "127.0.0.1"), int(port)


class DaemonConfig(Strict):
    # On SIGTERM, polls and sends in progress get this long to finish; then the daemon exits anyway (nothing
    # half-written: every write is a transaction). Keep it below systemd's TimeoutStopSec.
    drain_timeout: Duration = 20.0
    # Polls in progress at once, whatever the number of sources (one worker thread each). Size it for the polls
    # per second you need times a typical poll's duration, plus the sources that may hang until http.deadline.
    max_concurrent_polls: int = Field(64, ge=1, le=1024)
    # A mention whose analysis or routing raises this many times (retried with a growing backoff) is parked: kept,
    # no longer routed, shown by `monitor status` until `monitor retry-mentions` sends it through again.
    max_route_attempts: int = Field(5, ge=1, le=100)
    # Cron on several boxes (PostgreSQL): how often `monitor run --once` runs. A pass skips a source another box
    # polled within half of this; unset, each source's `every` is taken for it (and the log and `monitor status`
    # say so), which holds only when every `every` is the cron interval.
    cron_interval: Duration | None = None

    @field_validator("cron_interval")
    @classmethod
    def _cron_interval(cls, v: float | None) -> float | None:
        if v is not None and not 10.0 <= v <= 86400.0:
            raise ValueError(f"cron_interval {v:g}s must be between 10s and 1d: the interval your crontab runs"
                             " `monitor run --once` at, e.g. 5m")
        return v


class InboundConfig(Strict):
    """The listener for `kind: inbound` sources (survey, helpdesk and form webhooks), behind an HTTPS proxy."""

    listen: str = "127.0.0.1:8788"       # loopback by default: put a TLS-terminating proxy in front of it
    max_body: int = Field(1_000_000, ge=1024, le=50_000_000)   # larger bodies get 413 and are not read

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        split_listen(v)
        return v


class SentimentConfig(Strict):
    threshold: float = Field(-0.05, ge=-1.0, le=1.0)   # a score at or below this is negative
    # The learned layer: `monitor train` writes the deployment's model here; while the file does not exist the
    # model shipped with the package is used. `learned: false` scores with the rules alone.
    model: str = "var/sentiment-model.json"
    learned: bool = True
    # Issue types ops add (or extend): type -> example phrases or word stems ("warranty": ["warranty", "garantie"]).
    # A phrase ending in "=" is a whole word. Built-in types: billing, delivery, outage, defect, support,
    # security, safety.
    issue_types: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("issue_types")
    @classmethod
    def _issue_types(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, phrases in v.items():
            if not name.replace("_", "").replace("-", "").isalnum() or name != name.lower():
                raise ValueError(f'issue type "{name}" must be a lower-case word (letters, digits, - or _)')
            if not phrases or any(not p.strip("= ") for p in phrases):
                raise ValueError(f'issue type "{name}" needs at least one non-empty example phrase')
        return v

    def model_path(self) -> str:
        return os.path.expanduser(self.model)


class DashboardConfig(Strict):
    """`monitor ui`: the comms dashboard. Open to whoever reaches the port unless a token or proxy header is set."""

    tz: TimeZone = "UTC"                       # times on the dashboard and in the report are shown in this zone
    token_env: str | None = None               # a shared token read from this variable (or a credential file)
    user_header: str | None = None             # behind a trusted reverse proxy: the header naming the user
    url: str | None = None                     # where people reach it (links from the digest and the report)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f'url "{v}" must start with http:// or https://')
        return v.rstrip("/") if v else v


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ReportConfig(Strict):
    """The weekly report: rendered on `day` at `at` (dashboard.tz) over the `since` before it, then posted to
    Slack as an image with the figures as text (`slack_channel`) and/or written as HTML under `folder`."""

    day: Weekday = "monday"
    at: TimeOfDay = "09:00"
    since: Duration = 7 * 86400.0
    brands: list[str] | None = None            # one report per brand listed; default: one covering every brand
    slack_channel: str | None = None           # a channel ID (C0123ABCD): Slack's file upload takes IDs only
    folder: str | None = None                  # e.g. var/reports: report-2026-W48.html, kept
    ack_target: Duration = 3600.0              # SLA: acknowledged within this (or the policy's first escalation)

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        # Slack's own pattern, as its refusal states it: ^[CGDZ][A-Z0-9]{8,}$ (python-slack-sdk #1426)
        if v is not None and not re.fullmatch(r"[CGDZ][A-Z0-9]{8,}", v):
            raise ValueError(f'slack_channel "{v}" must be a channel ID such as C0123ABCD (file uploads do not take '
                             "#names): in Slack, open the channel's details, the ID is at the bottom")
        return v


class _ConfigFile(Strict):
    brands: dict[str, BrandConfig]
    sources: list[dict[str, Any]] = Field(default_factory=list)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    report: ReportConfig | None = None
    inbound: InboundConfig = Field(default_factory=InboundConfig)


@dataclass(frozen=True)
class Config:
    path: str
    brands: dict[str, BrandConfig]
    sources: list[SourceOptions]
    slack: SlackConfig
    storage: StorageConfig
    sentiment: SentimentConfig
    http: HttpConfig
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    report: ReportConfig | None = None
    inbound: InboundConfig = field(default_factory=InboundConfig)

    def source(self, source_id: str) -> SourceOptions:
        return self._sources_by_id[source_id]

    @cached_property
    def _sources_by_id(self) -> dict[str, SourceOptions]:
        # every poll and every routed mention looks its source up: a scan of 5,000 would cost a second a round
        return {s.id: s for s in self.sources}

    @property
    def lease_ttl(self) -> float:
        """How long a replica's leases outlive it (see StorageConfig.lease_ttl)."""
        return self.storage.lease_ttl or max(60.0, self.http.deadline + 30.0)

    def db_path(self, override: str | None = None) -> str:
        """Where the state is: `--db`, else $MONITOR_DATABASE_URL, else storage.url, else storage.path."""
        if override:
            return os.path.expanduser(override)
        return os.environ.get("MONITOR_DATABASE_URL") or self.storage.url or os.path.expanduser(self.storage.path)


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Load and validate the whole file; raise ConfigValidationError listing every issue found."""
    doc = load_yaml(path)
    return config_from(doc)


def config_from(doc: LocatedYaml) -> Config:
    if not isinstance(doc.data, dict):
        raise ConfigValidationError([doc.issue((), "the file must be a mapping with brands: and sources:")])
    base, issues = validate(doc, _ConfigFile)
    sources: list[SourceOptions] = []
    raw_sources = doc.data.get("sources") or []
    if isinstance(raw_sources, list):
        sources = _sources(doc, raw_sources, issues)
    if base is not None:
        issues += _brands(doc, base.brands)
        names = set(base.brands)
        for b in (base.report.brands if base.report else None) or []:
            if b not in names:
                issues.append(doc.issue(("report", "brands"), f'unknown brand "{b}"', did_you_mean(b, names)))
        for i, s in enumerate(sources):
            for b in s.brands or []:
                if b not in names:
                    issues.append(doc.issue(("sources", i, "brands"), f'unknown brand "{b}"', did_you_mean(b, names)))
    if base is not None and base.storage.lease_ttl is not None and base.storage.lease_ttl <= base.http.deadline:
        issues.append(doc.issue(("storage", "lease_ttl"), f"lease_ttl {base.storage.lease_ttl:g}s must be longer "
                                f"than http.deadline ({base.http.deadline:g}s): a slow poll would lose its host"))
    if issues or base is None:
        raise ConfigValidationError(issues)
    return Config(str(doc.file), base.brands, sources, base.slack, base.storage, base.sentiment, base.http,
                  metrics=base.metrics, daemon=base.daemon, dashboard=base.dashboard, report=base.report,
                  inbound=base.inbound)


def _sources(doc: LocatedYaml, raw: list[Any], issues: list[ConfigIssue]) -> list[SourceOptions]:
    out: list[SourceOptions] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        loc = ("sources", i)
        if not isinstance(item, dict):
            issues.append(doc.issue(loc, "each source must be a mapping with id, kind, every"))
            continue
        kind = item.get("kind")
        kinds: dict[str, Any] = dict(REGISTRY)     # polled collectors and streams alike
        if kind not in kinds:
            hint = did_you_mean(str(kind), kinds) if kind else "expected one of: " + ", ".join(sorted(kinds))
            msg = f'unknown source kind "{kind}"' if kind else 'missing required key "kind"'
            issues.append(doc.issue((*loc, "kind") if kind else loc, msg, hint))
            continue
        opts, errs = validate(doc, kinds[kind].Options, item, loc)
        issues += errs
        if opts is None:
            continue
        if opts.id in seen:
            issues.append(doc.issue((*loc, "id"), f'duplicate source id "{opts.id}"',
                                    f"first used by sources[{seen[opts.id]}]"))
            continue
        seen[opts.id] = i
        path = getattr(opts, "path", None) if getattr(REGISTRY[kind], "push", False) else None
        if path is not None:
            first = next((j for j, o in enumerate(out) if getattr(o, "path", None) == path
                          and getattr(REGISTRY[o.kind], "push", False)), None)
            if first is not None:
                issues.append(doc.issue((*loc, "path"), f'path "{path}" is already used by source "{out[first].id}"',
                                        "each inbound source needs its own path"))
                continue
        out.append(opts)
    return out


def _brands(doc: LocatedYaml, brands: dict[str, BrandConfig]) -> list[ConfigIssue]:
    issues = []
    for name, brand in brands.items():
        try:
            parse_query(brand.query)
        except QueryError as exc:
            pointer = f"{brand.query}\n{' ' * exc.position}^"
            issues.append(doc.issue(("brands", name, "query"), f"{exc.reason} at position {exc.position}",
                                    f"in query:\n    {pointer.replace(chr(10), chr(10) + '    ')}"))
    return issues
