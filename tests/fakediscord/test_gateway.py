"""Raw gateway protocol checks (plain JSON and zlib-stream), without discord.py."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp

from tests.fakediscord.emulator import Emulator


async def _recv(ws: aiohttp.ClientWebSocketResponse, inflator: Any = None) -> dict[str, Any]:
    msg = await ws.receive(timeout=5)
    frame: dict[str, Any]
    if inflator is not None:
        assert msg.type == aiohttp.WSMsgType.BINARY and msg.data.endswith(b"\x00\x00\xff\xff")
        frame = json.loads(inflator.decompress(msg.data))
        return frame
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    frame = json.loads(msg.data)
    return frame


async def test_plain_and_zlib_gateway(emulator: Emulator) -> None:
    g = emulator.add_guild("g")
    async with aiohttp.ClientSession() as s:
        for compress in (False, True):
            url = (
                emulator.gateway_url
                + "?v=10&encoding=json"
                + ("&compress=zlib-stream" if compress else "")
            )
            inflator = zlib.decompressobj() if compress else None
            async with s.ws_connect(url) as ws:
                hello = await _recv(ws, inflator)
                assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250
                await ws.send_json({"op": 1, "d": None})
                assert (await _recv(ws, inflator))["op"] == 11
                await ws.send_json(
                    {"op": 2, "d": {"token": emulator.token, "intents": 1, "properties": {}}}
                )
                ready = await _recv(ws, inflator)
                assert ready["t"] == "READY" and ready["s"] == 1
                assert ready["d"]["guilds"] == [{"id": str(g.id), "unavailable": True}]
                assert ready["d"]["resume_gateway_url"] == emulator.gateway_url
                create = await _recv(ws, inflator)
                assert create["t"] == "GUILD_CREATE" and create["s"] == 2
                assert create["d"]["channels"][0]["name"] == "general"
    await emulator.wait_for_ready()


async def test_bad_token_closes_4004(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as ws,
    ):
        await _recv(ws)
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 1, "properties": {}}})
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4004


async def _identify_close_code(emulator: Emulator, d: dict[str, Any]) -> int:
    async with (
        aiohttp.ClientSession() as s,
        s.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as ws,
    ):
        await _recv(ws)
        await ws.send_json({"op": 2, "d": {"token": emulator.token, "properties": {}, **d}})
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE, msg
        return int(msg.data)


async def test_identify_refusals_close_with_discords_codes(emulator: Emulator) -> None:
    for _ in range(3):
        emulator.add_guild("g")
    assert await _identify_close_code(emulator, {"intents": 1, "shard": [1, 1]}) == 4010
    assert await _identify_close_code(emulator, {"intents": 1 << 18}) == 4013  # undefined bit
    emulator.privileged_intents = False
    assert await _identify_close_code(emulator, {"intents": 1 << 1}) == 4014  # members
    emulator.max_guilds_per_shard = 2  # three guilds on one shard: too many
    assert await _identify_close_code(emulator, {"intents": 1}) == 4011
    assert emulator.identify_count == 0
