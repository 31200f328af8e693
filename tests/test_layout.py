"""The package layout holds: stages import only stages below them, and no two packages import each other.

Read from the source with `ast` (every import, including those inside functions), so a lazy import cannot
hide an upward edge. The order is the pipeline's, bottom up; a new package must be placed in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "monitor"
LAYERS = ["core", "store", "notify", "sources", "config", "analyse", "alerting", "respond", "ops", "runtime", "cli"]


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "monitor" or len(parts) < 2 or not (ROOT / parts[1]).is_dir():
        return None                                    # the root package (__version__) belongs to no stage
    return parts[1]


def _edges() -> set[tuple[str, str, str]]:
    edges = set()
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        here = _package_of(".".join(rel.parts))
        if here is None or here not in LAYERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = list(rel.parts[:-1] if path.name != "__init__.py" else rel.parts[:-1])
                    base = base[: len(base) - (node.level - 1)]
                    names = [".".join(base + ([node.module] if node.module else []))]
                elif node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                there = _package_of(name)
                if there and there != here:
                    edges.add((here, there, str(path.relative_to(ROOT.parent))))
    return edges


def test_every_package_is_placed_in_the_layer_order():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS), f"place new packages in LAYERS: {packages ^ set(LAYERS)}"


def test_no_package_imports_a_higher_stage():
    upward = sorted(f"{f}: {a} -> {b}" for a, b, f in _edges() if LAYERS.index(b) > LAYERS.index(a))
    assert upward == []


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = {p: set() for p in LAYERS}
    for a, b, _ in _edges():
        graph[a].add(b)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert [p for p in LAYERS if reaches(p, p, set())] == []


@pytest.mark.parametrize("package", LAYERS)
def test_every_package_says_what_it_owns_and_has_a_public_face(package):
    import importlib

    mod = importlib.import_module(f"monitor.{package}")
    assert mod.__doc__ and len(mod.__doc__.split()) >= 15, f"monitor.{package} needs a docstring"
    assert isinstance(getattr(mod, "__all__", None), list)
