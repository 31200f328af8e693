"""`python -m monitor.config.schemas`: regenerate the shipped JSON Schemas from the models."""

from __future__ import annotations

from monitor.config.schemas import write

for path in write():
    print(f"wrote {path}")
