"""The docs cannot fall behind the code (datasette's test_docs.py, in spirit): every command, every registered
source kind and every config and rules key is in the README, and the shipped JSON Schema accepts a config
that uses every registered kind (the schema once knew only the polled kinds and rejected `kind: jetstream`)."""

from __future__ import annotations

import argparse
import json
import re
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from monitor.cli import build_parser
from monitor.config import load_config, schemas
from monitor.config.rules import _RulesFile
from monitor.config.settings import _ConfigFile
from monitor.ops.problems import PROBLEM_KINDS
from monitor.sources import SourceOptions, StreamOptions, registered

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _keys(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every YAML key a model accepts (by alias), recursively. Free-form maps (brands, owners) add none."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    out = set()
    for name, f in model.model_fields.items():
        out.add(f.alias or name)
        for sub in _models_in(f.annotation):
            out |= _keys(sub, seen)
    return out


def _documented(key: str) -> bool:
    return re.search(rf"(`|\b){re.escape(key)}(`|:|\b)", README) is not None and (
        f"`{key}`" in README or f"{key}:" in README or f"`{key}:" in README or f".{key}" in README)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme(command):
    assert f"monitor {command}" in README, f"README does not document `monitor {command}`"


@pytest.mark.parametrize("kind", PROBLEM_KINDS)
def test_every_status_problem_kind_is_in_the_readme(kind):
    """`monitor status --json`'s `issues[].kind` is what scripts and the strip dispatch on: each is listed."""
    assert f"`{kind}`" in README, f"README does not list the `monitor status` problem kind `{kind}`"


@pytest.mark.parametrize("kind", sorted(registered()))
def test_every_source_kind_is_in_the_readme_and_has_an_example(kind):
    assert f"`{kind}`" in README, f"README does not document the source kind `{kind}`"
    assert isinstance(getattr(registered()[kind], "example", None), dict), f"{kind} has no `example`"


def test_every_config_and_rules_key_is_in_the_readme():
    keys = _keys(_ConfigFile) | _keys(_RulesFile)
    for cls in registered().values():
        keys |= _keys(cls.Options)
    keys -= {"kind"} | set(SourceOptions.model_fields) - {"brands", "every", "max_age", "enabled"}
    keys |= set(SourceOptions.model_fields) - {"id", "kind"}
    missing = sorted(k for k in keys if not _documented(k))
    assert missing == [], f"config/rules keys missing from the README: {missing}"


def _every_kind_config() -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "config/monitor.yaml").read_text())
    doc["sources"] = [{"id": f"src-{kind}", "kind": kind, **cls.example}
                      | ({"every": "5m"} if not issubclass(cls.Options, StreamOptions) else {})
                      for kind, cls in registered().items()]
    return doc


def test_shipped_schema_accepts_a_config_using_every_registered_kind():
    validator = jsonschema.Draft202012Validator(json.loads((schemas.HERE / "monitor.schema.json").read_text()))
    errors = [e.message for e in validator.iter_errors(_every_kind_config())]
    assert errors == []


def test_monitor_check_accepts_the_same_config(tmp_path):
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(_every_kind_config()))
    config = load_config(path)
    assert sorted(s.kind for s in config.sources) == sorted(registered())


@pytest.mark.parametrize("module", sorted(p.stem for p in (REPO / "monitor" / "analyse" / "sentiment").glob("*.py")
                                          if "\ndef main(" in p.read_text(encoding="utf-8")))
def test_every_sentiment_tool_is_in_the_readme(module: str) -> None:
    """The developer tools beside the `monitor` commands (train, evaluate, batches, distil, external)."""
    assert f"python -m monitor.analyse.sentiment.{module}" in README, module
