"""Exit codes and JSON printing shared by the parser and every command (so neither imports the other)."""

from __future__ import annotations

import json
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))
