"""JSON Schemas for rules.yaml and config/monitor.yaml, generated from the pydantic models that validate them.

Editors with yaml-language-server (VS Code's YAML extension, Neovim, JetBrains) validate and complete the two
files from these. Regenerate after changing a model: `python -m monitor.config.schemas` (a test fails when the
shipped files drift from the models).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FILES = {"rules.schema.json": "rules", "monitor.schema.json": "config"}


def rules_schema() -> dict[str, Any]:
    from monitor.config.rules import _RulesFile
    schema = _RulesFile.model_json_schema(by_alias=True, mode="validation")
    schema["title"] = "mention-monitor rules.yaml"
    return schema


def config_schema() -> dict[str, Any]:
    from monitor.config.settings import _ConfigFile
    from monitor.sources import REGISTRY
    schema = _ConfigFile.model_json_schema(by_alias=True, mode="validation")
    defs = schema.setdefault("$defs", {})
    variants = []
    for kind in sorted(REGISTRY):
        sub = REGISTRY[kind].Options.model_json_schema(by_alias=True, mode="validation")
        defs.update(sub.pop("$defs", {}))
        sub["properties"]["kind"] = {"const": kind, "description": REGISTRY[kind].summary()}
        sub.setdefault("required", [])
        if "kind" not in sub["required"]:
            sub["required"].append("kind")
        name = f"source_{kind}"
        defs[name] = sub
        variants.append({"$ref": f"#/$defs/{name}"})
    schema["properties"]["sources"] = {"type": "array", "items": {"oneOf": variants}, "title": "Sources"}
    schema["title"] = "mention-monitor config/monitor.yaml"
    return schema


def render(which: str) -> str:
    schema = rules_schema() if which == "rules" else config_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write() -> list[Path]:
    out = []
    for name, which in FILES.items():
        path = HERE / name
        path.write_text(render(which))
        out.append(path)
    return out
