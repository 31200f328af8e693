"""The shipped JSON Schemas match the pydantic models (regenerate with `python -m monitor.config.schemas`), and
they accept the shipped files and the SPEC example while catching what an editor should flag."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from monitor.config import schemas
from tests.harness import spec_rules

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, which", list(schemas.FILES.items()))
def test_shipped_schema_matches_the_models(name, which):
    shipped = (schemas.HERE / name).read_text()
    assert shipped == schemas.render(which), f"{name} drifted from the models: run `python -m monitor.config.schemas`"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((schemas.HERE / name).read_text()))


def test_schemas_accept_the_shipped_files_and_the_spec_example():
    rules = _validator("rules.schema.json")
    for doc in (yaml.safe_load((REPO / "rules.yaml").read_text()), yaml.safe_load(spec_rules())):
        assert list(rules.iter_errors(doc)) == []
    config = _validator("monitor.schema.json")
    assert list(config.iter_errors(yaml.safe_load((REPO / "config/monitor.yaml").read_text()))) == []


@pytest.mark.parametrize("edit", [
    ("group_wait: 30s", "group_wait: soon"),
    ("escalation: critical", "escalaton: critical"),
    ("reach: {at_least: 10000}", "reach: {at_least: lots}"),
])
def test_rules_schema_flags_what_an_editor_should(edit):
    doc = yaml.safe_load(spec_rules().replace(*edit, 1))
    assert list(_validator("rules.schema.json").iter_errors(doc))


def test_config_schema_flags_a_misspelt_source_key():
    doc = yaml.safe_load((REPO / "config/monitor.yaml").read_text())
    doc["sources"][0]["evry"] = "5m"
    assert list(_validator("monitor.schema.json").iter_errors(doc))


def test_shipped_files_point_editors_at_the_schemas():
    assert "yaml-language-server: $schema=monitor/config/schemas/rules.schema.json" in (REPO / "rules.yaml").read_text()
    assert ("yaml-language-server: $schema=../monitor/config/schemas/monitor.schema.json"
            in (REPO / "config/monitor.yaml").read_text())


def test_schema_pointers_in_the_shipped_files_name_files_that_exist():
    """Regression: the layout move left `$schema=monitor/schemas/...` pointing at nothing."""
    for path in (REPO / "rules.yaml", REPO / "config/monitor.yaml"):
        target = path.read_text().splitlines()[0].split("$schema=", 1)[1].strip()
        assert (path.parent / target).is_file(), f"{path.name} points editors at a missing {target}"
