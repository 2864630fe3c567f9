"""User installs, without a bot: what the emulator sends for DMs, group DMs and servers that did
not install the app, what it refuses, and Discord's limits there (a stand-in session receives the
interactions; the tests answer them over REST)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.fakediscord import gateway as gw
from tests.fakediscord import permissions as P
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.models import Guild, Member

ANYWHERE = {"integration_types": [0, 1], "contexts": [0, 1, 2]}
SERVER_ONLY = {"integration_types": [0], "contexts": [0]}


def command(emulator: Emulator, name: str, **where: Any) -> None:
    cid = len(emulator.global_commands) + 1
    emulator.global_commands[cid] = {
        "id": str(cid),
        "name": name,
        "description": name,
        "type": 1,
        "options": [],
        **where,
    }


@pytest.fixture
def session(emulator: Emulator) -> gw.Session:
    """A stand-in gateway session (all intents) that records what the bot would receive."""
    stand_in = gw.Session("s", 0, 1, gw.KNOWN_INTENTS, 1000)
    emulator._shards.add(stand_in)
    command(emulator, "quote", **ANYWHERE)
    command(emulator, "trivia", **SERVER_ONLY)
    command(emulator, "legacy")  # no contexts, no integration_types: Discord's defaults
    return stand_in


def received(session: gw.Session, event: str) -> list[dict[str, Any]]:
    frames = (json.loads(text) for _, text in session.buffer)
    return [f["d"] for f in frames if f["t"] == event]


async def call(
    emulator: Emulator, method: str, path: str, body: Any = None, *, bot: bool = True
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {emulator.token}"} if bot else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, emulator.api_base + path, json=body, headers=headers) as r,
    ):
        return r.status, (await r.json() if r.status != 204 else None)


async def answer(emulator: Emulator, inter: Interaction, data: dict[str, Any]) -> None:
    status, _ = await call(
        emulator, "POST", f"/interactions/{inter.id}/{inter.token}/callback", data, bot=False
    )
    assert status == 204


def server_without_the_bot(emulator: Emulator) -> tuple[Guild, Member]:
    guild = emulator.add_guild("elsewhere", installed=False)
    return guild, emulator.add_member(guild, "fan")


async def test_a_dm_from_a_user_install(emulator: Emulator, session: gw.Session) -> None:
    fan = emulator.add_user("fan")
    emulator.install_for_user(fan)
    inter = await emulator.slash_dm(fan, "quote")
    (d,) = received(session, "INTERACTION_CREATE")
    assert "guild_id" not in d and "member" not in d and "guild" not in d
    assert d["user"]["id"] == str(fan.id) and d["context"] == 1
    assert d["authorizing_integration_owners"] == {"1": str(fan.id)}
    assert int(d["app_permissions"]) == P.ATTACH_FILES | P.EMBED_LINKS | P.MENTION_EVERYONE | (
        P.USE_EXTERNAL_EMOJIS
    )
    channel = emulator.bot_dm(fan)
    assert d["channel"]["type"] == 1 and d["channel"]["id"] == str(channel.id)
    assert d["channel"]["recipients"][0]["id"] == str(fan.id)
    assert inter.context == 1 and inter.user_install_only
    # the bot's own DM channel with the fan is that one
    status, dm = await call(emulator, "POST", "/users/@me/channels", {"recipient_id": fan.id})
    assert status == 200 and dm["id"] == str(channel.id)


async def test_the_bot_dm_from_a_fan_who_shares_a_server_and_installed(
    emulator: Emulator, session: gw.Session
) -> None:
    fan = emulator.add_member(emulator.add_guild("home"), "fan")
    await emulator.slash_dm(fan, "quote")  # the shared server is enough for the bot's DM
    emulator.install_for_user(fan)
    await emulator.slash_dm(fan, "legacy")
    shared, legacy = received(session, "INTERACTION_CREATE")
    assert shared["authorizing_integration_owners"] == {"0": "0"}
    # legacy (Discord's default integration_types: guild install) ignores the user install
    assert legacy["authorizing_integration_owners"] == {"0": "0"}
    await emulator.slash_dm(fan, "quote")
    assert received(session, "INTERACTION_CREATE")[-1]["authorizing_integration_owners"] == {
        "0": "0",
        "1": str(fan.id),
    }


async def test_group_dms_and_dms_between_users(emulator: Emulator, session: gw.Session) -> None:
    fan, friend = emulator.add_user("fan"), emulator.add_user("friend")
    emulator.install_for_user(fan)
    group = emulator.group_dm(fan, friend, name="uaenas")
    await emulator.slash_private(group, fan, "quote")
    pair = emulator.user_dm(fan, friend)
    await emulator.slash_private(pair, fan, "quote")
    in_group, in_pair = received(session, "INTERACTION_CREATE")
    for d in (in_group, in_pair):
        assert d["context"] == 2 and "member" not in d and d["user"]["id"] == str(fan.id)
        assert d["authorizing_integration_owners"] == {"1": str(fan.id)}
        assert int(d["app_permissions"]) == P.ATTACH_FILES | P.EMBED_LINKS | P.MENTION_EVERYONE
    assert in_group["channel"]["type"] == 3 and in_group["channel"]["name"] == "uaenas"
    assert in_group["channel"]["owner_id"] == str(fan.id)
    assert in_pair["channel"]["type"] == 1 and len(in_pair["channel"]["recipients"]) == 2
    # the bot is in neither: it cannot post there, only answer the interaction
    for channel in (group, pair):
        status, error = await call(
            emulator, "POST", f"/channels/{channel.id}/messages", {"content": "hi"}
        )
        assert status == 403 and error["code"] == 50001
    stranger = emulator.add_user("stranger")
    emulator.install_for_user(stranger)
    with pytest.raises(AssertionError, match="not in that private channel"):
        await emulator.slash_private(group, stranger, "quote")


async def test_a_server_that_did_not_install_the_bot(
    emulator: Emulator, session: gw.Session
) -> None:
    guild, fan = server_without_the_bot(emulator)
    channel = guild.text_channels[0]
    emulator.install_for_user(fan)
    emulator.add_channel(guild, "more")
    emulator.add_member(guild, "another")
    inter = await emulator.slash_user_install(guild, channel, fan, "quote")
    (d,) = received(session, "INTERACTION_CREATE")
    assert not received(session, "GUILD_CREATE") and not received(session, "CHANNEL_CREATE")
    assert d["guild_id"] == str(guild.id) and d["member"]["user"]["id"] == str(fan.id)
    assert "user" not in d and d["context"] == 0
    assert d["authorizing_integration_owners"] == {"1": str(fan.id)}
    assert int(d["app_permissions"]) == P.DEFAULT_EVERYONE  # @everyone's, no bot role there
    assert d["channel"]["type"] == 0 and d["channel"]["guild_id"] == str(guild.id)
    assert emulator.guilds == [] and emulator.find_guild(guild.id) is guild

    status, error = await call(
        emulator, "POST", f"/channels/{channel.id}/messages", {"content": "hello"}
    )
    assert status == 403 and error == {"message": "Missing Access", "code": 50001}
    status, error = await call(emulator, "GET", f"/guilds/{guild.id}")
    assert status == 403 and error["code"] == 50001

    await answer(emulator, inter, {"type": 4, "data": {"content": "a quote"}})
    reply = await inter.original()
    assert reply.content == "a quote" and not reply.is_ephemeral
    assert reply.to_payload()["interaction_metadata"]["authorizing_integration_owners"] == {
        "1": str(fan.id)
    }
    assert not received(session, "MESSAGE_CREATE")  # the bot hears nothing from there


async def test_both_installs_in_a_server_with_the_bot(
    emulator: Emulator, session: gw.Session
) -> None:
    guild = emulator.add_guild("home")
    fan = emulator.add_member(guild, "fan")
    emulator.install_for_user(fan)
    await emulator.slash(guild, guild.text_channels[0], fan, "quote")
    await emulator.slash(guild, guild.text_channels[0], fan, "trivia")
    both, server = received(session, "INTERACTION_CREATE")
    assert both["authorizing_integration_owners"] == {"0": str(guild.id), "1": str(fan.id)}
    assert server["authorizing_integration_owners"] == {"0": str(guild.id)}


async def test_commands_are_refused_where_discord_would_not_show_them(
    emulator: Emulator, session: gw.Session
) -> None:
    guild, fan = server_without_the_bot(emulator)
    channel = guild.text_channels[0]
    with pytest.raises(AssertionError, match="install_for_user"):
        await emulator.slash(guild, channel, fan, "quote")  # not installed by the fan either
    emulator.install_for_user(fan)
    with pytest.raises(AssertionError, match="did not install the app"):
        await emulator.slash(guild, channel, fan, "trivia")
    with pytest.raises(AssertionError, match=r"not offered in the bot's DM"):
        await emulator.slash_dm(fan, "trivia")
    group = emulator.group_dm(fan, emulator.add_user("friend"))
    with pytest.raises(AssertionError, match="not offered in a private channel"):
        await emulator.slash_private(group, fan, "trivia")
    stranger = emulator.add_user("stranger")  # no install, no server shared with the bot
    with pytest.raises(AssertionError, match="no install of the app covers it"):
        await emulator.slash_dm(stranger, "quote")
    with pytest.raises(AssertionError, match="installed the bot; use slash"):
        home = emulator.add_guild("home")
        await emulator.slash_user_install(home, home.text_channels[0], fan, "quote")
    command(emulator, "dmless", integration_types=[0, 1], contexts=[0, 1])
    with pytest.raises(AssertionError, match="not offered in a private channel"):
        await emulator.slash_private(group, fan, "dmless")
    assert not received(session, "INTERACTION_CREATE")


async def test_five_followups_for_a_user_install_alone(
    emulator: Emulator, session: gw.Session
) -> None:
    emulator.expect_violations = True
    guild, fan = server_without_the_bot(emulator)
    emulator.install_for_user(fan)
    inter = await emulator.slash_user_install(guild, guild.text_channels[0], fan, "quote")
    await answer(emulator, inter, {"type": 5})
    hook = f"/webhooks/{emulator.application_id}/{inter.token}"
    for n in range(6):  # the first replaces the "thinking" message: five follow-ups after it
        status, _ = await call(emulator, "POST", hook + "?wait=true", {"content": f"{n}"})
        assert status == 200, n
    status, error = await call(emulator, "POST", hook, {"content": "one too many"})
    assert status == 400 and error["code"] == 40094
    assert len(inter.followup_ids) == 5 and emulator.stats["followups:over_limit"] == 1
    assert "MAX_FOLLOWUP_MESSAGES" in str(emulator.violations[-1])

    # a server that installed the bot has no such limit
    home = emulator.add_guild("home")
    mod = emulator.add_member(home, "mod")
    inter = await emulator.slash(home, home.text_channels[0], mod, "quote")
    await answer(emulator, inter, {"type": 4, "data": {"content": "hi"}})
    for n in range(7):
        status, _ = await call(
            emulator,
            "POST",
            f"/webhooks/{emulator.application_id}/{inter.token}",
            {"content": f"{n}"},
        )
        assert status == 204, n
    assert len(emulator.violations) == 1


async def test_buttons_of_a_user_install_reply(emulator: Emulator, session: gw.Session) -> None:
    guild, fan = server_without_the_bot(emulator)
    friend = emulator.add_member(guild, "friend")
    emulator.install_for_user(fan)
    inter = await emulator.slash_user_install(guild, guild.text_channels[0], fan, "quote")
    button = {"type": 2, "style": 1, "label": "Another quote", "custom_id": "lwa:quote::"}
    await answer(
        emulator,
        inter,
        {"type": 4, "data": {"content": "q", "components": [{"type": 1, "components": [button]}]}},
    )
    await emulator.click(inter.message, "Another quote", friend)
    click = received(session, "INTERACTION_CREATE")[-1]
    # someone else's click: the owners stay the fan's install (Discord's docs: this is how an
    # app tells the authorizing user from the one who clicked)
    assert click["authorizing_integration_owners"] == {"1": str(fan.id)}
    assert click["member"]["user"]["id"] == str(friend.id) and click["guild_id"] == str(guild.id)
    assert click["message"]["interaction_metadata"]["user"]["id"] == str(fan.id)

    dm = await emulator.slash_dm(fan, "quote")
    await answer(
        emulator,
        dm,
        {"type": 4, "data": {"content": "q", "components": [{"type": 1, "components": [button]}]}},
    )
    clicked = await emulator.click(dm.message, "lwa:quote::", fan)
    d = received(session, "INTERACTION_CREATE")[-1]
    assert d["type"] == 3 and d["context"] == 1 and "guild_id" not in d
    assert d["user"]["id"] == str(fan.id) and d["channel"]["type"] == 1
    assert clicked.owners == {"1": str(fan.id)}


async def test_without_use_external_apps_the_answers_are_ephemeral(
    emulator: Emulator, session: gw.Session
) -> None:
    guild = emulator.add_guild(
        "strict", installed=False, everyone_permissions=P.DEFAULT_EVERYONE & ~P.USE_EXTERNAL_APPS
    )
    fan = emulator.add_member(guild, "fan")
    emulator.install_for_user(fan)
    inter = await emulator.slash_user_install(guild, guild.text_channels[0], fan, "quote")
    await answer(emulator, inter, {"type": 4, "data": {"content": "only for you"}})
    assert (await inter.original()).is_ephemeral
