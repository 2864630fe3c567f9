"""Text search over the dataset (SPEC §4 `/quote search`): case-, accent- and
punctuation-insensitive word matching."""

from __future__ import annotations

import re
import unicodedata

# Apostrophes vanish before matching, so "dont" finds "don't" and "don’t".
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`")
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Case- and accent-insensitive form of `text`: "Café" and "CAFE" both become "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # NFC afterwards puts Hangul syllables (decomposed by NFKD) back together.
    return unicodedata.normalize("NFC", without_marks.casefold())


def words(text: str) -> list[str]:
    """The normalized words of `text`, punctuation dropped ("Dong-hwan" -> dong, hwan)."""
    return _WORD.findall(normalize(text).translate(_APOSTROPHES))


def matches_all_words(text: str, query: str) -> bool:
    """True when every word of `query` occurs in `text`, ignoring case, accents and
    punctuation. An empty query matches everything."""
    haystack = " ".join(words(text))
    return all(word in haystack for word in words(query))
