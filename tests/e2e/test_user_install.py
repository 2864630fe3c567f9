"""The fan commands as a user-installed app (SPEC §4), against the real bot process: in a DM with
the bot, in a group DM, and in a server that did not install the bot. Trivia, schedules and
settings are for servers that installed it: Discord does not offer them elsewhere.

The tests share one bot process; each makes its own fans (and servers) so nothing carries over.
"""

from __future__ import annotations

import pytest

from tests.e2e.helpers import NO_PINGS, all_text, dataset, field, shown_id
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Guild, Member


def elsewhere(shared: Shared, name: str) -> tuple[Guild, Member]:
    """A server that never added the bot, and a fan there who installed the app."""
    emulator = shared.emulator
    guild = emulator.add_guild(f"{name} (no bot)", installed=False)
    fan = emulator.add_member(guild, name)
    emulator.install_for_user(fan)
    return guild, fan


async def test_a_dm_quote_from_a_user_install(shared: Shared) -> None:
    emulator = shared.emulator
    fan = emulator.add_user("dm-fan")  # shares no server with the bot: the user install only
    emulator.install_for_user(fan)
    inter = await emulator.slash_dm(fan, "quote")
    assert inter.payload["context"] == 1 and "guild_id" not in inter.payload
    reply = await inter.response()
    assert reply.type == 4 and not reply.is_ephemeral
    assert inter.latency is not None and inter.latency < 3
    embed = reply.embeds[0]
    quote = dataset().quote(shown_id(reply))
    assert quote is not None and embed["description"] == f"“{quote.text}”\n— *{quote.setting}*"
    assert dataset().people[quote.speaker].name in embed["title"]
    source = field(embed, "Source")
    assert dataset().source_of(quote).publisher in source and "\n" not in source  # one line
    assert reply.data["allowed_mentions"] == NO_PINGS
    message = inter.message
    assert message.channel_id == emulator.bot_dm(fan).id
    assert [b["label"] for b in message.buttons] == ["Another quote", "Details"]

    another = await emulator.click(message, "Another quote", fan)
    assert another.payload["authorizing_integration_owners"] == {"1": str(fan.id)}
    again = await another.response()
    assert again.type == 4 and not again.is_ephemeral
    assert shown_id(again) != quote.id
    assert again.data["allowed_mentions"] == NO_PINGS

    details = await (await emulator.click(message, "Details", fan)).response()
    assert details.is_ephemeral and quote.context in all_text(details.embeds[0])


async def test_dm_quotes_do_not_repeat_until_all_were_shown(shared: Shared) -> None:
    """Outside servers the fan has a shuffle bag of their own (the bot's scope is the user)."""
    emulator = shared.emulator
    fan = emulator.add_user("bag-fan")
    emulator.install_for_user(fan)
    edam = {q.id for q in dataset().quotes if q.speaker == "edam"}
    assert len(edam) >= 2, "the dataset has several quotes by EDAM"
    seen = []
    for _ in range(len(edam) - 1):  # all but one
        reply = await (await emulator.slash_dm(fan, "quote", speaker="edam")).response()
        seen.append(shown_id(reply))
    assert len(set(seen)) == len(seen) and set(seen) < edam
    # The bag is the fan's, not the channel's: in a group DM it carries on where the DM left,
    # with the one quote not shown yet.
    group = emulator.group_dm(fan, emulator.add_user("friend"))
    reply = await (await emulator.slash_private(group, fan, "quote", speaker="edam")).response()
    assert shown_id(reply) == (edam - set(seen)).pop()


async def test_fact_and_help_in_a_server_without_the_bot(shared: Shared) -> None:
    emulator = shared.emulator
    guild, fan = elsewhere(shared, "visitor")
    channel = guild.text_channels[0]
    assert guild not in emulator.guilds  # no GUILD_CREATE: the bot is not there

    inter = await emulator.slash_user_install(guild, channel, fan, "fact", topic="charts")
    assert inter.payload["authorizing_integration_owners"] == {"1": str(fan.id)}
    assert inter.payload["member"]["user"]["id"] == str(fan.id)
    reply = await inter.response()
    assert reply.type == 4 and not reply.is_ephemeral
    fact = dataset().fact(shown_id(reply))
    assert fact is not None and fact.topic == "charts"
    assert reply.data["allowed_mentions"] == NO_PINGS
    assert [b["label"] for b in inter.message.buttons] == ["Another fact", "Details"]
    another = await (await emulator.click(inter.message, "Another fact", fan)).response()
    assert shown_id(another) != fact.id

    help_reply = await (await emulator.slash_user_install(guild, channel, fan, "help")).response()
    assert help_reply.is_ephemeral
    text = all_text(help_reply.embeds[0])
    assert "/quote" in text and "/fact" in text
    assert "In servers that added the bot." in text  # no trivia offered where it cannot run
    assert "/schedule" not in text


async def test_trivia_is_not_offered_where_the_bot_is_not(shared: Shared) -> None:
    emulator = shared.emulator
    guild, fan = elsewhere(shared, "player")
    for command in ("trivia play", "schedule list", "settings timezone"):
        with pytest.raises(AssertionError, match="Discord would not show it"):
            await emulator.slash_user_install(guild, guild.text_channels[0], fan, command)
        with pytest.raises(AssertionError, match="Discord would not show it"):
            await emulator.slash_dm(fan, command)


async def test_the_bot_answers_in_a_server_where_both_installed_it(shared: Shared) -> None:
    """A fan with the app installed in a server that also installed the bot: both owners, and
    the channel's bag (not the fan's) as for everyone there."""
    emulator, guild = shared.emulator, shared.guild
    fan = emulator.add_member(guild, "both")
    emulator.install_for_user(fan)
    inter = await emulator.slash(guild, guild.text_channels[0], fan, "quote")
    owners = inter.payload["authorizing_integration_owners"]
    assert owners == {"0": str(guild.id), "1": str(fan.id)}
    reply = await inter.response()
    assert reply.type == 4 and dataset().quote(shown_id(reply)) is not None


async def test_onthisday_about_and_details_outside_servers(shared: Shared) -> None:
    emulator = shared.emulator
    fan, friend = emulator.add_user("everywhere"), emulator.add_user("friend")
    emulator.install_for_user(fan)
    day = await (await emulator.slash_dm(fan, "onthisday", date="01-24")).response()
    assert day.embeds[0]["title"] == "On this day: 24 January" and not day.is_ephemeral

    group = emulator.group_dm(fan, friend, name="uaenas")
    about = await emulator.slash_private(group, fan, "about")
    assert (await about.response()).type == 4
    sources = await (await emulator.click(about.message, "All sources", fan)).response()
    assert sources.is_ephemeral

    guild, visitor = elsewhere(shared, "reader")
    quote = await emulator.slash_user_install(guild, guild.text_channels[0], visitor, "quote")
    await quote.response()
    details = await (await emulator.click(quote.message, "Details", visitor)).response()
    assert details.is_ephemeral and details.embeds
    # someone else in that server clicks the fan's button: still answered, by the fan's install
    other = emulator.add_member(guild, "other")
    click = await emulator.click(quote.message, "Another quote", other)
    assert click.owners == {"1": str(visitor.id)}
    assert (await click.response()).type == 4


@pytest.mark.parametrize(
    ("command", "path"),
    [("trivia", ["stop"]), ("trivia", ["leaderboard"]), ("schedule", ["list"])],
)
async def test_a_server_command_forged_from_elsewhere_is_refused_kindly(
    shared: Shared, command: str, path: list[str]
) -> None:
    """Discord never offers trivia, schedules or settings outside servers that added the bot;
    a request that claims one anyway (from a DM, or from a server where only the fan installed
    the app) gets the kind refusal, never an answer "in #this channel"."""
    emulator = shared.emulator
    registered = emulator.commands[command]
    data: dict[str, object] = {"id": registered["id"], "name": command, "type": 1, "options": []}
    for name in reversed(path):
        data["options"] = [{"name": name, "type": 1, "options": data["options"]}]
    fan = emulator.add_user(f"forger-{'-'.join(path)}")
    emulator.install_for_user(fan)
    from_dm = emulator._new_interaction(2, None, emulator.bot_dm(fan), fan, data, name=command)
    reply = await from_dm.response()
    assert reply.is_ephemeral
    assert "works in a server, not in direct messages" in all_text(reply.embeds[0])

    guild, member = elsewhere(shared, f"forger-{command}-{path[0]}")
    channel = guild.text_channels[0]
    from_there = emulator._new_interaction(2, guild, channel, member, data, name=command)
    reply = await from_there.response()
    assert reply.is_ephemeral
    assert "servers that added the bot" in all_text(reply.embeds[0])
