"""Source kinds, one module each, registered by their `kind` name (urlwatch's jobs, in spirit).

Importing this package imports every collector module, so the registry is complete wherever it is used.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Collector, CollectResult, SourceOptions, SourceState, register, registered

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name != "base" and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["REGISTRY", "CollectResult", "Collector", "SourceOptions", "SourceState", "register", "registered"]
