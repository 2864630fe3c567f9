"""Several processes on one database (SPEC §8), the store contract against every backend: each
process sees only its shards' servers, a run is claimed once however many claim it at the same
moment, and IDENTIFY turns are handed out spaced, whoever asks."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.domain.shards import Shards, shard_of
from bot.domain.trivia import GameKind
from bot.store.base import Store
from tests.store.conftest import Backend
from tests.store.test_schedules_store import GRACE, NOW, add

COUNT = 3


def guild_in(shard: int, n: int = 1) -> int:
    """The n-th made-up server id that Discord puts on `shard` of COUNT."""
    guild = ((n * COUNT + shard) << 22) | n
    assert shard_of(guild, COUNT) == shard
    return guild


async def test_each_process_sees_only_its_shards_schedules_and_runs(backend: Backend) -> None:
    store = await backend.open()
    try:
        due = {shard: NOW + dt.timedelta(minutes=shard) for shard in range(COUNT)}
        made = {
            shard: await add(store, guild_in(shard), next_run_at=due[shard])
            for shard in range(COUNT)
        }
        no_server = await add(store, 0, next_run_at=NOW + dt.timedelta(minutes=5))  # shard 0's
        everything = Shards(COUNT, frozenset(range(COUNT)))

        assert await store.next_due_at() == due[0]
        assert await store.next_due_at(shards=everything) == due[0]
        assert await store.next_due_at(shards=Shards(COUNT, frozenset({1}))) == due[1]
        assert await store.next_due_at(shards=Shards(COUNT, frozenset({1, 2}))) == due[1]
        assert await store.next_due_at(shards=Shards(COUNT, frozenset({2}))) == due[2]

        later = NOW + dt.timedelta(minutes=10)
        one_and_two = Shards(COUNT, frozenset({1, 2}))
        claimed = await store.claim_due_runs(later, grace=GRACE, limit=10, shards=one_and_two)
        assert sorted(r.schedule.id for r in claimed) == [made[1].id, made[2].id]
        assert await store.claim_due_runs(later, grace=GRACE, limit=10, shards=one_and_two) == []
        zero = Shards(COUNT, frozenset({0}))
        assert [r.schedule.id for r in await store.unfinished_runs(shards=zero)] == []
        claimed_zero = await store.claim_due_runs(later, grace=GRACE, limit=10, shards=zero)
        assert sorted(r.schedule.id for r in claimed_zero) == sorted([made[0].id, no_server.id])

        def ids(runs: list) -> list[int]:  # type: ignore[type-arg]
            return sorted(r.schedule.id for r in runs)

        assert ids(await store.unfinished_runs(shards=zero)) == ids(claimed_zero)
        assert ids(await store.unfinished_runs(shards=one_and_two)) == ids(claimed)
        assert ids(await store.unfinished_runs(shards=Shards(COUNT, frozenset({2})))) == [
            made[2].id
        ]
        assert ids(await store.unfinished_runs()) == ids(claimed + claimed_zero)
        assert ids(await store.unfinished_runs(shards=Shards())) == ids(claimed + claimed_zero)
    finally:
        await store.close()


async def test_each_process_recovers_only_its_shards_games(store: Store) -> None:
    games = {}
    for shard in range(COUNT):
        games[shard] = await store.create_game(
            guild_id=guild_in(shard),
            channel_id=100 + shard,
            starter_id=1,
            kind=GameKind.GAME,
            difficulty="mixed",
            seconds=20,
            question_ids=["t-a"],
            choices=[["A", "B"]],
            started_at=NOW,
        )
    assert [g.id for g in await store.running_games()] == [games[s].id for s in range(COUNT)]
    two = await store.running_games(shards=Shards(COUNT, frozenset({2})))
    assert [g.id for g in two] == [games[2].id]
    zero_one = await store.running_games(shards=Shards(COUNT, frozenset({0, 1})))
    assert [g.id for g in zero_one] == [games[0].id, games[1].id]
    assert len(await store.running_games(shards=Shards(COUNT, None))) == COUNT


async def test_two_processes_claiming_at_once_claim_each_run_exactly_once(
    backend: Backend,
) -> None:
    """Both processes misconfigured to run the same shards, many schedules due at once, each
    claiming in several tasks: every run is claimed, and by one claimer only."""
    first, second = await backend.open(), await backend.open()
    try:
        schedules = 300
        for n in range(schedules):
            guild = guild_in(n % 2, n + 1)  # shards 0 and 1 of 3, both processes run them
            await add(first, guild, channel_id=10_000 + n, next_run_at=NOW, limit=1000)
        await add(first, guild_in(2), channel_id=9, next_run_at=NOW)  # nobody's here
        shards = Shards(COUNT, frozenset({0, 1}))
        now = NOW + dt.timedelta(seconds=1)

        async def claim_all(store: Store) -> list[tuple[int, dt.datetime]]:
            got: list[tuple[int, dt.datetime]] = []
            while runs := await store.claim_due_runs(now, grace=GRACE, limit=7, shards=shards):
                got += [(r.schedule.id, r.due_at) for r in runs]
            return got

        results = await asyncio.gather(*(claim_all(s) for s in [first, second] * 3))
        claimed = [run for result in results for run in result]
        assert len(claimed) == schedules
        assert len(set(claimed)) == schedules  # nobody claimed a run someone else had
        assert sum(1 for result in results if result) >= 2
        assert await backend.execute("SELECT COUNT(*) FROM schedule_runs") == [(schedules,)]
    finally:
        await first.close()
        await second.close()


async def test_identify_turns_are_spaced_whoever_asks(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    spacing = dt.timedelta(seconds=5)
    try:
        slots = await asyncio.gather(
            *(s.claim_identify_slot(0, NOW, spacing) for s in [first, second] * 5)
        )
        assert sorted(slots) == [NOW + n * spacing for n in range(10)]
        assert all(slot.tzinfo is not None for slot in slots)
        # Another bucket has turns of its own.
        assert await second.claim_identify_slot(1, NOW, spacing) == NOW
        # Long after the last turn, the next is at once.
        much_later = NOW + dt.timedelta(hours=1)
        assert await first.claim_identify_slot(0, much_later, spacing) == much_later
        assert await second.claim_identify_slot(0, much_later, spacing) == much_later + spacing
    finally:
        await first.close()
        await second.close()
