"""Routing: which owners hear about a mention, decided by rules.yaml's route list.

Alertmanager's semantics: routes are tried in order, the first match wins unless it says `continue: true`,
and what no route takes falls to the root (`defaults`) if it is negative. Every decision carries a trace
(each route tried, and why it did or did not match) so `monitor explain` can show ops exactly what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.analyse.matcher import TermIndex
from monitor.config.rules import Match, Route, Rules, Spike
from monitor.core.model import Target
from monitor.core.query import Term, parse_keyword

if TYPE_CHECKING:      # only read here: importing the scorer's lexicons is ≈0.2 s `monitor status` does not need
    from monitor.analyse.sentiment import Sentiment


@dataclass
class Subject:
    """What routes match on: one mention seen for one brand (or a spike of one brand)."""

    brand: str | None
    source_kind: str
    source_id: str
    sentiment: Sentiment
    terms: set[Term] = field(default_factory=set)
    rating: float | None = None
    reach: int | None = None
    language: str | None = None
    spike: bool = False
    # For a spike subject: does this route's `spike` condition hold for the brand? None if it does,
    # otherwise why not (the counts), so `monitor explain` can show it.
    spike_check: Callable[[Spike], str | None] | None = None


@dataclass(frozen=True)
class RouteHit:
    route: str | None          # None: nothing matched, the root's default owner takes a negative mention
    targets: tuple[Target, ...]
    policy: str | None         # escalation policy, when the route (or the root) names one


@dataclass(frozen=True)
class Step:
    route: str
    matched: bool
    reasons: tuple[str, ...]   # why not (or, when matched, what matched)


@dataclass
class Decision:
    hits: list[RouteHit]
    trace: list[Step]

    @property
    def route(self) -> str | None:
        return self.hits[0].route if self.hits else None

    @property
    def owners(self) -> list[str]:
        seen: dict[str, None] = {}
        for hit in self.hits:
            for t in hit.targets:
                seen[t.owner if t.owner != "inline" else t.slack] = None
        return list(seen)


class Router:
    """Compiled rules: keyword terms parsed and indexed once, so routing a mention is one pass over it."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self._kw: dict[int, dict[str, list[Term]]] = {}
        for i, r in enumerate(rules.routes):
            self._kw[i] = {k: [parse_keyword(w) for w in getattr(r.match, k) or []] for k in ("any", "all", "none")}
        self.index = TermIndex(rules.route_keywords())

    def keywords_in(self, text: str) -> set[Term]:
        return self.index.find(text)

    def route(self, subject: Subject) -> Decision:
        hits: list[RouteHit] = []
        trace: list[Step] = []
        for i, r in enumerate(self.rules.routes):
            reasons = self._mismatch(i, r.match, subject)
            trace.append(Step(r.name, not reasons, tuple(reasons) or ("matched",)))
            if reasons:
                continue
            hits.append(self._hit(r))
            if not r.continue_:
                break
        if not hits and subject.sentiment.negative and not subject.spike:
            d = self.rules.defaults
            hits.append(RouteHit(None, self._policy_targets(d.escalation) or tuple(self.rules.default_targets),
                                 d.escalation))
        return Decision(hits, trace)

    def _hit(self, r: Route) -> RouteHit:
        if r.escalation:
            return RouteHit(r.name, self._policy_targets(r.escalation), r.escalation)
        if r.notify is not None:
            return RouteHit(r.name, tuple(self.rules.targets(r.notify)), None)
        d = self.rules.defaults
        return RouteHit(r.name, self._policy_targets(d.escalation) or tuple(self.rules.default_targets), d.escalation)

    def _policy_targets(self, policy: str | None) -> tuple[Target, ...]:
        if not policy:
            return ()
        return tuple(self.rules.targets(self.rules.escalation_policies[policy][0].notify))

    def _mismatch(self, i: int, m: Match, s: Subject) -> list[str]:
        """Every reason the route does not match (empty: it matches)."""
        out: list[str] = []
        if m.spike is not None and not s.spike:
            out.append("spike routes match spike alerts only")
        if m.spike is None and s.spike:
            out.append("not a spike route")
        if m.brand is not None and s.brand not in _as_list(m.brand):
            out.append(f"brand {s.brand!r} not in {_as_list(m.brand)}")
        if m.source is not None and not {s.source_kind, s.source_id} & set(_as_list(m.source)):
            out.append(f"source {s.source_id!r} ({s.source_kind}) not in {_as_list(m.source)}")
        kw = self._kw[i]
        if kw["any"] and not any(t in s.terms for t in kw["any"]):
            out.append(f"none of {_show(kw['any'])} present")
        missing = [t for t in kw["all"] if t not in s.terms]
        if missing:
            out.append(f"missing {_show(missing)}")
        present = [t for t in kw["none"] if t in s.terms]
        if present:
            out.append(f"excluded by {_show(present)}")
        out += _sentiment_mismatch(m, s.sentiment)
        if m.rating is not None:
            out += _range("rating", s.rating, m.rating.at_most, m.rating.at_least)
        if m.reach is not None:
            out += _range("reach", s.reach, m.reach.at_most, m.reach.at_least)
        if m.language is not None and s.language not in _as_list(m.language):
            out.append(f"language {s.language or 'unknown'!r} not in {_as_list(m.language)}")
        if m.issue is not None and s.sentiment.issue not in _as_list(m.issue):
            out.append(f"issue {s.sentiment.issue or 'none'!r} not in {_as_list(m.issue)}")
        if not out and m.spike is not None and s.spike_check is not None:   # counts only when all else holds
            why = s.spike_check(m.spike)
            if why:
                out.append(why)
        return out


def _sentiment_mismatch(m: Match, sent: Sentiment) -> list[str]:
    want = m.sentiment
    if want is None:
        return []
    if want == "unscored":
        return [] if sent.unscored else ["sentiment was scored (route wants unscored)"]
    if want == "negative":
        return [] if sent.negative else ["not negative"]
    if sent.unscored or sent.score is None:
        return ["sentiment unscored (language not supported)"]
    out = []
    if want.below is not None and not sent.score < want.below:
        out.append(f"sentiment {sent.score:+.2f} not below {want.below:+g}")
    if want.above is not None and not sent.score > want.above:
        out.append(f"sentiment {sent.score:+.2f} not above {want.above:+g}")
    return out


def _range(name: str, value: float | None, at_most: float | None, at_least: float | None) -> list[str]:
    if value is None:
        return [f"no {name}"]
    out = []
    if at_most is not None and value > at_most:
        out.append(f"{name} {value:g} above {at_most:g}")
    if at_least is not None and value < at_least:
        out.append(f"{name} {value:g} below {at_least:g}")
    return out


def _as_list(v: str | list[str]) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def _show(terms: Iterable[Term]) -> str:
    return ", ".join(str(t) if str(t).startswith('"') else f'"{t}"' for t in terms)
