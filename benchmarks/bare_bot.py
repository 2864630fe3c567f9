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

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.app import client_options, use_gateway
from tests.fakediscord.samplebot import point_at_emulator, run_until_signal

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
        super().__init__(**client_options())  # the real bot's intents and caches
        self.gateway_url = gateway_url

    async def setup_hook(self) -> None:
        if self.gateway_url:
            use_gateway(self, self.gateway_url)
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
    run_until_signal(build(point_at_emulator()), "bare bot")


if __name__ == "__main__":
    main()
