"""The appstore kind against a local customer-reviews JSON feed: ratings, countries, the app entry."""

from __future__ import annotations

import pytest

from monitor.core.errors import FetchError
from tests.fakes.harness import collect
from tests.fakes.social import AppReview, FakeAppStore


@pytest.fixture
def store():
    with FakeAppStore() as srv:
        srv.reviews[("us", "284882215")] = [AppReview("9001", "Crashes", "Acme app crashes on launch", 1,
                                                      updated=1_763_000_000)]
        srv.reviews[("fr", "284882215")] = [AppReview("9002", "Super", "Très bonne appli", 5),
                                            AppReview("9003", "Bof", "Moyen", 3)]
        yield srv


def test_reviews_with_ratings_per_country(store):
    result = collect("appstore", {"app_id": "https://apps.apple.com/us/app/acme/id284882215",
                                  "countries": ["us", "FR"], "api_url": store.url})
    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {"us:9001", "fr:9002", "fr:9003"}
    m = by_id["us:9001"]
    assert (m.rating, m.title, m.text, m.author, m.published) == (
        1.0, "Crashes", "Acme app crashes on launch", "Customer", 1_763_000_000.0)
    assert m.raw["version"] == "1.2"
    assert store.requests[0].path == "/us/rss/customerreviews/page=1/id=284882215/sortby=mostrecent/json"


def test_single_review_is_an_object_not_a_list(store):
    store.include_app_entry = False
    result = collect("appstore", {"app_id": "284882215", "api_url": store.url})
    assert [m.external_id for m in result.mentions] == ["us:9001"]


def test_unknown_app_is_a_fetch_error(store):
    with pytest.raises(FetchError, match="404"):
        collect("appstore", {"app_id": "284882215", "api_url": store.url + "/x"})


def test_bad_app_id_is_a_config_error():
    with pytest.raises(ValueError, match="App Store id"):
        collect("appstore", {"app_id": "acme"})
