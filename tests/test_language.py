"""Language detection: common languages, unsure cases, determinism."""

from __future__ import annotations

import pytest

from monitor.analyse.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The delivery was late and the box was damaged", "en"),
        ("Still waiting for my order, 3 weeks now", "en"),
        ("le support technique était impoli et inutile", "fr"),
        ("Je ne suis pas content du tout de ce produit", "fr"),
        ("Der Kundenservice war unfreundlich und hat nicht geholfen", "de"),
        ("El pedido llegó tarde y el producto está roto", "es"),
        ("カスタマーサポートの対応が最悪でした", "ja"),
        ("ありがとう", "ja"),
    ],
)
def test_detects(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "😀😀🔥", "👍", "ok", "@someone #tag http://example.com/x"])
def test_unsure_is_none(text: str) -> None:
    assert detect_language(text) is None


def test_ignores_urls_and_handles() -> None:
    assert detect_language("@acme_support https://t.co/abc the app keeps crashing on my phone") == "en"


def test_deterministic() -> None:
    text = "Le colis est arrivé en retard"
    assert {detect_language(text) for _ in range(20)} == {"fr"}
    assert detect_language.__wrapped__(text) == "fr"  # same answer without the cache
