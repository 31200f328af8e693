"""Shared fixtures: a fresh database, local fake servers, and config files written for a test."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitor.core.clock import FakeClock
from monitor.store.database import Store
from tests.fakes.feeds import FeedServer
from tests.fakes.slack import TOKEN, FakeSlack

if TYPE_CHECKING:
    from monitor.analyse.sentiment import Scorer

RULES = """\
version: 1
owners:
  comms-oncall:  {slack: "#comms-alerts", mention: "@here"}
  support-lead:  {slack: "@U024BE7LH"}
  security:      {slack: "#security-incidents"}
  head-of-comms: {slack: "@U0HEAD"}
defaults:
  notify: comms-oncall
  group_wait: 1s        # tests want prompt announcements; the default (30s) is exercised by the SPEC rules
escalation_policies:
  critical:
    - notify: [security, head-of-comms]
    - after: 10m
      notify: head-of-comms
routes:
  - name: data-security
    match: {any: [breach, hacked, "data leak"]}
    escalation: critical
  - name: bad-review
    match: {source: [reviews, appstore], rating: {at_most: 2}}
    notify: support-lead
  - name: any-negative
    match: {sentiment: {below: -0.05}}
    notify: comms-oncall
"""


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on each storage backend: SQLite, then PostgreSQL (a fresh schema on the session's server).

    PostgreSQL is selected the way an operator selects it, through $MONITOR_DATABASE_URL, so every Store the
    test opens (an App, a CLI command in a subprocess) lands in the same schema. Returns "sqlite" or the URL.
    """
    if request.param == "postgres":
        from tests.pgserver import fresh_schema_url
        url = fresh_schema_url()
        monkeypatch.setenv("MONITOR_DATABASE_URL", url)
        return url
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


@pytest.fixture(autouse=True)
def _no_log_handler_outlives_its_test() -> Iterator[None]:
    """A test that runs `main()` calls `logs.setup()`, which puts the monitor's stream handler on the root logger over
    that test's captured stderr; left in place it wrote every later test's log lines to a closed stream ("--- Logging
    error --- ... I/O operation on closed file") and kept the root level it set. Each test now gets the root logger
    back as it found it (the monitor's handlers removed, the level restored); pytest's own capture handlers, which it
    adds and removes per phase, are left alone."""
    import logging

    from monitor.core.logs import RedactingFilter

    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and any(isinstance(f, RedactingFilter) for f in handler.filters):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _no_secret_outlives_its_test() -> Iterator[None]:
    """The secrets a test's code registers (`logs.add_secret`: a token read from a source's variable) are scrubbed
    from every later text in the process; one test's "revoked" (test_actions) turned a later test's Google answer
    "invalid_grant: Token has been expired or revoked" into "... or [REDACTED]" and failed it in the full suite
    only (round 23). Each test now starts with the registry as the suite found it."""
    from monitor.core import logs

    before = set(logs._EXTRA_SECRETS)
    yield
    logs._EXTRA_SECRETS.clear()
    logs._EXTRA_SECRETS.update(before)


@pytest.fixture(autouse=True)
def _whole_suite_on_postgres(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`MONITOR_TEST_BACKEND=postgres pytest`: every test whose App or CLI finds its database through the config
    gets a fresh PostgreSQL schema instead of the file (a soak of the translator; not part of `make test`)."""
    if os.environ.get("MONITOR_TEST_BACKEND") == "postgres" and "backend" not in request.fixturenames:
        from tests.pgserver import fresh_schema_url
        monkeypatch.setenv("MONITOR_DATABASE_URL", fresh_schema_url())


def db_target(backend: str, tmp_path: Path) -> str:
    return str(tmp_path / "monitor.db") if backend == "sqlite" else backend


@pytest.fixture
def fresh_db(tmp_path: Path, backend: str) -> Iterator[Store]:
    store = Store(db_target(backend, tmp_path), FakeClock())
    yield store
    store.close()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as srv:
        yield srv


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    return TOKEN


NO_SLACK = "http://127.0.0.1:9/api/"


def write_config(tmp_path: Path, *, sources: str, slack_url: str = NO_SLACK,
                 rules: str = RULES, brands: str | None = None, extra: str = "",
                 slack_mode: str | None = None) -> tuple[Path, Path]:
    """Write config/monitor.yaml and rules.yaml for a test; returns their paths."""
    brands = brands or """\
      acme:
        query: '"acme" OR @acme OR #acme NOT "acme brick"'
    """
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "brands:\n" + textwrap.indent(textwrap.dedent(brands), "  ")
        + "sources:\n" + textwrap.indent(textwrap.dedent(sources), "  ")
        + f"slack:\n  api_url: {slack_url}\n  per_channel_interval: 50ms\n"
        + f"  mode: {slack_mode or ('terminal' if slack_url == NO_SLACK else 'bot')}\n"
        + f"storage:\n  path: {tmp_path / 'monitor.db'}\n"
        + "http:\n  allow_private: true\n" + textwrap.dedent(extra))
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(rules)
    return cfg, rules_path


def cli(*argv: str) -> int:
    """`monitor ARGV` in this process, its exit status (argparse's usage exit too); the root logger is put back at
    once (main() points it at this test's stderr), not only when the test ends, so the test's own log checks that
    follow read only what they cause."""
    import logging

    from monitor.cli import main

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return main(list(argv))
    except SystemExit as exc:            # a usage error: argparse exits 2 after its one line
        return int(exc.code or 0)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture(scope="session")
def rules_scorer() -> Scorer:
    """The rule engine alone (no learned layer), one for the whole run: the table-driven verdict tests share it."""
    from monitor.analyse.sentiment import Scorer
    return Scorer(model=None)


@pytest.fixture(scope="session")
def shipped_scorer() -> Scorer:
    """The rules with the shipped learned layer, one for the whole run."""
    from monitor.analyse.sentiment import Scorer
    return Scorer()

