"""Text search: case-, accent- and punctuation-insensitive word matching."""

from __future__ import annotations

import pytest

from bot.domain.search import matches_all_words, normalize


def test_normalize_ignores_case_and_accents() -> None:
    assert normalize("Café") == normalize("CAFE") == "cafe"
    assert normalize("Straße") == "strasse"
    assert normalize("사랑") == "사랑"  # Hangul comes back whole, not as loose jamo


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Seo Dong-hwan", "seo dong hwan"),
        ("seo dong hwan", "Seo Dong-hwan"),
        ("He left the café.", "CAFE"),
        ("The camcorder was IU's idea", "idea camcorder"),
        ("don’t cry", "dont"),
        ("anything", ""),
        ("사랑은 이긴다", "사랑"),
    ],
)
def test_matches_all_words(text: str, query: str) -> None:
    assert matches_all_words(text, query)


@pytest.mark.parametrize(
    ("text", "query"),
    [("The camcorder", "camcorder camera"), ("Seo Dong-hwan", "kim"), ("café", "cafes")],
)
def test_matches_all_words_needs_every_word(text: str, query: str) -> None:
    assert not matches_all_words(text, query)
