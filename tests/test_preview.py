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
    official, official_cases = _official(monkeypatch)
    cases = {**official_cases,
        "rss": [feed_server.feed_url("/f.xml")],
        "reviews": [feed_server.feed_url("/r.html")],
        "twitter": ["acme", "--set", f"api_url={x.url}"],
        "hackernews": ["acme", "--set", f"api_url={hn.url}"],
        "reddit": ["acme", "--set", f"api_url={rd.url}"],
        "mastodon": ["#acme", "--set", f"instances=[{ms.url}]"],
        "bluesky": ["acme", "--set", f"api_url={bs.url}"],
        "appstore": ["284882215", "--set", f"api_url={ap.url}"],
    }
    servers: tuple = (x, hn, rd, ms, bs, ap, *official)
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


def _official(monkeypatch):
    """The official connectors: each fake holds one acme item, credentials come from the environment."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from monitor.sources.auth import CACHE
    from tests.fakes.brands import (
        AscReview,
        FakeAppStoreConnect,
        FakeGraph,
        FakeTrustpilot,
        GraphItem,
        TpReview,
    )
    from tests.fakes.google import Comment, FakeGoogle, PlaceReview, PlayReview, service_account_key
    CACHE.clear()
    g = FakeGoogle().start()
    monkeypatch.setenv("GOOGLE_PLAY_SERVICE_ACCOUNT", service_account_key(g))
    g.play["com.acme.app"] = [PlayReview("gp:1", "acme crashes", 1)]
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSy-preview-key")
    g.api_keys.add("AIzaSy-preview-key")
    channel = "UC" + "p" * 22
    g.comments[channel] = [Comment("Ugz1", "acme never answers")]
    g.clients["cid"] = ("GOCSPX-preview", "1//preview")
    for k, v in {"GOOGLE_BUSINESS_CLIENT_ID": "cid", "GOOGLE_BUSINESS_CLIENT_SECRET": "GOCSPX-preview",
                 "GOOGLE_BUSINESS_REFRESH_TOKEN": "1//preview"}.items():
        monkeypatch.setenv(k, v)
    g.places["accounts/1/locations/2"] = [PlaceReview("r1", 2, "acme was rude")]
    key = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setenv("APPSTORE_CONNECT_KEY_ID", "KEY1234567")
    monkeypatch.setenv("APPSTORE_CONNECT_ISSUER_ID", "issuer-preview")
    monkeypatch.setenv("APPSTORE_CONNECT_PRIVATE_KEY", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    asc = FakeAppStoreConnect("KEY1234567", "issuer-preview", key.public_key()).start()
    asc.reviews["1234567890"] = [AscReview("a1", "Bad", "acme lost my data", 1)]
    monkeypatch.setenv("TRUSTPILOT_API_KEY", "tp-preview-key")
    tp = FakeTrustpilot("tp-preview-key").start()
    bu = "4bdc5ce8000064000500a1b2"
    tp.reviews[bu] = [TpReview("5f1", "Slow", "acme shipping is slow", 2)]
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "EAAG-preview")
    fb = FakeGraph("EAAG-preview").start()
    fb.visitor_posts = [GraphItem("v1", "acme, answer me")]
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "THQW-preview")
    th = FakeGraph("THQW-preview").start()
    th.threads = [GraphItem("t1", "acme thread")]
    cases = {
        "googleplay": ["com.acme.app", "--set", f"api_url={g.url}"],
        "youtube": [channel, "--set", f"api_url={g.url}"],
        "googlebusiness": ["accounts/1/locations/2", "--set", f"api_url={g.url}", "--set", f"token_url={g.url}/token"],
        "appstoreconnect": ["1234567890", "--set", f"api_url={asc.url}"],
        "trustpilot": [bu, "--set", f"api_url={tp.url}"],
        "facebook": ["acme", "--set", f"api_url={fb.url}", "--set", "include=[visitor_posts]"],
        "threads": ["acme", "--set", f"api_url={th.url}"],
    }
    return (g, asc, tp, fb, th), cases


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


def test_preview_says_per_item_whether_it_would_alert_and_why_not(tmp_path, capsys, feed_server):
    from tests.conftest import write_config
    now = time.time()
    feed_server.feeds["/judge.xml"] = Feed([
        Item("a", "Acme support is terrible", "Acme customer service was rude and awful", published=now - 60),
        Item("b", "I love my Acme blender", "Great product, wonderful", published=now - 60),
        Item("c", "Terrible weather", "Awful rain today", published=now - 60),
        Item("d", "Acme was awful", "Acme lost my order, terrible", published=now - 10 * 86400),
    ])
    cfg, rules = write_config(tmp_path, sources="[]\n")
    code = main(["preview", "rss", feed_server.feed_url("/judge.xml"), "--config", str(cfg), "--rules", str(rules)])
    out = capsys.readouterr().out
    items = {i["external_id"]: i for i in (json.loads(ln) for ln in out.splitlines())}
    assert code == 0
    a, b, c, d = (items[k] for k in "abcd")
    assert a["brands"] == ["acme"] and a["negative"] and a["would_alert"] and a["why_not"] is None
    assert a["score"] < 0 and a["routes"] and "issue" in a
    assert b["brands"] == ["acme"] and not b["would_alert"] and b["why_not"] == "not negative"
    assert c["brands"] == [] and c["why_not"] == "no brand matched"
    assert not d["would_alert"] and d["why_not"].startswith("too old: published 10d ago, max_age is 3d")
