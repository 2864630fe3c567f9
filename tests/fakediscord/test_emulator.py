"""End-to-end tests of the emulator with the sample bot running as a real subprocess."""

from __future__ import annotations

import pytest

from tests.fakediscord import permissions as P
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator


async def test_login_ready_commands_slash_button(
    emulator: Emulator, sample_bot: BotProcess
) -> None:
    g = emulator.guilds[0]
    assert emulator.identify_count == 1 and emulator.ready_count == 1
    assert emulator.stats["GET /users/@me"] >= 1
    assert emulator.stats["GET /gateway/bot"] == 1
    await emulator.wait_for_commands("ping", "quote")
    assert emulator.commands["ping"]["options"][0]["name"] == "text"

    fan = emulator.add_member(g, "fan")
    inter = await emulator.slash(g, g.text_channels[0], fan, "ping", text="hello", times=2)
    resp = await inter.response()
    assert resp.type == 4
    assert resp.content == "pong hello"
    assert resp.embeds[0]["description"] == "hello x2"
    assert inter.latency is not None and inter.latency < 3
    msg = await inter.original()
    assert [b["label"] for b in msg.buttons] == ["Again", "Done"]
    assert not inter.is_ephemeral

    click = await emulator.click(inter, "Again", fan)
    cresp = await click.response()
    assert cresp.type == 7
    assert emulator.messages[msg.id].content == "pong again for fan"

    done = await emulator.click(msg, "ping:done", fan)
    assert (await done.response()).type == 6
    edited = await emulator.wait_for_edit(msg, lambda m: m.content == "done")
    assert edited.components == []


async def test_ephemeral_defer_autocomplete_modal(
    emulator: Emulator, sample_bot: BotProcess
) -> None:
    g = emulator.guilds[0]
    ch = g.text_channels[0]
    fan, other = emulator.add_member(g, "fan"), emulator.add_member(g, "other")

    secret = await emulator.slash(g, ch, fan, "secret")
    assert (await secret.response()).is_ephemeral and secret.is_ephemeral
    assert emulator.channel_messages(ch) == []  # ephemeral messages are not in the channel
    try:
        await emulator.click(secret, "Again", other)
    except AssertionError as exc:
        assert "ephemeral" in str(exc)
    else:
        raise AssertionError("others must not click ephemeral buttons")
    assert (await (await emulator.click(secret, "Again", fan)).response()).type == 7

    deferred = await emulator.slash(g, ch, fan, "defer", followups=2)
    assert (await deferred.response()).type == 5
    first = await deferred.original()
    assert first.content == "followup 0"  # the first followup replaces "thinking..."
    (second,) = await deferred.followups(1)
    assert second.content == "followup 1"

    assert [
        c["name"]
        for c in await emulator.autocomplete(g, ch, fan, "quote", focused="speaker", value="Ta")
    ] == [
        "Taehyung",
        "Tae",
    ]

    opened = await emulator.slash(g, ch, fan, "submit")
    modal = await opened.response()
    assert modal.type == 9 and modal.title == "Submit a quote"
    submitted = await emulator.submit_modal(opened, {"Quote": "love wins all", "quote_who": "IU"})
    sresp = await submitted.response()
    assert sresp.content == "saved: love wins all (IU)" and sresp.is_ephemeral


async def test_reconnect_resume_and_reidentify(emulator: Emulator, sample_bot: BotProcess) -> None:
    g = emulator.guilds[0]
    fan = emulator.add_member(g, "fan")

    resumes = emulator.resume_count
    await emulator.close_gateway(4000)
    await emulator.wait_for_resume(resumes)
    assert emulator.identify_count == 1
    inter = await emulator.slash(g, g.text_channels[0], fan, "ping")
    assert (await inter.response()).type == 4

    # 1000: session invalidated -> RESUME refused -> discord.py IDENTIFYs again
    # (after its 5 s before_identify_hook pause).
    readies = emulator.ready_count
    await emulator.close_gateway(1000)
    await emulator.wait_for_ready(after=readies, timeout=20)
    assert emulator.identify_count == 2
    assert emulator.stats["gateway:resume_rejected"] == 1
    inter = await emulator.slash(g, g.text_channels[0], fan, "ping", text="again")
    assert (await inter.response()).content == "pong again"


async def test_callback_after_deadline_gets_10062(
    emulator: Emulator, sample_bot: BotProcess
) -> None:
    emulator.interaction_deadline = 0.3
    emulator.expect_late_callbacks = True
    g = emulator.guilds[0]
    fan = emulator.add_member(g, "fan")
    inter = await emulator.slash(g, g.text_channels[0], fan, "slow", seconds=0.6)
    await emulator.wait_until(lambda: bool(inter.rejected), 5, "the late callback")
    assert inter.rejected[0]["code"] == 10062 and inter.callback is None
    assert emulator.late_callbacks == [inter]
    ok = await emulator.slash(g, g.text_channels[0], fan, "slow", seconds=0.0)
    assert (await ok.response()).content == "finally"


async def test_bot_payload_over_limit_is_a_violation(
    emulator: Emulator, sample_bot: BotProcess
) -> None:
    emulator.expect_violations = True
    g = emulator.guilds[0]
    fan = emulator.add_member(g, "fan")
    inter = await emulator.slash(g, g.text_channels[0], fan, "toolong")
    resp = await inter.response()
    assert resp.content == "rejected 50035"  # discord.py raised HTTPException(400, 50035)
    (violation,) = emulator.violations
    # Refused by Discord's schema ("data.embeds[0].description") or, in a clone without it,
    # by the emulator's own rules ("embeds.0.description"): the same place either way.
    assert [e.path[-3:] for e in violation.errors] == [("embeds", 0, "description")]
    assert "x" * 5000 in str(violation)


async def test_channel_permissions_with_real_bot(
    emulator: Emulator, sample_bot: BotProcess
) -> None:
    g = emulator.guilds[0]
    general = g.text_channels[0]
    fan = emulator.add_member(g, "fan")
    locked = emulator.add_channel(g, "locked")
    emulator.set_overwrite(locked, emulator.bot_role(g), deny=P.SEND_MESSAGES)

    inter = await emulator.slash(g, general, fan, "post", channel=locked, text="hi")
    reply = await inter.original()
    assert reply.content == "forbidden 50013"
    assert emulator.channel_messages(locked) == []

    inter = await emulator.slash(g, general, fan, "post", channel=general, text="hi there")
    assert (await inter.original()).content == "posted"
    posted = await emulator.wait_for_message(general)
    assert posted.content == "hi there" and posted.embeds[0]["description"] == "hi there"

    # app_permissions reflect overwrites
    perms = await emulator.slash(g, locked, fan, "perms")
    value = int((await perms.response()).content)
    assert value & P.VIEW_CHANNEL and not value & P.SEND_MESSAGES


@pytest.mark.xdist_group("timing")
async def test_global_rate_limit_via_bot(emulator: Emulator, sample_bot: BotProcess) -> None:
    emulator.global_rate_limit = 10
    g = emulator.guilds[0]
    fan = emulator.add_member(g, "fan")
    # 15 at once against 10 a second: some meet the global 429 and get through on a retry.
    # (Many more would also meet discord.py's limit of 5 tries per request on a busy machine.)
    inter = await emulator.slash(g, g.text_channels[0], fan, "burst", count=15)
    msg = await inter.original(timeout=15)
    assert msg.content == "sent 15/15"
    assert emulator.stats["429:global"] >= 1
    assert len(emulator.channel_messages(g.text_channels[0], include_ephemeral=False)) == 16


async def test_restart_keeps_commands(emulator: Emulator, sample_bot: BotProcess) -> None:
    await emulator.wait_for_commands("ping")
    ping_id = emulator.commands["ping"]["id"]
    db = sample_bot.database_path
    await sample_bot.restart()
    assert sample_bot.returncode is None and sample_bot.database_path == db
    assert emulator.identify_count == 2
    assert emulator.commands["ping"]["id"] == ping_id  # bulk overwrite keeps ids
    g = emulator.guild
    inter = await emulator.slash(g, g.text_channels[0], emulator.add_member(g, "fan"), "ping")
    assert (await inter.response()).type == 4
    await sample_bot.stop()
    assert sample_bot.returncode is not None
    assert "===== start #2" in sample_bot.logs()
