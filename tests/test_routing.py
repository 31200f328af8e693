"""Routing: the table in tests/data/routing_cases.yaml (every route of the SPEC.md example and every match
key), `monitor explain`'s decision path, and whole-file validation of rules.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monitor.alerting.spike import DAY, evaluate, spike_subject
from monitor.analyse.analyzer import Analyzer
from monitor.analyse.routing import Router
from monitor.config.rules import Spike, load_rules
from monitor.config.settings import load_config
from monitor.core.errors import ConfigValidationError
from monitor.core.model import Mention

DATA = yaml.safe_load((Path(__file__).parent / "data" / "routing_cases.yaml").read_text())
CASES = DATA["cases"]
NOW = 1_710_237_600.0            # 2024-03-12 10:00 UTC

CONFIG = """\
brands:
  acme: {query: '"acme" OR @acme OR #acme NOT "acme brick"'}
  widget: {query: 'widget'}
sources:
  - {id: news-acme, kind: rss, url: 'https://news.example/acme.xml'}
  - {id: hn-acme, kind: rss, url: 'https://hnrss.org/newest?q=acme'}
"""


@pytest.fixture(scope="module")
def analyzers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Analyzer]:
    d = tmp_path_factory.mktemp("routing")
    (d / "monitor.yaml").write_text(CONFIG)
    config = load_config(d / "monitor.yaml")
    out = {}
    for name, text in DATA["rulesets"].items():
        (d / f"{name}.yaml").write_text(text)
        out[name] = Analyzer(config, Router(load_rules(d / f"{name}.yaml")))
    return out


def _spike_check(case: dict):
    counts = case["spike"]

    def check(spike: Spike) -> str | None:
        baseline = counts["baseline"]

        def count(start: float, end: float) -> int:
            days_back = round((NOW - end) / DAY)
            return counts["count"] if days_back == 0 else baseline[days_back - 1]
        history = NOW - len(baseline) * DAY - spike.within - 1
        return evaluate(count, spike, NOW, history).why_not()
    return check


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_routing_table(analyzers, case):
    analyzer = analyzers[case["rules"]]
    if "spike" in case:
        decision = analyzer.router.route(spike_subject(case["spike"]["brand"], _spike_check(case)))
        routes = [h.route for h in decision.hits]
        owners = decision.owners
    else:
        source = case.get("source", "news-acme")
        kind = next((s.kind for s in analyzer.config.sources if s.id == source), source)
        m = Mention(source_id=source, source_kind=kind, external_id="t", text=case["text"],
                    reach=case.get("reach"), rating=case.get("rating"))
        analysis = analyzer.analyze(m)
        if "brands" in case:
            assert [v.brand for v in analysis.verdicts] == case["brands"]
        routes = [h.route for v in analysis.verdicts for h in v.decision.hits]
        owners = list(dict.fromkeys(o for v in analysis.verdicts for o in v.decision.owners))
    assert (routes[0] if routes else None) == case["route"], routes
    if "routes" in case:
        assert routes == case["routes"]
    assert sorted(owners) == sorted(case["owners"])


def test_every_spec_route_is_covered():
    spec_routes = {r["name"] for r in yaml.safe_load(DATA["rulesets"]["spec"])["routes"]}
    covered = {c["route"] for c in CASES if c["rules"] == "spec"}
    assert spec_routes <= covered, spec_routes - covered


def test_spec_ruleset_is_the_spec_verbatim():
    spec = Path("/work/shared/SPEC.md")
    if not spec.exists():
        pytest.skip("SPEC.md is not next to this checkout")
    block = spec.read_text().split("## rules.yaml\n```yaml\n", 1)[1].split("```", 1)[0]
    assert block.strip() == DATA["rulesets"]["spec"].strip()


def test_trace_says_why_each_route_did_not_match(analyzers):
    analyzer = analyzers["spec"]
    m = Mention(source_id="news-acme", source_kind="rss", external_id="t", text="Acme customer service was unhelpful",
                reach=500)
    (verdict,) = analyzer.analyze(m).verdicts
    trace = {s.route: s for s in verdict.decision.trace}
    assert "none of" in trace["data-security"].reasons[0]
    assert any("reach 500 below 10000" in r for r in trace["angry-influencer"].reasons)
    assert any("source" in r for r in trace["bad-review"].reasons)
    assert trace["storm"].reasons == ("spike routes match spike alerts only",)
    assert any("language" in r for r in trace["french-market"].reasons)
    assert trace["any-negative"].matched


def test_explain_cli_json_shows_decision_path(tmp_path):
    (tmp_path / "monitor.yaml").write_text(CONFIG)
    (tmp_path / "rules.yaml").write_text(DATA["rulesets"]["spec"])
    proc = subprocess.run([sys.executable, "-m", "monitor", "explain", "Acme customer service was unhelpful",
                           "--reach", "20000", "--json", "--config", str(tmp_path / "monitor.yaml"),
                           "--rules", str(tmp_path / "rules.yaml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["route"] == "angry-influencer" and out["notify"] == ["support-lead"]
    assert [t["route"] for t in out["trace"]] == ["data-security", "angry-influencer"]
    assert out["trace"][0]["matched"] is False and out["trace"][1]["matched"] is True
    assert out["policy"] == "standard"
    assert [lvl["notify"] for lvl in out["escalation"]] == [["support-lead"], ["comms-oncall"], ["head-of-comms"]]
    assert out["grouping"]["group_wait"] == 30.0


# -- validation --------------------------------------------------------------------------------------

def _issues(tmp_path: Path, text: str) -> list[str]:
    p = tmp_path / "rules.yaml"
    p.write_text(text)
    with pytest.raises(ConfigValidationError) as exc:
        load_rules(p)
    return [str(i) for i in exc.value.issues]


SPEC = DATA["rulesets"]["spec"]


@pytest.mark.parametrize("edit, expected", [
    (("notify: support-lead\n    - after: 30m", "notify: suport-lead\n    - after: 30m"),
     'escalation_policies.standard[0].notify: unknown owner "suport-lead" (did you mean "support-lead"?)'),
    (("escalation: standard", "escalation: standrd"), 'unknown escalation policy "standrd" (did you mean "standard"?)'),
    (("tz: Europe/Paris", "tz: Europe/Pariss"), 'unknown time zone "Europe/Pariss"'),
    (("group_wait: 30s", "group_wait: 30 secs"), 'defaults.group_wait: bad duration "30 secs"'),
    (('from: "22:00"', 'from: "25:00"'), 'bad time "25:00"'),
    (('to: "07:00"', 'to: "22:00"'), "quiet hours start and end at 22:00"),
    (("except: [critical]", "except: [critcal]"), 'unknown policy or route "critcal" (did you mean "critical"?)'),
    (("    - after: 2h\n", "    - after: 20m\n"), "levels must be in increasing order"),
    (("  - name: bad-review\n", "  - name: everything\n    notify: comms-oncall\n  - name: bad-review\n"),
     'route "bad-review" can never match'),
    (("match: {spike: {negative: 20, within: 1h}}", "match: {spike: {negative: 20, within: 1h}, language: fr}"),
     '"language" cannot be combined with spike'),
    (("match: {spike: {negative: 20, within: 1h}}", "match: {spike: {negative: 0}}"), "greater than or equal to 1"),
])
def test_rules_validation_errors_have_line_and_hint(tmp_path, edit, expected):
    assert edit[0] in SPEC, edit[0]
    issues = _issues(tmp_path, SPEC.replace(*edit, 1))
    assert any(expected in i for i in issues), issues
    assert all(i.startswith(f"{tmp_path / 'rules.yaml'}:") and i.split(":")[1].split()[0].isdigit()
               for i in issues), issues


def test_catch_all_does_not_hide_spike_routes(tmp_path):
    text = SPEC.replace("  - name: storm\n    match: {spike: {negative: 20, within: 1h}}\n    escalation: critical\n", "")
    text += "  - name: late-storm\n    match: {spike: {negative: 20}}\n    escalation: critical\n"
    p = tmp_path / "rules.yaml"
    p.write_text(text)
    rules = load_rules(p)
    assert rules.routes[-1].name == "late-storm"


def test_route_timing_inherits_defaults(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text(SPEC.replace("    notify: support-lead\n  - name: storm",
                              "    notify: support-lead\n    group_wait: 0s\n  - name: storm"))
    rules = load_rules(p)
    assert rules.timing("bad-review")["group_wait"] == 0.0
    assert rules.timing("bad-review")["repeat_after"] == 4 * 3600
    assert rules.timing("any-negative")["group_wait"] == 30.0
    assert rules.timing(None)["group_interval"] == 300.0
