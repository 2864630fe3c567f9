"""discord.py's rate-limit buckets after a burst of posts into thousands of channels: cleared
of the unused ones at a cost that grows with the table, not with its square (bot/app.py)."""

from __future__ import annotations

import asyncio

import discord

from bot.app import spread_ratelimit_cleanup


async def test_thousands_of_channels_cost_a_few_scans_and_unused_buckets_still_go() -> None:
    loop = asyncio.get_running_loop()
    http = discord.http.HTTPClient(loop)
    scans = 0
    scan = http._try_clear_expired_ratelimits

    def counted() -> None:
        nonlocal scans
        scans += 1
        scan()

    http._try_clear_expired_ratelimits = counted  # type: ignore[method-assign]
    spread_ratelimit_cleanup(http)
    for channel in range(10_000):  # a burst of scheduled posts, one a channel
        http.get_ratelimit(f"POST /channels/{channel}/messages")
    assert scans <= 6  # at 256, 512, … 8192 buckets; discord.py alone scans 9,745 times
    assert len(http._buckets) == 10_000  # none unused yet: none cleared

    for bucket in http._buckets.values():  # five minutes on, all unused
        bucket._last_request = loop.time() - 301
    channel = 10_000
    while len(http._buckets) >= 10_000:  # new channels, until the table is looked through
        http.get_ratelimit(f"POST /channels/{channel}/messages")
        channel += 1
        assert channel < 40_000, "the unused buckets were never cleared"
    # Every unused bucket went; only the new channels' are left.
    assert len(http._buckets) == channel - 10_000
    await http.close()
