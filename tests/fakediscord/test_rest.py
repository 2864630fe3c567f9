"""REST behaviour, driven by discord.py's own HTTPClient in-process (fast, no subprocess)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest
from discord.http import Route, handle_message_parameters

from tests.fakediscord import permissions as P
from tests.fakediscord.emulator import Emulator


async def _send(http: Any, channel_id: int, **payload: Any) -> Any:
    return await http.request(
        Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id), json=payload
    )


async def test_embed_description_over_limit_is_violation(
    emulator: Emulator, discord_http: Any
) -> None:
    emulator.expect_violations = True
    ch = emulator.add_guild("g").text_channels[0]
    params = handle_message_parameters(embed=discord.Embed(description="x" * 5000))
    with pytest.raises(discord.HTTPException) as info:
        await discord_http.send_message(ch.id, params=params)
    assert info.value.status == 400 and info.value.code == 50035
    assert "embeds.0.description" in str(info.value)  # discord.py flattens Discord's error tree
    (v,) = emulator.violations
    assert "BASE_TYPE_MAX_LENGTH" in str(v) and "x" * 5000 in str(v)
    assert emulator.channel_messages(ch) == []


async def test_six_buttons_in_a_row_and_duplicate_custom_ids(
    emulator: Emulator, discord_http: Any
) -> None:
    emulator.expect_violations = True
    ch = emulator.add_guild("g").text_channels[0]
    buttons = [{"type": 2, "style": 1, "label": f"b{i}", "custom_id": f"b{i}"} for i in range(6)]
    with pytest.raises(discord.HTTPException) as info:
        await _send(
            discord_http, ch.id, content="hi", components=[{"type": 1, "components": buttons}]
        )
    assert info.value.status == 400
    dup = [
        {"type": 2, "style": 1, "label": "a", "custom_id": "same"},
        {"type": 2, "style": 5, "label": "l"},
    ]
    with pytest.raises(discord.HTTPException):
        await _send(
            discord_http,
            ch.id,
            content="hi",
            components=[{"type": 1, "components": dup * 1}, {"type": 1, "components": dup[:1]}],
        )
    text = "\n".join(str(v) for v in emulator.violations)
    assert "components.0.components" in text and "COMPONENT_CUSTOM_ID_DUPLICATED" in text
    assert "components.0.components.1.url" in text  # link button without url
    assert '"label": "b5"' in text


async def test_bad_command_name_is_violation(emulator: Emulator, discord_http: Any) -> None:
    emulator.expect_violations = True
    app = emulator.application_id
    good = {
        "name": "quote",
        "description": "Quote",
        "type": 1,
        "options": [{"name": "speaker", "description": "who", "type": 3, "required": True}],
    }
    stored = await discord_http.bulk_upsert_global_commands(app, [good])
    assert stored[0]["id"] and emulator.commands["quote"]["id"] == stored[0]["id"]
    # ids are stable across a re-sync
    again = await discord_http.bulk_upsert_global_commands(app, [good])
    assert again[0]["id"] == stored[0]["id"]
    for bad in (
        {"name": "Bad Name", "description": "x", "type": 1},
        {"name": "upper", "description": "", "type": 1},
        {
            "name": "order",
            "description": "x",
            "type": 1,
            "options": [
                {"name": "a", "description": "a", "type": 3},
                {"name": "b", "description": "b", "type": 3, "required": True},
            ],
        },
    ):
        with pytest.raises(discord.HTTPException) as info:
            await discord_http.bulk_upsert_global_commands(app, [good, bad])
        assert info.value.status == 400
    assert len(emulator.violations) == 3
    assert "Bad Name" in str(emulator.violations[0])
    assert list(emulator.commands) == ["quote"]


async def test_missing_permissions_and_unknown_channel(
    emulator: Emulator, discord_http: Any
) -> None:
    g = emulator.add_guild("g")
    ch = g.text_channels[0]
    emulator.set_overwrite(ch, emulator.bot_role(g), deny=P.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as info:
        await _send(discord_http, ch.id, content="hi")
    assert info.value.code == 50013
    hidden = emulator.add_channel(g, "hidden")
    emulator.set_overwrite(hidden, g.everyone, deny=P.VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as info:
        await _send(discord_http, hidden.id, content="hi")
    assert info.value.code == 50001
    # a member overwrite for the bot beats the role deny
    emulator.set_overwrite(ch, g.me, allow=P.SEND_MESSAGES)
    await _send(discord_http, ch.id, content="hi")
    # no EMBED_LINKS: Discord silently drops the embeds
    emulator.set_overwrite(ch, g.me, allow=P.SEND_MESSAGES, deny=P.EMBED_LINKS)
    data = await _send(discord_http, ch.id, content="e", embeds=[{"description": "d"}])
    assert data["embeds"] == []
    emulator.delete_channel(ch)
    with pytest.raises(discord.NotFound) as not_found:
        await _send(discord_http, ch.id, content="hi")
    assert not_found.value.code == 10003


async def test_nonce_deduplication(emulator: Emulator, discord_http: Any) -> None:
    ch = emulator.add_guild("g").text_channels[0]
    a = await _send(discord_http, ch.id, content="once", nonce="abc", enforce_nonce=True)
    b = await _send(discord_http, ch.id, content="twice", nonce="abc", enforce_nonce=True)
    assert a["id"] == b["id"] and b["content"] == "once"
    c = await _send(discord_http, ch.id, content="no enforce", nonce="abc")
    assert c["id"] != a["id"]
    assert [m.content for m in emulator.channel_messages(ch)] == ["once", "no enforce"]
    assert emulator.channel_messages(ch)[0].nonce == "abc"


async def test_global_429_ceiling_and_retry(emulator: Emulator, discord_http: Any) -> None:
    emulator.global_rate_limit = 20
    ch = emulator.add_guild("g").text_channels[0]
    results = await asyncio.gather(
        *(_send(discord_http, ch.id, content=f"m{i}") for i in range(30))
    )
    assert len({r["id"] for r in results}) == 30
    assert emulator.stats["429:global"] >= 1
    assert len(emulator.channel_messages(ch)) == 30


async def test_injected_429_and_500_are_retried(emulator: Emulator, discord_http: Any) -> None:
    ch = emulator.add_guild("g").text_channels[0]
    emulator.inject_429("POST", "/channels/{channel_id}/messages", count=2, retry_after=0.05)
    await _send(discord_http, ch.id, content="after 429s")
    assert emulator.stats["429:injected"] == 2
    emulator.inject_error("GET", f"/channels/{ch.id}", status=500, count=1)
    data = await discord_http.get_channel(ch.id)
    assert data["name"] == "general" and emulator.stats["errors:injected"] == 1


async def test_rate_limit_headers_and_unknown_route(emulator: Emulator) -> None:
    emulator.expect_unknown_routes = True
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{emulator.api_base}/users/@me", headers=headers) as r:
            assert r.status == 200
            for h in (
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "X-RateLimit-Reset-After",
                "X-RateLimit-Bucket",
            ):
                assert h in r.headers
        async with s.get(f"{emulator.api_base}/users/@me") as r:
            assert r.status == 401
        async with s.get(f"{emulator.api_base}/no/such/route", headers=headers) as r:
            assert r.status == 404
            assert await r.json() == {"message": "404: Not Found", "code": 0}
    assert [str(u) for u in emulator.unknown_routes] == ["GET /no/such/route"]


async def test_interaction_double_ack_and_webhook_ttl(emulator: Emulator) -> None:
    """Drive the callback endpoints directly (no bot): 40060 on a second ack, 10015 after 15 min."""
    g = emulator.add_guild("g")
    fan = emulator.add_member(g, "fan")
    emulator.global_commands[1] = {
        "id": "1",
        "name": "x",
        "description": "x",
        "type": 1,
        "options": [],
    }
    # a fake gateway session so the emulator has someone to dispatch to
    from tests.fakediscord import gateway as gw

    emulator._shards.add(gw.Session("s", 0, 1, 0, 10))
    inter = await emulator.slash(g, g.text_channels[0], fan, "x")
    url = f"{emulator.api_base}/interactions/{inter.id}/{inter.token}/callback"
    async with aiohttp.ClientSession() as s:
        async with s.post(url, json={"type": 4, "data": {"content": "hi"}}) as r:
            assert r.status == 204
        async with s.post(url, json={"type": 4, "data": {"content": "hi"}}) as r:
            assert r.status == 400 and (await r.json())["code"] == 40060
        app = emulator.application_id
        orig = f"{emulator.api_base}/webhooks/{app}/{inter.token}/messages/@original"
        async with s.patch(orig, json={"content": "edited"}) as r:
            assert r.status == 200 and (await r.json())["content"] == "edited"
        inter.dispatched_at -= 16 * 60
        async with s.patch(orig, json={"content": "late"}) as r:
            assert r.status == 404 and (await r.json())["code"] == 10015
    assert inter.message.content == "edited"
