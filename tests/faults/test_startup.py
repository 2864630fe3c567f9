"""Discord refuses the bot, or cannot be reached, when it starts (SPEC §2).

A refusal no retry can fix (gateway close codes 4004, 4010, 4011, 4013, 4014) ends the real bot
process with one line naming what to change and exit code 2. An unreachable Discord (API or
gateway) is not a configuration error: one log line a try, retries with backoff until it
connects, and SIGTERM meanwhile still exits 0 at once. No traceback in any of these.
"""

# The helpers take `timeout=` arguments, like the emulator's driver.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.emulator import Emulator
from tests.shared import closed_port

TOKEN_REFUSED = "DISCORD_TOKEN was refused by Discord: check the token in .env (see .env.example)"
SHARDS_4010 = (
    "Discord refused the bot's shard configuration (gateway close code 4010, invalid shard): "
    "the bot lets discord.py choose the shards from Discord's recommendation (GET "
    "/gateway/bot); if DISCORD_API_BASE or DISCORD_GATEWAY_URL point at a proxy, check that it "
    "passes Discord's answers through unchanged (see .env.example)"
)
SHARDS_4011 = (
    "Discord requires more shards than the bot connected with (gateway close code 4011, "
    "sharding required): the bot lets discord.py choose the shards from Discord's "
    "recommendation (GET /gateway/bot), so start it again to ask anew; if DISCORD_API_BASE "
    "points at a proxy, check that it passes Discord's answer through unchanged "
    "(see .env.example)"
)
INTENTS_4013 = (
    "Discord refused the bot's gateway intents as invalid (gateway close code 4013): the bot "
    "asks for the Guilds intent only, which is not privileged; nothing needs turning on in the "
    "Developer Portal, so check that DISCORD_GATEWAY_URL points at Discord's gateway or a proxy "
    "that passes it through unchanged (see .env.example)"
)
INTENTS_4014 = (
    "Discord refused the bot's gateway intents as not allowed (gateway close code 4014): the "
    "bot asks for the Guilds intent only, which is not privileged; in the Developer Portal, "
    "Bot → Privileged Gateway Intents, check the application's settings and any pending "
    "intent review (see README: Set up)"
)

LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


def printed(bot: BotProcess) -> list[str]:
    """What the latest run wrote besides its log records: the operator's one line."""
    return [
        line for line in bot.this_run().splitlines() if line.strip() and not LOG_RECORD.match(line)
    ]


async def exit_code(bot: BotProcess, timeout: float = 20) -> int:
    assert bot.proc is not None
    return await asyncio.wait_for(bot.proc.wait(), timeout)


@contextlib.asynccontextmanager
async def forwarding(port: int, to_port: int) -> AsyncIterator[None]:
    """Discord comes back: `port` starts accepting connections, piped to `to_port`."""
    pipes: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", to_port)
        except OSError:
            writer.close()
            return
        both = [
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ]
        pipes.update(both)
        await asyncio.gather(*both, return_exceptions=True)

    server = await asyncio.start_server(accept, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)


def assert_no_traceback(bot: BotProcess) -> None:
    assert "Traceback" not in bot.logs(), bot.log_tail()


# --- refusals: one line, exit 2 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (4004, TOKEN_REFUSED),
        (4010, SHARDS_4010),
        (4011, SHARDS_4011),
        (4013, INTENTS_4013),
        (4014, INTENTS_4014),
    ],
)
async def test_a_fatal_gateway_close_is_one_line_and_exit_2(
    emulator: Emulator, bot_factory: Any, code: int, line: str
) -> None:
    bot: BotProcess = await bot_factory()
    await emulator.close_gateway(code)
    assert await exit_code(bot) == 2
    assert printed(bot) == [line]
    assert_no_traceback(bot)


async def test_sharding_required_at_identify_is_one_line_and_exit_2(
    emulator: Emulator, bot_factory: Any
) -> None:
    emulator.add_guild("one")
    emulator.add_guild("two")
    emulator.max_guilds_per_shard = 1  # Discord: too many servers for one shard
    bot: BotProcess = await bot_factory(wait_ready=False)
    assert await exit_code(bot) == 2
    assert printed(bot) == [SHARDS_4011]
    assert emulator.ready_count == 0
    assert_no_traceback(bot)


async def test_a_token_refused_at_login_is_one_line_and_exit_2(
    emulator: Emulator, bot_factory: Any
) -> None:
    made_up = "MTIzNDU2Nzg5MDEyMzQ1Njc4.made.up-token-of-the-right-form"
    bot: BotProcess = await bot_factory(extra_env={"DISCORD_TOKEN": made_up}, wait_ready=False)
    assert await exit_code(bot) == 2
    assert printed(bot) == [TOKEN_REFUSED]
    assert made_up not in bot.logs()
    assert_no_traceback(bot)


# --- Discord unreachable: one line a try, retries, SIGTERM still works ------------------------


# The retries wait on the bot's clock: at 4 times real speed, "1 s" and "2 s" pass in 0.75 s.
FAST = 4.0


def _unreachable(port: int, *, api: bool, gateway: bool, emulator: Emulator) -> dict[str, str]:
    return {
        "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10" if api else emulator.api_base,
        "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/" if gateway else emulator.gateway_url,
    }


async def test_discord_unreachable_at_start_up_is_retried_until_it_answers(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    port = closed_port()
    env = _unreachable(port, api=True, gateway=True, emulator=emulator)
    bot: BotProcess = await bot_factory(
        extra_env=env, wait_ready=False, clock=BotClock(tmp_path / "clock", speed=FAST)
    )
    failed = (
        f"cannot reach Discord at http://127.0.0.1:{port}/api/v10: cannot connect to "
        f"127.0.0.1:{port} (Connection refused); trying again in"
    )
    await bot.wait_for_log(f"{failed} 1 s")
    await bot.wait_for_log(f"{failed} 2 s")  # a second try, a longer pause
    async with forwarding(port, emulator.port):
        await bot.wait_ready()
        assert emulator.stats["GET /users/@me"] >= 1
        assert_no_traceback(bot)
        tries = [line for line in bot.this_run().splitlines() if "cannot reach Discord" in line]
        assert len(tries) in (2, 3), tries  # one line a try, nothing more
        assert await bot.stop() == 0


async def test_sigterm_while_discord_is_unreachable_exits_0_at_once(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    port = closed_port()
    env = _unreachable(port, api=True, gateway=True, emulator=emulator)
    bot: BotProcess = await bot_factory(
        extra_env=env, wait_ready=False, clock=BotClock(tmp_path / "clock", speed=FAST)
    )
    await bot.wait_for_log("trying again in 2 s")
    started = time.monotonic()
    assert await bot.stop() == 0
    assert time.monotonic() - started < 5
    assert "stopped cleanly" in bot.this_run()
    assert_no_traceback(bot)


async def test_a_gateway_unreachable_at_start_up_is_retried_until_it_answers(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    port = closed_port()
    env = _unreachable(port, api=False, gateway=True, emulator=emulator)
    bot: BotProcess = await bot_factory(
        extra_env=env, wait_ready=False, clock=BotClock(tmp_path / "clock", speed=FAST)
    )
    failed = (
        f"cannot reach Discord's gateway at ws://127.0.0.1:{port}/: cannot connect to "
        f"127.0.0.1:{port} (Connection refused); trying again in"
    )
    await bot.wait_for_log(f"{failed} 1 s")
    await bot.wait_for_log(f"{failed} 2 s")
    async with forwarding(port, emulator.port):
        await bot.wait_ready()
        assert_no_traceback(bot)
        assert await bot.stop() == 0


async def test_sigterm_while_the_gateway_is_unreachable_exits_0_at_once(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    port = closed_port()
    env = _unreachable(port, api=False, gateway=True, emulator=emulator)
    bot: BotProcess = await bot_factory(
        extra_env=env, wait_ready=False, clock=BotClock(tmp_path / "clock", speed=FAST)
    )
    await bot.wait_for_log("cannot reach Discord's gateway")
    started = time.monotonic()
    assert await bot.stop() == 0
    assert time.monotonic() - started < 5
    assert "stopped cleanly" in bot.this_run()
    assert_no_traceback(bot)
