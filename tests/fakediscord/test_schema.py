"""The emulator checks request bodies against Discord's OpenAPI schema (fakediscord/schema.py).

Driven in-process with discord.py's own HTTPClient (no bot process). Every test that needs the
schema skips in a clone with nothing beside it (CI makes it mandatory, see tests/shared.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord.http import Route, handle_message_parameters

from tests.fakediscord import gateway as gw
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.schema import SchemaError, load_schema, readable_path
from tests.fakediscord.validation import validate_command_list, validate_message
from tests.shared import DISCORD_OPENAPI, need

MAX_SAFE = 2**53 - 1  # Discord's bound for an integer option's min_value / max_value


def need_schema() -> None:
    need(DISCORD_OPENAPI, "Discord's OpenAPI schema")


def schedule_command(max_value: int) -> dict[str, Any]:
    """/schedule remove|pause|resume, as the bot registers them."""
    subs = [
        {
            "type": 1,
            "name": name,
            "description": f"{name} a scheduled post",
            "options": [
                {
                    "type": 4,
                    "name": "id",
                    "description": "The schedule's number (see /schedule list)",
                    "required": True,
                    "min_value": 1,
                    "max_value": max_value,
                }
            ],
        }
        for name in ("remove", "pause", "resume")
    ]
    return {"name": "schedule", "description": "Scheduled posts", "type": 1, "options": subs}


async def send(http: Any, channel_id: int, **payload: Any) -> Any:
    return await http.request(
        Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id), json=payload
    )


async def edit(http: Any, channel_id: int, message_id: int | str, **payload: Any) -> Any:
    route = Route(
        "PATCH",
        "/channels/{channel_id}/messages/{message_id}",
        channel_id=channel_id,
        message_id=message_id,
    )
    return await http.request(route, json=payload)


def schema_errors(emulator: Emulator) -> list[SchemaError]:
    return [e for v in emulator.violations for e in v.errors if isinstance(e, SchemaError)]


def test_every_route_of_the_schema_is_one_the_emulator_serves() -> None:
    need_schema()
    schema = load_schema()
    assert schema is not None
    emulator = Emulator()
    served = set()
    for method, template, *_ in emulator._routes:
        for message_id in ("1", "@original"):
            route = schema.route_for(method, template, {"message_id": message_id})
            if route is not None:
                served.add(route)
    assert served == set(schema.routes)
    # The emulator's parameter names differ from the subset's; literals must match.
    webhook = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
    assert (
        schema.route_for("PATCH", webhook, {"message_id": "@original"})
        == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert (
        schema.route_for("PATCH", webhook, {"message_id": "123"})
        == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    )
    assert schema.route_for("GET", "/channels/{channel_id}/messages") is None
    # one compiled validator per route
    assert schema.validator("POST /channels/{channel_id}/messages") is schema.validator(
        "POST /channels/{channel_id}/messages"
    )


async def test_an_integer_option_bound_past_2_53_minus_1_is_refused(
    emulator: Emulator, discord_http: Any
) -> None:
    need_schema()
    emulator.expect_violations = True
    app = emulator.application_id
    quote = {"name": "quote", "description": "A quote", "type": 1}
    too_big = schedule_command(2**53)
    assert validate_command_list([quote, too_big], guild=False) == []  # the emulator's own rules
    with pytest.raises(discord.HTTPException) as info:
        await discord_http.bulk_upsert_global_commands(app, [quote, too_big])
    assert info.value.status == 400 and info.value.code == 50035
    assert "1.options.0.options.0.max_value" in str(info.value)  # Discord's nested error tree
    assert emulator.commands == {}  # nothing was registered
    (violation,) = emulator.violations
    assert len(violation.errors) == 3  # remove, pause and resume
    assert str(violation.errors[0]) == (
        "[1].options[0].options[0].max_value: 9007199254740992 is greater than the maximum of "
        "9007199254740991 (NUMBER_TYPE_MAX, Discord's OpenAPI schema)"
    )
    assert "[1].options[2].options[0].max_value: 9007199254740992" in str(violation)

    # The same on the other command routes: one command, a guild's commands, an edit.
    guild = emulator.add_guild("g")
    with pytest.raises(discord.HTTPException):
        await discord_http.upsert_global_command(app, too_big)
    with pytest.raises(discord.HTTPException):
        await discord_http.bulk_upsert_guild_commands(app, guild.id, [too_big])
    assert len(emulator.violations) == 3

    stored = await discord_http.bulk_upsert_global_commands(
        app, [quote, schedule_command(MAX_SAFE)]
    )
    assert sorted(emulator.commands) == ["quote", "schedule"]
    low = schedule_command(MAX_SAFE)["options"]
    low[0]["options"][0]["min_value"] = -(2**53)
    with pytest.raises(discord.HTTPException):
        await discord_http.edit_global_command(app, stored[1]["id"], {"options": low})
    assert "min_value: -9007199254740992 is less than the minimum of -9007199254740991" in str(
        emulator.violations[-1]
    )
    assert len(emulator.violations) == 4 and len(schema_errors(emulator)) == 10


async def test_a_message_field_of_the_wrong_type_is_refused(
    emulator: Emulator, discord_http: Any
) -> None:
    need_schema()
    emulator.expect_violations = True
    ch = emulator.add_guild("g").text_channels[0]
    bad = {
        "content": "hi",
        "tts": "yes",
        "allowed_mentions": {"parse": [], "roles": [123456789012345678]},
        "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b", "inline": "no"}]}],
    }
    assert validate_message(bad) == []  # the emulator's own rules let all of it through
    with pytest.raises(discord.HTTPException) as info:
        await send(discord_http, ch.id, **bad)
    assert info.value.status == 400 and info.value.code == 50035
    for where in ("tts", "allowed_mentions.roles.0", "embeds.0.fields.0.inline"):
        assert f"In {where}:" in str(info.value)
    assert [str(e) for e in schema_errors(emulator)] == [
        "allowed_mentions.roles[0]: 123456789012345678 is not of type null or string "
        "(null, SnowflakeType) (UNION_TYPE_CHOICES, Discord's OpenAPI schema)",
        'embeds[0].fields[0].inline: "no" is not of type boolean or null '
        "(BOOLEAN_TYPE_CONVERT, Discord's OpenAPI schema)",
        'tts: "yes" is not of type boolean or null (BOOLEAN_TYPE_CONVERT, Discord\'s OpenAPI '
        "schema)",
    ]
    assert emulator.channel_messages(ch) == []

    # An edit is checked as well: a button of an unknown style, a component of no known type.
    good = await send(discord_http, ch.id, content="hi")
    changes = {
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 9, "label": "x", "custom_id": "x"}]},
            {"type": 99},
        ]
    }
    with pytest.raises(discord.HTTPException):
        await edit(discord_http, ch.id, good["id"], **changes)
    text = str(emulator.violations[-1])
    assert "components[0].components[0].style: 9 is not one of [1, 2, 3, 4, 5, 6]" in text
    assert "components[1]: type 99 is not one of" in text
    assert [m.version for m in emulator.channel_messages(ch)] == [0]


async def test_a_multipart_body_is_checked_by_its_payload_json(
    emulator: Emulator, discord_http: Any
) -> None:
    need_schema()
    emulator.expect_violations = True
    ch = emulator.add_guild("g").text_channels[0]
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=ch.id)

    def form(payload: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"name": "payload_json", "value": json.dumps(payload)},
            {
                "name": "files[0]",
                "value": b"love wins all",
                "filename": "lyrics.txt",
                "content_type": "text/plain",
            },
        ]

    attachment = {"id": "0", "filename": "lyrics.txt"}
    with pytest.raises(discord.HTTPException) as info:
        await discord_http.request(route, form=form({"content": 5, "attachments": [attachment]}))
    assert info.value.code == 50035
    assert str(schema_errors(emulator)[0]).startswith("content: 5 is not of type string or null")
    # discord.py writes an attachment's id as a number; the schema wants a snowflake string
    with pytest.raises(discord.HTTPException):
        await discord_http.request(
            route, form=form({"content": "hi", "attachments": [{"id": 0, "filename": "a"}]})
        )
    assert "attachments[0].id: 0 is not of type string" in str(emulator.violations[-1])
    sent = await discord_http.request(
        route, form=form({"content": "hi", "attachments": [attachment]})
    )
    assert sent["attachments"][0]["filename"] == "lyrics.txt"
    assert len(emulator.violations) == 2


async def _interaction(emulator: Emulator) -> Interaction:
    """A /x interaction from a fan, without a bot: a stand-in gateway session receives it."""
    g = emulator.guilds[0] if emulator.guilds else emulator.add_guild("g")
    fan = emulator.add_member(g, "fan")
    emulator.global_commands[1] = {
        "id": "1",
        "name": "x",
        "description": "x",
        "type": 1,
        "options": [],
    }
    emulator._shards.add(gw.Session("s", 0, 1, 0, 10))
    return await emulator.slash(g, g.text_channels[0], fan, "x")


async def test_interaction_callbacks_followups_and_original_edits_are_checked(
    emulator: Emulator,
) -> None:
    need_schema()
    emulator.expect_violations = True
    inter = await _interaction(emulator)
    app = emulator.application_id
    callback = f"{emulator.api_base}/interactions/{inter.id}/{inter.token}/callback"
    hook = f"{emulator.api_base}/webhooks/{app}/{inter.token}"
    async with aiohttp.ClientSession() as s:

        async def call(method: str, url: str, body: Any) -> tuple[int, Any]:
            async with s.request(method, url, json=body) as r:
                return r.status, (await r.json() if r.status != 204 else None)

        bad = {
            "type": 4,
            "data": {"content": "hi", "embeds": [{"description": "d", "color": "red"}]},
        }
        status, body = await call("POST", callback, bad)
        assert status == 400 and body["code"] == 50035
        assert body["errors"]["data"]["embeds"]["0"]["color"]["_errors"][0]["code"] == (
            "NUMBER_TYPE_COERCE"
        )
        assert inter.callback is None  # not acknowledged: the bot may still answer
        assert (await call("POST", callback, {"type": 4, "data": {"content": "hi"}}))[0] == 204

        status, _ = await call("PATCH", f"{hook}/messages/@original", {"flags": "64"})
        assert status == 400
        assert 'flags: "64" is not of type integer or null' in str(emulator.violations[-1])
        status, _ = await call("POST", hook, {"content": "more", "embeds": [{"title": 7}]})
        assert status == 400
        assert "embeds[0].title: 7 is not of type string or null" in str(emulator.violations[-1])
        assert (await call("POST", f"{hook}?wait=true", {"content": "more"}))[0] == 200
    assert inter.message.content == "hi"
    assert len(emulator.violations) == 3 and len(schema_errors(emulator)) == 3


async def test_what_discord_py_sends_for_a_rich_reply_fits(
    emulator: Emulator, discord_http: Any
) -> None:
    need_schema()
    ch = emulator.add_guild("g").text_channels[0]
    embed = discord.Embed(title="Love wins all", description="“…”", colour=0xB4A7D6)
    embed.add_field(name="Source", value="IU, 2024", inline=False)
    embed.set_footer(text="Source: EDAM Entertainment").set_author(name="Daily quote")
    embed.timestamp = discord.utils.utcnow()
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Details", custom_id="lwa:details:1", emoji="📖"))
    view.add_item(discord.ui.Button(label="Source", url="https://example.org/source"))
    view.add_item(
        discord.ui.Select(
            custom_id="lwa:pick", options=[discord.SelectOption(label="a", value="a")]
        )
    )
    params = handle_message_parameters(
        content=None,
        embed=embed,
        view=view,
        nonce="42",
        allowed_mentions=discord.AllowedMentions.none(),
    )
    sent = await discord_http.send_message(ch.id, params=params)
    await edit(discord_http, ch.id, sent["id"], content="edited", embeds=[])
    assert [m.content for m in emulator.channel_messages(ch)] == ["edited"]
    assert emulator.violations == []


async def test_without_the_schema_the_emulator_runs_unchecked(
    emulator: Emulator, discord_http: Any, tmp_path: Path
) -> None:
    assert load_schema(tmp_path / "discord-openapi-subset.json") is None
    emulator.schema = None  # as in a clone with nothing beside it
    ch = emulator.add_guild("g").text_channels[0]
    sent = await send(discord_http, ch.id, content="hi", tts="yes")
    assert sent["content"] == "hi" and emulator.violations == []
    emulator.expect_violations = True
    with pytest.raises(discord.HTTPException):  # the emulator's own rules still apply
        await send(discord_http, ch.id, content="x" * 2001)
    assert len(emulator.violations) == 1


def test_readable_paths() -> None:
    assert readable_path(("data", "options", 2, "max_value")) == "data.options[2].max_value"
    assert readable_path((0, "name")) == "[0].name"
    assert readable_path(()) == "<body>"
