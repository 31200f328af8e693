"""`monitor preview KIND TARGET` for every kind against the local fakes; failures are one line and exit 1."""

from __future__ import annotations

import json
import time

import pytest

from monitor.cli import main
from monitor.sources import is_polled, registered
from tests.fakes.dovecot import PASSWORD, USER, Dovecot, ensure_installed
from tests.fakes.feeds import Feed, Item
from tests.fakes.reviews import microdata_page
from tests.fakes.server import Reply
from tests.fakes.social import (
    AppReview,
    FakeAlgolia,
    FakeAppStore,
    FakeBluesky,
    FakeMastodon,
    FakeReddit,
    Hit,
    Post,
    Skeet,
    Status,
)
from tests.fakes.twitter import BEARER, FakeX, Tweet


def _preview(capsys, tmp_path, *argv):
    code = main(["preview", *argv, "--config", str(tmp_path / "none.yaml")])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def _servers(feed_server, monkeypatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    feed_server.feeds["/f.xml"] = Feed([Item("g1", "Acme outage")])
    feed_server.feeds["/r.html"] = Feed(raw=microdata_page([("Bob", "1", "2026-11-21", "Acme awful")]),
                                        content_type="text/html")
    x, hn, rd, ms, bs, ap = FakeX(), FakeAlgolia(), FakeReddit(), FakeMastodon(), FakeBluesky(), FakeAppStore()
    x.add(Tweet(1, "acme tweet"))
    hn.hits.append(Hit(1, "acme story", created=time.time()))
    rd.posts.append(Post("p1", "acme post"))
    ms.statuses.append(Status(1, "acme toot", ["acme"]))
    bs.posts.append(Skeet("k1", "acme skeet"))
    ap.reviews[("us", "284882215")] = [AppReview("1", "Bad", "acme crashes", 1)]
    for s in (x, hn, rd, ms, bs, ap):
        s.start()
    cases = {
        "rss": [feed_server.feed_url("/f.xml")],
        "reviews": [feed_server.feed_url("/r.html")],
        "twitter": ["acme", "--set", f"api_url={x.url}"],
        "hackernews": ["acme", "--set", f"api_url={hn.url}"],
        "reddit": ["acme", "--set", f"api_url={rd.url}"],
        "mastodon": ["#acme", "--set", f"instances=[{ms.url}]"],
        "bluesky": ["acme", "--set", f"api_url={bs.url}"],
        "appstore": ["284882215", "--set", f"api_url={ap.url}"],
    }
    servers: tuple = (x, hn, rd, ms, bs, ap)
    why = ensure_installed()
    if why:
        for s in servers:
            s.stop()
        pytest.skip(f"imap: {why}")
    mail = Dovecot().start()
    mail.deliver("acme mail", "acme is down")
    monkeypatch.setenv("IMAP_USER", USER)
    monkeypatch.setenv("IMAP_PASSWORD", PASSWORD)
    cases["imap"] = ["127.0.0.1", "--set", f"port={mail.port}", "--set", f"ca_file={mail.cert}"]
    return cases, (*servers, mail)


def test_preview_works_for_every_kind(capsys, tmp_path, feed_server, monkeypatch):
    cases, servers = _servers(feed_server, monkeypatch)
    try:
        assert set(cases) == {k for k in registered() if is_polled(k)}   # a new polled kind must be added here
        for kind, argv in cases.items():
            code, items, err = _preview(capsys, tmp_path, kind, *argv)
            assert code == 0, (kind, err)
            assert len(items) == 1 and "acme" in (items[0]["text"] + (items[0]["title"] or "")).lower(), (kind, items)
            assert "1 item(s)" in err
    finally:
        for s in servers:
            s.close() if isinstance(s, Dovecot) else s.stop()


def test_preview_failures_are_one_line_exit_1(capsys, tmp_path, feed_server, monkeypatch):
    feed_server.feeds["/500"] = Feed(reply=Reply(500, b"boom"))
    code, _, err = _preview(capsys, tmp_path, "rss", feed_server.feed_url("/500"))
    assert code == 1 and err.strip().splitlines() == [f"monitor: preview failed: HTTP 500 from {feed_server.url[7:]}"]
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    code, _, err = _preview(capsys, tmp_path, "twitter", "acme")
    assert code == 1 and err.strip() == "monitor: preview failed: no bearer token in $TWITTER_BEARER_TOKEN"
    feed_server.feeds["/junk"] = Feed(reply=Reply(200, b"{not json", {"Content-Type": "application/json"}))
    code, _, err = _preview(capsys, tmp_path, "hackernews", "acme", "--set", f"api_url={feed_server.url}/junk")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv,needle", [(["nope", "x"], "unknown source kind"),
                                         (["rss", "ftp://x"], "must start with http"),
                                         (["appstore", "acme"], "App Store id"),
                                         (["rss", "https://x.example/", "--set", "bogus=1"], "bogus")])
def test_bad_targets_are_usage_errors(capsys, tmp_path, argv, needle):
    code, _, err = _preview(capsys, tmp_path, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
