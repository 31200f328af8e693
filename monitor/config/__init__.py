"""Config: `config/monitor.yaml` and `rules.yaml`, validated whole at load, then trusted.

The pydantic models of both files, their cross-checks (unknown owners, brands, kinds; unreachable routes),
errors reported all at once as `file:line key.path: message (hint)`, and the JSON Schemas generated from the
models and the one source-kind registry (`python -m monitor.config.schemas`).
"""

from __future__ import annotations

from monitor.config.rules import Rules, load_rules
from monitor.config.settings import Config, load_config

__all__ = ["Config", "Rules", "load_config", "load_rules"]
