"""The `monitor` command line: argument parsing, one handler per command, exit codes (0 ok, 1 runtime, 2 usage).

The top of the stack: it may import every stage, and nothing imports it. Command handlers are loaded lazily
so `monitor --help` does not pay for the daemon's imports.
"""

from __future__ import annotations

from monitor.cli.output import EXIT_CONFIG, EXIT_FAIL, EXIT_OK
from monitor.cli.parser import build_parser, main

__all__ = ["EXIT_CONFIG", "EXIT_FAIL", "EXIT_OK", "build_parser", "main"]
