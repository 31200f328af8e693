"""`python -m monitor.schemas`: regenerate the shipped JSON Schemas from the models."""

from __future__ import annotations

from . import write

for path in write():
    print(f"wrote {path}")
