"""The reviews kind: JSON-LD and microdata through extruct, rating normalisation, selectors, layout drift."""

from __future__ import annotations

import pytest

from monitor.sources import SourceState
from monitor.sources.kinds.reviews import normalise_rating
from tests.fakes.feeds import Feed
from tests.fakes.harness import collect
from tests.fakes.reviews import jsonld_page, microdata_page, plain_page

HTML = "text/html; charset=utf-8"


def _serve(feed_server, path, body):
    feed_server.feeds[path] = Feed(raw=body, content_type=HTML)
    return feed_server.feed_url(path)


@pytest.mark.parametrize("value,best,worst,expected", [
    ("4", None, None, 4.0), (2, 10, 0, 1.8), ("8", "10", None, 4.2), ("4,5", "5", "1", 4.5),
    (0, 100, 0, 1.0), (100, 100, 0, 5.0), ("n/a", None, None, None), (3, 3, 3, None)])
def test_rating_normalised_to_1_5(value, best, worst, expected):
    assert normalise_rating(value, best, worst) == expected


@pytest.mark.parametrize("value,best,worst", [
    ("0", None, None), (0, "5", "1"), ("6", "5", "1"), (11, 10, 0), (-1, 100, 0), (float("nan"), None, None),
    (float("inf"), None, None), ("NaN", None, None), (True, None, None), (False, "5", "1")])
def test_rating_outside_the_page_scale_is_no_rating_regression(value, best, worst):
    """Bug: "0" (recipe sites' unrated comment) was clamped to 1 star, so a delighted comment was negative."""
    assert normalise_rating(value, best, worst) is None


def test_jsonld_reviews(feed_server):
    url = _serve(feed_server, "/jsonld", jsonld_page([
        {"author": {"@type": "Person", "name": "Ann"}, "datePublished": "2026-11-20", "name": "Dead in a week",
         "reviewBody": "Acme router stopped working", "reviewRating": {"ratingValue": "2", "bestRating": "10",
                                                                         "worstRating": "0"}}],
        aggregate={"ratingValue": "3.1", "reviewCount": "120"}))
    result = collect("reviews", {"url": url})
    (m,) = result.mentions                                  # aggregate ignored unless asked for
    assert (m.author, m.rating, m.title, m.text, m.url) == ("Ann", 1.8, "Dead in a week",
                                                            "Acme router stopped working", url)
    assert m.published == 1_795_132_800.0
    assert result.cursor == {"last_count": 1}


def test_aggregate_rating_on_request(feed_server):
    url = _serve(feed_server, "/agg", jsonld_page([], aggregate={"ratingValue": "2.1", "reviewCount": "1200"}))
    (m,) = collect("reviews", {"url": url, "aggregate": True}).mentions
    assert m.rating == 2.1 and m.text == "Average rating 2.1/5 from 1,200 reviews"


def test_microdata_reviews(feed_server):
    url = _serve(feed_server, "/md", microdata_page([("Bob", "1", "2026-11-21", "Awful support"),
                                                     ("Cy", "5", "2026-11-22", "Great")]))
    result = collect("reviews", {"url": url})
    assert sorted((m.author, m.rating, m.text) for m in result.mentions) == [
        ("Bob", 1.0, "Awful support"), ("Cy", 5.0, "Great")]


def test_css_selector_fallback(feed_server):
    url = _serve(feed_server, "/plain", plain_page([("r1", "Dee", 2, "Acme broke"), ("r2", "Eve", 10, "Fine")]))
    selectors = {"review": "article.rev", "text": "p.body", "author": ".who", "id": "::attr(data-id)",
                 "rating": ".stars::attr(data-score)", "rating_best": 10, "rating_worst": 0}
    result = collect("reviews", {"url": url, "selectors": selectors})
    assert sorted((m.external_id, m.author, m.rating, m.text) for m in result.mentions) == [
        ("r1", "Dee", 1.8, "Acme broke"), ("r2", "Eve", 5.0, "Fine")]


def test_unknown_selector_key_is_a_config_error():
    with pytest.raises(ValueError, match="extra"):
        collect("reviews", {"url": "https://x.example/", "selectors": {"review": "a", "text": "b", "txet": "c"}})


def test_layout_drift_warns_when_reviews_vanish(feed_server):
    url = _serve(feed_server, "/drift", microdata_page([("Bob", "1", "2026-11-21", "Awful")]))
    first = collect("reviews", {"url": url})
    assert len(first.mentions) == 1 and not first.warnings
    feed_server.feeds["/drift"] = Feed(raw=b"<html><body><div class='new-layout'>Awful</div></body></html>",
                                       content_type=HTML)
    second = collect("reviews", {"url": url}, SourceState(cursor=first.cursor))
    assert second.mentions == [] and "layout may have changed" in second.warnings[0]
    assert second.cursor == {"last_count": 1}               # keeps warning until reviews come back


def test_page_without_reviews_never_seen_is_quiet(feed_server):
    url = _serve(feed_server, "/none", b"<html><body>nothing</body></html>")
    result = collect("reviews", {"url": url})
    assert result.mentions == [] and result.warnings == []


def test_conditional_get(feed_server):
    url = _serve(feed_server, "/c", microdata_page([("Bob", "1", "2026-11-21", "Awful")]))
    first = collect("reviews", {"url": url})
    second = collect("reviews", {"url": url}, SourceState(cursor=first.cursor, etag=first.etag,
                                                          last_modified=first.last_modified))
    assert second.not_modified and feed_server.not_modified["/c"] == 1
