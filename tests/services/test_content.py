"""What the content service draws (SPEC §4, §6), on a real SQLite store: one rotation per
channel across filters, and a plain fact about the song's story."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.domain.clock import FakeClock
from bot.domain.dataset import load_dataset
from bot.services.content import BagScope, ContentService
from bot.store.sqlite import SQLiteStore

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
CHANNEL = BagScope(42, exclusive=True)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "lwa.sqlite3", FakeClock(NOW))
    await store.open()
    yield store
    await store.close()


async def test_a_plain_quote_after_filtered_ones_is_not_one_shown_this_round(
    store: SQLiteStore,
) -> None:
    data = load_dataset(DEFAULT_DATA_DIR)
    content = ContentService(data, store, FakeClock(NOW), random.Random(7))
    v_quotes = {q.id for q in data.quotes if q.speaker == "v"}
    shown = [(await content.quote(CHANNEL, speaker="v")).id for _ in range(8)]
    assert set(shown) <= v_quotes and len(set(shown)) == 8
    for _ in range(len(data.quotes) - 8):
        shown.append((await content.quote(CHANNEL)).id)
    assert sorted(shown) == sorted(q.id for q in data.quotes)  # one round, no repeat


async def test_a_plain_fact_is_about_the_story_and_a_topic_still_reaches_the_rest(
    store: SQLiteStore,
) -> None:
    data = load_dataset(DEFAULT_DATA_DIR)
    aside = next(f for f in data.facts if not f.aside)
    facts = tuple(dataclasses.replace(f, aside=True) if f is aside else f for f in data.facts)
    data = dataclasses.replace(data, facts=facts)
    story = [f.id for f in facts if not f.aside]
    assert len(story) < len(facts) - 1  # the shipped dataset sets some aside too
    content = ContentService(data, store, FakeClock(NOW), random.Random(1))
    plain = [(await content.fact(CHANNEL)).id for _ in range(len(story))]
    assert sorted(plain) == sorted(story)  # the story's facts, each once, none set aside
    on_topic = [f for f in data.facts if f.topic == aside.topic]
    drawn = {(await content.fact(CHANNEL, aside.topic)).id for _ in range(len(on_topic))}
    assert aside.id in drawn
