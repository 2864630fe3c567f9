"""`/daily` below Discord: the service `bot.services.daily` on a real SQLite store."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.config import DEFAULT_DATA_DIR
from bot.domain import daily
from bot.domain.clock import FakeClock
from bot.domain.dataset import load_dataset
from bot.domain.records import ChallengeDay
from bot.services.daily import DailyChallenge
from bot.store.sqlite import SQLiteStore

NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 10:00 in Seoul


class CountingStore(SQLiteStore):
    """The SQLite store, counting how often a day is read and pinned."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        super().__init__(path, clock)
        self.calls: Counter[str] = Counter()

    async def challenge_day(self, day: int) -> ChallengeDay | None:
        self.calls["read"] += 1
        await asyncio.sleep(0)  # let the other fans arrive meanwhile
        return await super().challenge_day(day)

    async def pin_challenge_day(
        self,
        day: int,
        question_ids: Sequence[str],
        choices: Sequence[Sequence[str]],
        at: dt.datetime,
    ) -> ChallengeDay:
        self.calls["pin"] += 1
        return await super().pin_challenge_day(day, question_ids, choices, at)


async def test_fans_arriving_together_on_a_new_day_pin_it_once(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    store = CountingStore(tmp_path / "lwa.sqlite3", clock)
    await store.open()
    try:
        service = DailyChallenge(store, load_dataset(DEFAULT_DATA_DIR), clock)
        progress = await asyncio.gather(*(service.play(fan, None) for fan in range(200)))
        assert {p.day.number for p in progress} == {daily.today_number(NOW)}
        assert len({tuple(q.id for q in p.day.questions) for p in progress}) == 1
        assert store.calls == Counter(read=1, pin=1)
        # A second process (no day in memory) reads what the first pinned.
        other = DailyChallenge(store, load_dataset(DEFAULT_DATA_DIR), clock)
        assert (await other.day(progress[0].day.number)) == progress[0].day
        assert store.calls == Counter(read=2, pin=1)
    finally:
        await store.close()
