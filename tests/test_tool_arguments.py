"""Every developer tool, like every `monitor` command, answers a bad argument with ONE line and exit 2 (the
engineering standard): one parser, monitor.core.args.OneLineParser. Regression: `batches` without --baseline or
--probe, and any tool given an unknown option, printed argparse's whole usage block before the reason."""

from __future__ import annotations

import importlib

import pytest

TOOLS = ["evaluate", "train", "batches", "external", "distil"]


@pytest.mark.parametrize("tool", TOOLS)
def test_an_unknown_option_is_one_line_and_exit_2(tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(f"monitor.analyse.sentiment.{tool}")
    with pytest.raises(SystemExit) as exc:
        module.main(["--no-such-option"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"python -m monitor.analyse.sentiment.{tool}: error: ")
    assert "unrecognized arguments: --no-such-option" in err or "is required" in err    # batches: its group first
    assert err.rstrip().endswith(f"(see `python -m monitor.analyse.sentiment.{tool} --help`)")


@pytest.mark.parametrize(("args", "reason"), [
    ([], "one of the arguments --baseline --probe is required"),
    (["--baseline", "/nonexistent/train.tsv"], "--baseline: no such file: /nonexistent/train.tsv"),
    (["--probe", "/nonexistent/writer.tsv"], "--probe: no such file: /nonexistent/writer.tsv"),
])
def test_batches_says_what_is_missing_in_one_line(args: list[str], reason: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.analyse.sentiment.batches import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and reason in err


def test_monitor_and_the_tools_share_one_parser() -> None:
    from monitor.cli import parser
    from monitor.core.args import OneLineParser

    assert parser._Parser is OneLineParser
