"""The mastodon kind against local instances: tag timelines, search, min_id paging, cross-instance dedup."""

from __future__ import annotations

import pytest

from monitor.core.errors import SourceAuthError
from monitor.sources import SourceState
from tests.fakes.harness import collect
from tests.fakes.social import FakeMastodon, Status


@pytest.fixture
def masto():
    with FakeMastodon() as srv:
        yield srv


def test_tag_timeline(masto):
    masto.statuses += [Status(101, "<p>My <a href='x'>#acme</a> router died</p>", ["acme"], followers=900,
                              created=1_763_000_000),
                       Status(102, "<p>other</p>", ["other"])]
    result = collect("mastodon", {"instances": [masto.url], "tags": ["#acme"]})
    (m,) = result.mentions
    assert m.text == "My #acme router died" and m.reach == 900 and m.author == "@alice@mastodon.test"
    assert m.url == "https://mastodon.test/@alice/101" and m.published == 1_763_000_000.0 and m.language == "en"
    assert result.cursor == {f"{masto.url} #acme": "101"}


def test_min_id_pages_forward_without_gaps(masto):
    masto.statuses += [Status(i, f"acme {i}", ["acme"]) for i in range(1, 4)]
    first = collect("mastodon", {"instances": [masto.url], "tags": ["acme"], "page_size": 2})
    masto.statuses += [Status(i, f"acme {i}", ["acme"]) for i in range(10, 15)]
    second = collect("mastodon", {"instances": [masto.url], "tags": ["acme"], "page_size": 2},
                     SourceState(cursor=first.cursor))
    assert sorted(int(m.external_id.rsplit("/", 1)[1]) for m in second.mentions) == [10, 11, 12, 13, 14]
    assert second.cursor == {f"{masto.url} #acme": "14"}
    assert "min_id=3" in masto.requests[1].query


def test_same_post_on_two_instances_is_one_mention():
    with FakeMastodon("a.test") as a, FakeMastodon("b.test") as b:
        uri = "https://a.test/users/alice/statuses/7"
        a.statuses.append(Status(7, "acme rocks", ["acme"], uri=uri))
        b.statuses.append(Status(99, "acme rocks", ["acme"], acct="alice@a.test", uri=uri))
        result = collect("mastodon", {"instances": [a.url, b.url], "tags": ["acme"]})
    assert [m.external_id for m in result.mentions] == [uri]


def test_search_with_a_refused_token_disables(masto, monkeypatch):
    masto.token = "right-token-123"
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "wrong-token-456")
    with pytest.raises(SourceAuthError):
        collect("mastodon", {"instances": [masto.url], "query": "acme"})


def test_search_with_token(masto, monkeypatch):
    masto.token = "right-token-123"
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "right-token-123")
    masto.statuses.append(Status(5, "acme search hit"))
    result = collect("mastodon", {"instances": [masto.url], "query": "acme"})
    assert len(result.mentions) == 1


def test_tags_or_query_required():
    with pytest.raises(ValueError, match="tags"):
        collect("mastodon", {"instances": ["https://x.test"]})


def test_api_url_is_the_one_instance_regression(monkeypatch):
    """Bug: the README documents api_url for every kind with a remote API; mastodon refused it."""
    from tests.fakes.social import FakeMastodon, Status
    with FakeMastodon() as srv:
        srv.statuses.append(Status(1, "acme down", ["acme"]))
        result = collect("mastodon", {"tags": ["acme"], "api_url": srv.url})
        assert [m.text for m in result.mentions] == ["acme down"]
    with pytest.raises(ValueError, match="not both"):
        collect("mastodon", {"tags": ["acme"], "api_url": "https://a.example", "instances": ["https://b.example"]})
