"""Every default reply fits a phone screen, in English and in Korean: at most REPLY_LIMIT
visible characters, over the whole shipped dataset, and the quote, fact or question itself is
never cut (issues #14, #21).

The measurement is the benchmark's (`uv run python -m benchmarks.reply_length` prints the table).
"""

from __future__ import annotations

import functools

import pytest

from benchmarks.reply_length import REPLY_LIMIT, Reply, is_default, measure, visible
from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.i18n import LANGUAGES, Language


@functools.cache
def replies() -> tuple[Reply, ...]:
    return tuple(measure(load_dataset(DEFAULT_DATA_DIR)))


def kinds() -> list[tuple[Language, str]]:
    return list(dict.fromkeys((r.language, r.kind) for r in replies() if is_default(r.kind)))


# One test per language (measuring at collection would cost every test process a second).
@pytest.mark.parametrize("language", LANGUAGES, ids=str)
def test_a_default_reply_fits_a_phone(language: Language) -> None:
    over = [
        (r.kind, r.key, r.length)
        for r in replies()
        if r.language == language and is_default(r.kind) and r.length > REPLY_LIMIT
    ]
    assert over == [], f"{language}: over {REPLY_LIMIT} visible characters: {over}"


def test_what_the_fan_asked_for_is_never_cut() -> None:
    assert [(r.language, r.kind, r.key) for r in replies() if not r.whole] == []


@pytest.mark.parametrize("language", LANGUAGES, ids=str)
def test_every_kind_and_every_item_is_measured(language: Language) -> None:
    data = load_dataset(DEFAULT_DATA_DIR)
    count = {
        kind: sum(r.language == language and r.kind == kind for r in replies())
        for _, kind in kinds()
    }
    assert count["/quote"] == len(data.quotes)
    assert count["/fact"] == len(data.facts)
    assert count["trivia reveal (6 players)"] == len(data.questions)
    assert count["/onthisday (a day with events)"] + count["/onthisday (an empty day)"] == 366


def test_visible_text_counts_what_discord_shows() -> None:
    assert visible("[NME](https://www.nme.com/x_(y)) · 16 Jan 2024") == "NME · 16 Jan 2024"
    assert visible("**1.** <@123456789012345678> — <t:1700000000:R>") == (
        "1. @xxxxxxxxxxx — in 20 seconds"
    )
    assert visible("> `quoted`") == "quoted"
