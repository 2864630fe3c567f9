"""Several shards with raw gateway clients (no discord.py): which guilds and events each
session gets, DMs on shard 0, and Discord's ``max_concurrency`` IDENTIFY window."""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.fakediscord.emulator import Emulator

GUILDS = 1 << 0
DIRECT_MESSAGES = 1 << 12


class RawShard:
    """One gateway connection that reads every frame into ``frames`` in the background."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.closed_with: int | None = None
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))
                self._changed.set()
        self.closed_with = self.ws.close_code
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames:
                    if predicate(frame):
                        return frame
                self._changed.clear()
                await self._changed.wait()

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f["d"] for f in self.frames if f.get("t") == name]

    async def identify(self, token: str, shard: list[int], intents: int = GUILDS) -> None:
        await self.wait_for(lambda f: f["op"] == 10)
        d = {"token": token, "intents": intents, "properties": {}, "shard": shard}
        await self.ws.send_json({"op": 2, "d": d})

    async def ready(self, timeout: float = 5.0) -> dict[str, Any]:
        data: dict[str, Any] = (await self.wait_for(lambda f: f.get("t") == "READY", timeout))["d"]
        return data

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(BaseException):
            await self._reader


@pytest.fixture
async def connect(emulator: Emulator) -> AsyncIterator[Callable[..., Any]]:
    """``await connect([shard_id, num_shards], intents=...)``: a raw connection that sent its
    IDENTIFY."""
    opened: list[RawShard] = []
    async with aiohttp.ClientSession() as http:

        async def open_shard(shard: list[int], intents: int = GUILDS) -> RawShard:
            ws = await http.ws_connect(emulator.gateway_url + "?v=10&encoding=json")
            raw = RawShard(ws)
            opened.append(raw)
            await raw.identify(emulator.token, shard, intents)
            return raw

        yield open_shard
        for raw in opened:
            await raw.close()


def guild_ids(ready: dict[str, Any]) -> set[int]:
    return {int(g["id"]) for g in ready["guilds"]}


async def test_gateway_bot_says_shards_and_max_concurrency(
    emulator: Emulator, discord_http: Any
) -> None:
    answer = await discord_http.get_bot_gateway()
    assert answer[0] == 1  # (shards, url, session_start_limit) in discord.py 2.7
    emulator.shard_count, emulator.max_concurrency = 4, 2
    shards, _, limit = await discord_http.get_bot_gateway()
    assert shards == 4 and limit["max_concurrency"] == 2


def test_add_guild_lands_on_the_asked_shard(emulator: Emulator) -> None:
    for count in (2, 3, 16):
        for shard in range(count):
            g = emulator.add_guild(f"g{shard}/{count}", shard=shard, shard_count=count)
            assert (g.id >> 22) % count == shard
    emulator.shard_count = 5  # the default count is the emulator's
    assert (emulator.add_guild("five", shard=3).id >> 22) % 5 == 3
    ids = [g.id for g in emulator.guilds]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)  # unique and increasing
    with pytest.raises(ValueError):
        emulator.add_guild("nowhere", shard=2, shard_count=2)


async def test_two_shards_get_disjoint_guilds_and_their_own_events(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.shard_count, emulator.max_concurrency = 2, 2  # buckets 0 and 1: both at once
    on0 = [emulator.add_guild(f"zero{i}", shard=0) for i in range(3)]
    on1 = [emulator.add_guild(f"one{i}", shard=1) for i in range(2)]
    s0, s1 = await connect([0, 2]), await connect([1, 2])
    r0, r1 = await s0.ready(), await s1.ready()
    assert guild_ids(r0) == {g.id for g in on0} and guild_ids(r1) == {g.id for g in on1}
    assert r0["shard"] == [0, 2] and r1["shard"] == [1, 2]
    await emulator.wait_for_ready()  # every GUILD_CREATE streamed to both
    assert {int(g["id"]) for g in s0.events("GUILD_CREATE")} == {g.id for g in on0}
    assert {int(g["id"]) for g in s1.events("GUILD_CREATE")} == {g.id for g in on1}

    # An event of a guild reaches only the session of its shard.
    channel = emulator.add_channel(on1[0], "news")
    created = await s1.wait_for(lambda f: f.get("t") == "CHANNEL_CREATE")
    assert created["d"]["id"] == str(channel.id)
    late = emulator.add_guild("late", shard=0)
    await s0.wait_for(lambda f: f.get("t") == "GUILD_CREATE" and f["d"]["id"] == str(late.id))
    emulator.add_role(on0[1], "fans")
    await s0.wait_for(lambda f: f.get("t") == "GUILD_ROLE_CREATE")
    assert not s0.events("CHANNEL_CREATE")
    assert [g["id"] for g in s1.events("GUILD_CREATE")].count(str(late.id)) == 0
    assert not s1.events("GUILD_ROLE_CREATE")
    assert not emulator.violations


async def test_dms_and_guildless_interactions_go_to_shard_0(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.shard_count, emulator.max_concurrency = 2, 2
    g1 = emulator.add_guild("one", shard=1)
    fan = emulator.add_member(g1, "fan")
    emulator.global_commands[1] = {
        "id": "1",
        "name": "hello",
        "description": "hi",
        "type": 1,
        "options": [],
        "integration_types": [0, 1],
        "contexts": [0, 1, 2],
    }
    s0 = await connect([0, 2], GUILDS | DIRECT_MESSAGES)
    s1 = await connect([1, 2], GUILDS | DIRECT_MESSAGES)
    await s0.ready()
    await s1.ready()
    await emulator.wait_for_ready()

    in_server = await emulator.slash(g1, g1.text_channels[0], fan, "hello")
    await s1.wait_for(lambda f: f.get("t") == "INTERACTION_CREATE")
    # the fan shares a server with the bot: the command is offered in the bot's DM too
    in_dm = await emulator.slash_dm(fan, "hello")
    dm = await s0.wait_for(lambda f: f.get("t") == "INTERACTION_CREATE")
    assert dm["d"]["id"] == str(in_dm.id) and "guild_id" not in dm["d"]
    assert dm["d"]["context"] == 1 and dm["d"]["authorizing_integration_owners"] == {"0": "0"}
    emulator.install_for_user(fan)
    group = emulator.group_dm(fan, emulator.add_user("friend"))
    in_group = await emulator.slash_private(group, fan, "hello")
    await s0.wait_for(lambda f: f.get("t") == "INTERACTION_CREATE" and f["d"]["context"] == 2)
    assert [d["id"] for d in s1.events("INTERACTION_CREATE")] == [str(in_server.id)]
    assert str(in_group.id) not in [d["id"] for d in s1.events("INTERACTION_CREATE")]

    # A message in the bot's DM (here: its answer) is a DIRECT_MESSAGES event of shard 0.
    async with aiohttp.ClientSession() as http:
        url = f"{emulator.api_base}/interactions/{in_dm.id}/{in_dm.token}/callback"
        async with http.post(url, json={"type": 4, "data": {"content": "hi"}}) as answer:
            assert answer.status == 204
    await s0.wait_for(lambda f: f.get("t") == "MESSAGE_CREATE")
    assert not s1.events("MESSAGE_CREATE")


async def test_an_identify_too_soon_in_its_bucket_gets_invalid_session(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.expect_violations = True
    emulator.identify_spacing = 0.5  # Discord's 5 s, shrunk
    emulator.add_guild("zero", shard=0, shard_count=2)
    s0 = await connect([0, 2])
    await s0.ready()
    # max_concurrency 1: shards 0 and 1 share bucket 0 (shard_id % 1)
    s1 = await connect([1, 2])
    refused = await s1.wait_for(lambda f: f["op"] == 9)
    assert refused["d"] is False  # not resumable: identify again, later
    assert emulator.identify_count == 1 and emulator.stats["gateway:identify_too_soon"] == 1
    (violation,) = emulator.violations
    assert violation.method == "GATEWAY" and "IDENTIFY shard [1, 2]" in violation.path
    assert "bucket 0" in str(violation) and emulator.token not in str(violation)
    assert not s1.events("READY")

    await asyncio.sleep(0.5)  # the bucket's window has passed
    again = await connect([1, 2])
    assert (await again.ready())["shard"] == [1, 2]
    assert emulator.identify_count == 2 and len(emulator.violations) == 1


async def test_buckets_are_shard_id_modulo_max_concurrency(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.expect_violations = True
    emulator.max_concurrency = 2
    emulator.identify_spacing = 60.0
    first = [await connect([i, 4]) for i in (0, 1)]  # buckets 0 and 1: together is fine
    for shard in first:
        await shard.ready()
    for shard_id in (2, 3):  # buckets 0 and 1 again, within the window
        late = await connect([shard_id, 4])
        await late.wait_for(lambda f: f["op"] == 9)
    assert emulator.identify_count == 2
    assert [v.path for v in emulator.violations] == [
        "IDENTIFY shard [2, 4]",
        "IDENTIFY shard [3, 4]",
    ]


async def test_a_restart_after_the_connection_is_gone_is_not_held_to_the_window(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.identify_spacing = 60.0
    emulator.add_guild("g")
    first = await connect([0, 1])
    await first.ready()
    await first.close()
    await emulator.wait_until(lambda: not emulator.connected, 5, "the connection to close")
    second = await connect([0, 1])
    assert (await second.ready())["shard"] == [0, 1]
    assert not emulator.violations
    # the disconnected predecessor of the same shard is dropped, not fed any more
    old, new = (emulator.sessions[s] for s in list(emulator.sessions))
    assert old.invalidated and emulator.live_sessions == [new]


async def test_two_live_sessions_of_one_shard_both_get_its_events(
    emulator: Emulator, connect: Callable[..., Any]
) -> None:
    emulator.identify_spacing = 0.0
    guild = emulator.add_guild("g")
    fan = emulator.add_member(guild, "fan")
    emulator.global_commands[1] = {"id": "1", "name": "x", "description": "x", "type": 1}
    a, b = await connect([0, 1]), await connect([0, 1])
    await a.ready()
    await b.ready()
    emulator.add_channel(guild, "both")
    for raw in (a, b):
        await raw.wait_for(lambda f: f.get("t") == "CHANNEL_CREATE")
    # an interaction goes to one session only: the newest connected one
    inter = await emulator.slash(guild, guild.text_channels[0], fan, "x")
    await b.wait_for(lambda f: f.get("t") == "INTERACTION_CREATE")
    assert not a.events("INTERACTION_CREATE") and inter.id
