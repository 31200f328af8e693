"""`kind: imap` against a real Dovecot over IMAPS: email in -> alert; UID cursor; UIDVALIDITY; refused login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.errors import SourceAuthError
from monitor.runtime.daemon import App, Paths, run_once
from monitor.sources import SourceState
from tests.conftest import write_config
from tests.fakes.dovecot import PASSWORD, USER, Dovecot, ensure_installed
from tests.fakes.harness import collect
from tests.fakes.slack import FakeSlack


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    why = ensure_installed()
    if why:
        pytest.skip(why)
    server = Dovecot().start()
    yield server
    server.close()


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_USER", USER)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)


def _opts(d: Dovecot, **extra: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": d.port, "ca_file": str(d.cert), "user_env": "TEST_IMAP_USER",
            "password_env": "TEST_IMAP_PASSWORD", **extra}


def test_an_email_in_the_mailbox_becomes_an_alert(tmp_path: Path, dovecot: Dovecot, creds: None, slack_env: str,
                                                  fake_slack: FakeSlack) -> None:
    dovecot.deliver("My Acme blender arrived broken", "It is awful, the lid is cracked and support is useless.",
                    sender="Jane Doe <jane.doe@example.com>")
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: support-mail
          kind: imap
          host: 127.0.0.1
          port: {dovecot.port}
          ca_file: {dovecot.cert}
          user_env: TEST_IMAP_USER
          password_env: TEST_IMAP_PASSWORD
          every: 1m
    """)
    app = App(Paths(str(cfg), str(rules)))
    try:
        out = run_once(app, delivery_budget_s=10)
        assert out["failed"] == 0 and out["new_mentions"] >= 1
        [post] = fake_slack.posts("#comms-alerts")
        shown = json.dumps(post.args["blocks"])
        assert "lid is cracked" in shown and "jane.doe@example.com" in shown
        assert app.store.one("SELECT cursor FROM sources WHERE id = 'support-mail'")["cursor"]
        again = run_once(app, delivery_budget_s=5)
        assert again["new_mentions"] == 0 and len(fake_slack.posts()) == 1
    finally:
        app.close()


def test_uid_cursor_reads_only_new_mail_and_never_marks_it_read(dovecot: Dovecot, creds: None) -> None:
    first = collect("imap", _opts(dovecot))
    seen = {m.external_id for m in first.mentions}
    assert first.cursor and first.cursor["uid"] >= 1 and first.cursor["uidvalidity"] > 0
    mid = dovecot.deliver("Acme invoice wrong", "You charged me twice.")
    second = collect("imap", _opts(dovecot), SourceState(cursor=first.cursor))
    assert [m.external_id for m in second.mentions] == [mid]
    assert second.mentions[0].raw["contact"] == "jane@example.com" and mid not in seen
    assert second.cursor["uid"] > first.cursor["uid"]
    third = collect("imap", _opts(dovecot), SourceState(cursor=second.cursor))
    assert third.mentions == [] and third.cursor == second.cursor
    assert not list((dovecot.maildir / "cur").glob("*:2,*S*"))          # EXAMINE + BODY.PEEK: nothing \\Seen


def test_a_new_uidvalidity_reads_the_mailbox_again_and_says_so(dovecot: Dovecot, creds: None) -> None:
    before = collect("imap", _opts(dovecot))
    dovecot.reset_uidvalidity()
    after = collect("imap", _opts(dovecot), SourceState(cursor=before.cursor))
    assert after.cursor["uidvalidity"] != before.cursor["uidvalidity"]
    assert any("UIDVALIDITY changed" in w for w in after.warnings)
    assert {m.external_id for m in after.mentions} == {m.external_id for m in before.mentions}   # same Message-IDs


def test_a_refused_login_disables_the_source(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_USER", USER)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(SourceAuthError, match="refused the login"):
        collect("imap", _opts(dovecot))
