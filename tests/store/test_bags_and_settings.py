"""The store contract, against every backend: settings, notes and shuffle bags survive a
restart, and concurrent draws never hand out the same item (SPEC §4, §7)."""

from __future__ import annotations

import asyncio
import json
import random

from bot.store.base import Store
from tests.store.conftest import Backend


async def bag(backend: Backend, scope_id: int, kind: str, filter_key: str) -> list[str]:
    rows = await backend.execute(
        "SELECT remaining FROM shuffle_bags WHERE scope_id = ? AND kind = ? AND filter_key = ?",
        scope_id,
        kind,
        filter_key,
    )
    return list(json.loads(rows[0][0])) if rows else []


async def test_reopening_keeps_settings_and_notes(backend: Backend) -> None:
    store = await backend.open()
    await store.set_meta("command_sync_hash", "abc")
    await store.set_guild_timezone(42, "Asia/Seoul")
    await store.close()

    store = await backend.open()  # a restart
    try:
        assert await store.get_meta("command_sync_hash") == "abc"
        assert await store.guild_timezone(42) == "Asia/Seoul"
        assert await store.guild_timezone(43) is None
    finally:
        await store.close()


async def test_shuffle_bag_never_repeats_within_a_round_and_survives_a_reopen(
    backend: Backend,
) -> None:
    ids = [f"q-{n}" for n in range(6)]
    rng = random.Random(7)
    store = await backend.open()
    first_half = [await store.draw(1, "quote", "all", ids, rng) for _ in range(3)]
    await store.close()

    store = await backend.open()  # a restart in the middle of a round
    try:
        second_half = [await store.draw(1, "quote", "all", ids, rng) for _ in range(3)]
        assert sorted(first_half + second_half) == ids
        assert await bag(backend, 1, "quote", "all") == []
        # Another channel, and another filter, have bags of their own.
        assert await store.draw(2, "quote", "all", ids, rng) in ids
        assert len(await bag(backend, 2, "quote", "all")) == 5
        assert await bag(backend, 1, "quote", "speaker=v") == []
    finally:
        await store.close()


async def test_concurrent_draws_do_not_hand_out_the_same_item(store: Store) -> None:
    ids = [f"f-{n}" for n in range(20)]
    picks = await asyncio.gather(
        *(store.draw(9, "fact", "all", ids, random.Random(n)) for n in range(20))
    )
    assert sorted(picks) == sorted(ids)
