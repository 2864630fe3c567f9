"""The baseline: a bare discord.py AutoShardedBot doing the least a bot can do.

`/quote` answers with one constant embed (and four constant buttons, as the real bot's replies
carry a button); a click on one of those buttons gets an ephemeral constant reply. No
database, no dataset. It is pointed at the emulator exactly like the real bot (`bot/app.py`):
`DISCORD_API_BASE` -> `discord.http.Route.BASE`, `DISCORD_GATEWAY_URL` ->
`DiscordWebSocket.DEFAULT_GATEWAY` and the URL the auto-sharded client gets from
`GET /gateway/bot`. Same intents and caches as the real bot (guilds only, no member or message
cache), so the difference the benchmarks measure is the bot's own work.

Run: ``python -m benchmarks.bare_bot`` with DISCORD_TOKEN, DISCORD_API_BASE and
DISCORD_GATEWAY_URL set (LOG_LEVEL optional). SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket

log = logging.getLogger("bare_bot")

QUOTE = discord.Embed(
    title="A quote",
    description="“Love wins all.” — a constant quote from the bare baseline bot",
    colour=0x9B59B6,
).set_footer(text="Quote q-bare-constant")
LOCKED = discord.Embed(description="🔒 Locked in. (constant reply of the bare bot)")
CHOICES = ("A", "B", "C", "D")


class ChoiceView(discord.ui.View):
    """Four persistent buttons, like a trivia question's choices."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        for i, label in enumerate(CHOICES):
            button: discord.ui.Button[ChoiceView] = discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"bare:choice:{i}"
            )
            button.callback = self._clicked  # type: ignore[method-assign]
            self.add_item(button)

    async def _clicked(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(embed=LOCKED, ephemeral=True)


class BareBot(commands.AutoShardedBot):
    def __init__(self, gateway_url: str | None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.gateway_url = gateway_url

    async def setup_hook(self) -> None:
        if self.gateway_url:
            ask_discord = self.http.get_bot_gateway
            configured = self.gateway_url

            async def get_bot_gateway() -> Any:
                shards, _url, limits = await ask_discord()
                return shards, configured, limits

            self.http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]
        self.add_view(ChoiceView())
        await self.tree.sync()

    async def on_ready(self) -> None:
        # The same line as the real bot: the benchmarks wait for it.
        log.info(
            "ready as %s in %d servers (%d shards)",
            self.user,
            len(self.guilds),
            self.shard_count or 1,
        )


def build(gateway_url: str | None) -> BareBot:
    bot = BareBot(gateway_url)

    @bot.tree.command(name="quote", description="A constant quote (baseline bot)")
    async def quote(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=QUOTE, view=ChoiceView())

    return bot


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.INFO))

    api_base = os.environ.get("DISCORD_API_BASE")
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if gateway:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    bot = build(gateway)

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with bot:
            task = asyncio.create_task(bot.start(os.environ["DISCORD_TOKEN"]))
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()
        log.info("bare bot stopped")

    asyncio.run(runner())


if __name__ == "__main__":
    main()
