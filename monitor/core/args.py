"""One argument parser for every command and developer tool: a bad argument is ONE line and exit 2.

argparse's default prints the whole usage block before the reason, which buries it; the engineering standard
is one line naming what is wrong, never a traceback. ``monitor`` (``monitor.cli.parser``) and the developer
tools (``python -m monitor.analyse.sentiment.evaluate``, ``train``, ``batches``, ``external``, ``distil``) all
build this parser, so the message reads the same everywhere. It lives in ``monitor.core`` because the analysis
tools must not import the CLI package above them.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["USAGE_EXIT", "OneLineParser"]

#: The exit status of a usage error (the shell convention, and `monitor`'s EXIT_CONFIG).
USAGE_EXIT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr ("PROG: error: REASON (see `PROG --help`)") and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
