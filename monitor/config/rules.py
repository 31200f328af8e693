"""rules.yaml: owners, routes, escalation policies, quiet hours and grouping defaults.

Validated whole at load (Alertmanager's way): an undefined owner or policy, a route that can never match
because an earlier catch-all takes everything, a bad duration or time zone: each is reported with its line
and a hint, and nothing runs until the file is right. On reload, a bad file keeps the last good rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.core.durations import Duration
from monitor.core.errors import ConfigIssue, ConfigValidationError, QueryError
from monitor.core.model import Target
from monitor.core.query import Term, parse_keyword
from monitor.core.validation import Strict, TimeOfDay, TimeZone, did_you_mean, empty_hint, validate
from monitor.core.yamlfile import Loc, LocatedYaml, load_yaml

DEFAULT_RULES = "rules.yaml"
_SLACK_DEST = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|@[UW][A-Z0-9]{2,}|[CGDUW][A-Z0-9]{2,})$")


class Owner(Strict):
    slack: str
    mention: str | None = None     # "<!subteam^S123>", "@U123", "@here"... added to the alert text

    @field_validator("slack")
    @classmethod
    def _slack(cls, v: str) -> str:
        if not _SLACK_DEST.match(v):
            raise ValueError(f'slack destination "{v}" is not "#channel-name", "@U…" (a user id) or a channel id')
        return v


OwnerRef = str | list[str] | Owner     # an owner name, several, or an inline {slack: ...}


class Defaults(Strict):
    notify: str
    ops: str | None = None                # who hears about config errors (else `notify`), never with a ping
    escalation: str | None = None
    group_wait: Duration = 30.0           # batch a new group's mentions this long before the first message
    group_interval: Duration = 300.0      # then at most one update per group this often
    repeat_after: Duration = 4 * 3600.0   # an open, unacknowledged alert is re-announced this often
    ack_timeout: Duration | None = None   # an acknowledged alert not resolved by then reopens
    group_similarity: float = Field(0.9, ge=0.5, le=1.0)   # texts this alike (0..1) are one story
    story_window: Duration = 86400.0   # a story silent this long starts a new alert when it comes back


class Timing(Strict):
    """What a route may override of the defaults; anything left out is inherited."""

    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_after: Duration | None = None
    ack_timeout: Duration | None = None


class QuietHours(Strict):
    from_: TimeOfDay = Field(alias="from")
    to: TimeOfDay
    tz: TimeZone = "UTC"
    except_: list[str] = Field(default_factory=list, alias="except")


class EscalationLevel(Strict):
    notify: OwnerRef
    after: Duration | None = None      # since the alert opened, without acknowledgement
    repeat: int = Field(0, ge=0, le=100)


class Threshold(Strict):
    below: float | None = None
    above: float | None = None


class Range(Strict):
    at_most: float | None = None
    at_least: float | None = None


class Spike(Strict):
    """Negative volume of one brand in a window against the same window on past days."""

    negative: int = Field(ge=1)             # at least this many negative mentions in the window...
    within: Duration = 3600.0
    k: float = Field(3.0, ge=0.0)           # ...and more than mean + k·sd of the same window on past days
    baseline_days: int = Field(7, ge=0, le=90)
    cooldown: Duration | None = None        # after a spike alert ends, no new one for this long (default: within)


Keywords = list[str]


class Match(Strict):
    brand: str | list[str] | None = None
    source: str | list[str] | None = None
    any: Keywords | None = None
    all: Keywords | None = None
    none: Keywords | None = None
    sentiment: Threshold | Literal["negative", "unscored"] | None = None
    rating: Range | None = None
    reach: Range | None = None
    language: str | list[str] | None = None
    issue: str | list[str] | None = None     # issue type(s): billing, delivery, outage, defect, support, security...
    spike: Spike | None = None

    @model_validator(mode="after")
    def _keywords(self) -> Match:
        for key in ("any", "all", "none"):
            for word in getattr(self, key) or []:
                try:
                    parse_keyword(word)
                except QueryError as exc:
                    raise ValueError(f'{key}: bad keyword "{word}": {exc.reason}') from None
        return self


class Route(Timing):
    name: str
    match: Match = Field(default_factory=Match)
    notify: OwnerRef | None = None
    escalation: str | None = None
    continue_: bool = Field(False, alias="continue")
    reply_approval: str | None = None      # an owner who approves replies to this route's alerts before they post
    actions: list[str] = Field(default_factory=list)   # names from the top-level `actions:`, run once per alert


PLACEHOLDERS = ("author", "first_name", "brand", "issue", "alert_id", "url", "source")
_PLACEHOLDER = re.compile(r"{([^{}]*)}")


class ReplyTemplate(Strict):
    """A reply draft; the most specific template matching the alert's issue, brand and language is used."""

    text: str = Field(min_length=1, max_length=5000)
    issue: str | list[str] | None = None
    brand: str | list[str] | None = None
    language: str | list[str] | None = None

    @field_validator("text")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        for name in _PLACEHOLDER.findall(v.replace("{{", "").replace("}}", "")):
            if name not in PLACEHOLDERS:
                raise ValueError(f'unknown placeholder "{{{name}}}" (known: '
                                 + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ")")
        return v


class Action(Strict):
    """A ticket or webhook a route runs once when an alert opens (`routes[].actions: [name]`)."""

    kind: Literal["webhook", "jira", "zendesk", "freshdesk"]
    url: str                              # the webhook URL, or the service's base URL (https://acme.atlassian.net)
    secret_env: str | None = None         # webhook: HMAC-SHA256 key of the X-Monitor-Signature header
    token_env: str | None = None          # jira/zendesk: API token; freshdesk: API key
    user_env: str | None = None           # jira/zendesk: the account email the token belongs to
    project: str | None = None            # jira: project key
    issue_type: str = "Task"              # jira
    requester: str | None = None          # freshdesk: requester email when the alert has no contact
    close_ticket: bool = False            # resolving the alert closes (solves, transitions to Done) the ticket
    close_transition: str = "Done"        # jira: the transition's name

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f'url "{v}" must start with http:// or https://')
        return v.rstrip("/")

    @model_validator(mode="after")
    def _needs(self) -> Action:
        if self.kind == "jira" and not self.project:
            raise ValueError("a jira action needs project: (the project key, e.g. SUP)")
        if self.kind in ("jira", "zendesk", "freshdesk") and not self.token_env:
            raise ValueError(f"a {self.kind} action needs token_env: (the variable holding the API token)")
        if self.kind in ("jira", "zendesk") and not self.user_env:
            raise ValueError(f"a {self.kind} action needs user_env: (the variable holding the account email)")
        return self


class _RulesFile(Strict):
    version: Literal[1] = 1
    owners: dict[str, Owner]
    defaults: Defaults
    quiet_hours: QuietHours | None = None
    escalation_policies: dict[str, list[EscalationLevel]] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    replies: list[ReplyTemplate] = Field(default_factory=list)
    reply_approval: dict[str, str] = Field(default_factory=dict)     # brand -> approving owner
    actions: dict[str, Action] = Field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    path: str
    owners: dict[str, Owner]
    defaults: Defaults
    quiet_hours: QuietHours | None
    escalation_policies: dict[str, list[EscalationLevel]]
    routes: list[Route]
    replies: tuple[ReplyTemplate, ...] = ()
    reply_approval: dict[str, str] | None = None
    actions: dict[str, Action] | None = None

    def approver(self, route: str | None, brand: str | None) -> str | None:
        """Who approves replies to an alert of this route and brand (the route's setting wins), or None."""
        r = self.route(route)
        if r is not None and r.reply_approval:
            return r.reply_approval
        return (self.reply_approval or {}).get(brand or "")

    def route_actions(self, route: str | None) -> list[tuple[str, Action]]:
        r = self.route(route)
        return [(n, (self.actions or {})[n]) for n in (r.actions if r else [])]

    def targets(self, ref: OwnerRef | None) -> list[Target]:
        """Resolve a notify reference to Slack destinations (validation guarantees the names exist)."""
        if ref is None:
            return []
        if isinstance(ref, Owner):
            return [Target("inline", ref.slack, ref.mention)]
        names = [ref] if isinstance(ref, str) else ref
        return [Target(n, self.owners[n].slack, self.owners[n].mention) for n in names]

    @property
    def default_targets(self) -> list[Target]:
        return self.targets(self.defaults.notify)

    @property
    def ops_targets(self) -> list[Target]:
        """Where config errors go: `defaults.ops`, else the default owner; without its @here/@channel ping
        (a broken file is for whoever maintains it, not a reason to wake the comms team)."""
        return [Target(t.owner, t.slack, None) for t in self.targets(self.defaults.ops or self.defaults.notify)]

    def route(self, name: str | None) -> Route | None:
        return next((r for r in self.routes if r.name == name), None) if name else None

    def timing(self, route: str | None) -> dict[str, float | None]:
        """group_wait, group_interval, repeat_after and ack_timeout for a route, defaults filled in."""
        r = self.route(route)
        out: dict[str, float | None] = {}
        for key in ("group_wait", "group_interval", "repeat_after", "ack_timeout"):
            own = getattr(r, key) if r is not None else None
            out[key] = own if own is not None else getattr(self.defaults, key)
        return out

    def route_keywords(self) -> set[Term]:
        out: set[Term] = set()
        for r in self.routes:
            for key in ("any", "all", "none"):
                out |= {parse_keyword(w) for w in getattr(r.match, key) or []}
        return out


def load_rules(path: str | Path = DEFAULT_RULES) -> Rules:
    return rules_from(load_yaml(path))


def rules_from(doc: LocatedYaml) -> Rules:
    if not isinstance(doc.data, dict):
        raise ConfigValidationError([doc.issue((), "the file must be a mapping with owners:, defaults:, routes:")])
    parsed, issues = validate(doc, _RulesFile)
    if parsed is None:
        raise ConfigValidationError(issues)
    issues += _semantic(doc, parsed)
    if issues:
        raise ConfigValidationError(issues)
    return Rules(doc.file, parsed.owners, parsed.defaults, parsed.quiet_hours, parsed.escalation_policies,
                 parsed.routes, tuple(parsed.replies), dict(parsed.reply_approval), dict(parsed.actions))


def _semantic(doc: LocatedYaml, r: _RulesFile) -> list[ConfigIssue]:
    """Cross-references pydantic cannot see: owners and policies that exist, reachable routes."""
    issues: list[ConfigIssue] = []
    owners, policies = set(r.owners), set(r.escalation_policies)

    def check_owner(ref: OwnerRef | None, loc: Loc) -> None:
        if ref is None or isinstance(ref, Owner):
            return
        for i, name in enumerate([ref] if isinstance(ref, str) else ref):
            if name not in owners:
                where = loc if isinstance(ref, str) else (*loc, i)
                issues.append(doc.issue(where, f'unknown owner "{name}"', did_you_mean(name, owners)))

    def check_policy(name: str | None, loc: Loc) -> None:
        if name is not None and name not in policies:
            issues.append(doc.issue(loc, f'unknown escalation policy "{name}"', did_you_mean(name, policies)))

    check_owner(r.defaults.notify, ("defaults", "notify"))
    check_owner(r.defaults.ops, ("defaults", "ops"))
    for brand, owner in r.reply_approval.items():
        check_owner(owner, ("reply_approval", brand))
    check_policy(r.defaults.escalation, ("defaults", "escalation"))
    for pname, levels in r.escalation_policies.items():
        if not levels:
            issues.append(doc.issue(("escalation_policies", pname), "a policy needs at least one level"))
        last = -1.0
        for i, level in enumerate(levels):
            check_owner(level.notify, ("escalation_policies", pname, i, "notify"))
            after = level.after or 0.0
            if i > 0 and level.after is None:
                issues.append(doc.issue(("escalation_policies", pname, i), "missing required key \"after\"",
                                        "every level but the first says when it fires, e.g. after: 30m"))
            elif after < last:
                issues.append(doc.issue(("escalation_policies", pname, i, "after"),
                                        "levels must be in increasing order of `after`"))
            last = after
    if r.quiet_hours and r.quiet_hours.from_ == r.quiet_hours.to:
        issues.append(doc.issue(("quiet_hours", "to"), f'quiet hours start and end at {r.quiet_hours.to}',
                                'give a window, e.g. from: "22:00", to: "07:00" (it may cross midnight)'))
    if r.quiet_hours:
        known = policies | {rt.name for rt in r.routes}
        for i, name in enumerate(r.quiet_hours.except_):
            if name not in known:
                issues.append(doc.issue(("quiet_hours", "except", i), f'unknown policy or route "{name}"',
                                        did_you_mean(name, known)))
    raw_routes = doc.data.get("routes") if isinstance(doc.data, dict) else None
    for i, raw in enumerate(raw_routes if isinstance(raw_routes, list) else []):
        if isinstance(raw, dict) and "notify" in raw and raw["notify"] is None:
            issues.append(doc.issue(("routes", i, "notify"), '"notify" is empty', empty_hint("notify")))
    seen: dict[str, int] = {}
    catch_all: int | None = None      # a catch-all mention route shadows later mention routes, not spike routes
    for i, route in enumerate(r.routes):
        loc: Loc = ("routes", i)
        if route.name in seen:
            issues.append(doc.issue((*loc, "name"), f'duplicate route name "{route.name}"',
                                    f"first used by routes[{seen[route.name]}]"))
        seen.setdefault(route.name, i)
        if route.notify is not None and route.escalation is not None:
            issues.append(doc.issue(loc, "a route takes notify or escalation, not both",
                                    "put the first owner in the policy's first level"))
        check_owner(route.notify, (*loc, "notify"))
        check_policy(route.escalation, (*loc, "escalation"))
        if route.reply_approval is not None:
            check_owner(route.reply_approval, (*loc, "reply_approval"))
        for j, name in enumerate(route.actions):
            if name not in r.actions:
                issues.append(doc.issue((*loc, "actions", j), f'unknown action "{name}"',
                                        did_you_mean(name, set(r.actions)) or "define it under the top-level actions:"))
        spike = route.match.spike is not None
        if spike:
            extra = [k for k in Match.model_fields if k not in ("spike", "brand") and getattr(route.match, k) is not None]
            if extra:
                issues.append(doc.issue((*loc, "match", extra[0]), f'"{extra[0]}" cannot be combined with spike',
                                        "a spike is counted per brand: only `brand` narrows a spike route"))
        if catch_all is not None and not spike:
            issues.append(doc.issue(loc, f'route "{route.name}" can never match',
                                    f'routes[{catch_all}] matches every mention and has no `continue: true`'))
        elif _is_catch_all(route.match) and not route.continue_:
            catch_all = i
        elif not spike:
            for j, earlier in enumerate(r.routes[:i]):
                if not earlier.continue_ and earlier.match.spike is None and _covers(earlier.match, route.match):
                    issues.append(doc.issue(loc, f'route "{route.name}" can never match',
                                            f'routes[{j}] "{earlier.name}" takes every mention it would match '
                                            "(first match wins): move it above, or add `continue: true` there"))
                    break
    return issues


NEGATIVE_DEFAULT = -0.05     # `sentiment: negative` is `below` the configured threshold, -0.05 unless changed


def _covers(a: Match, b: Match) -> bool:
    """Every mention matching `b` also matches `a`: a route with `a` placed before `b` shadows it.

    Conservative: only says yes when each key `a` sets is set in `b` at least as narrowly (same or smaller
    set of brands, sources, languages; a sentiment bound at least as strict); anything unsure is no."""
    keys = [k for k in Match.model_fields if getattr(a, k) is not None]
    if not keys:
        return False                     # a catch-all is reported on its own
    for k in keys:
        va, vb = getattr(a, k), getattr(b, k)
        if vb is None:
            return False
        if k in ("brand", "source", "language"):
            sa = {va} if isinstance(va, str) else set(va)
            sb = {vb} if isinstance(vb, str) else set(vb)
            if not sb <= sa:
                return False
        elif k == "sentiment":
            if not _sentiment_covers(va, vb):
                return False
        elif va != vb:
            return False
    return True


def _sentiment_covers(a: Threshold | str, b: Threshold | str) -> bool:
    if a == b:
        return True
    below_a = NEGATIVE_DEFAULT if a == "negative" else a.below if isinstance(a, Threshold) and a.above is None \
        else None
    below_b = NEGATIVE_DEFAULT if b == "negative" else b.below if isinstance(b, Threshold) else None
    if isinstance(b, Threshold) and b.below is None:
        return False
    return below_a is not None and below_b is not None and below_b <= below_a


def _is_catch_all(m: Match) -> bool:
    """No match keys at all: takes every mention (spikes are routed separately, by `spike` routes)."""
    return all(getattr(m, k) is None for k in Match.model_fields)
