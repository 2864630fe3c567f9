"""A tiny stand-in bot used by the emulator's own tests.

Run like the real bot: ``python -m tests.fakediscord.samplebot`` with DISCORD_TOKEN,
DISCORD_API_BASE and DISCORD_GATEWAY_URL set. It is a plain discord.py
AutoShardedBot and is deliberately unaware of the emulator otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

log = logging.getLogger("samplebot")

SPEAKERS = ["IU", "V", "Taehyung", "Tae", "Jieun", "Director"]


class PingView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", style=discord.ButtonStyle.primary, custom_id="ping:again")
    async def again(
        self, interaction: discord.Interaction, button: discord.ui.Button[PingView]
    ) -> None:
        await interaction.response.edit_message(content=f"pong again for {interaction.user.name}")

    @discord.ui.button(label="Done", style=discord.ButtonStyle.secondary, custom_id="ping:done")
    async def done(
        self, interaction: discord.Interaction, button: discord.ui.Button[PingView]
    ) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="done", view=None)


class QuoteModal(discord.ui.Modal, title="Submit a quote"):
    text: discord.ui.TextInput[QuoteModal] = discord.ui.TextInput(
        label="Quote", custom_id="quote_text", max_length=200
    )
    who: discord.ui.TextInput[QuoteModal] = discord.ui.TextInput(
        label="Speaker", custom_id="quote_who", required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"saved: {self.text.value} ({self.who.value or 'unknown'})", ephemeral=True
        )


class SampleBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())

    async def setup_hook(self) -> None:
        self.add_view(PingView())
        await self.tree.sync()


bot = SampleBot()


@bot.tree.command(name="ping", description="Ping the bot")
@app_commands.describe(text="Something to echo")
async def ping(interaction: discord.Interaction, text: str = "", times: int = 1) -> None:
    embed = discord.Embed(title="Pong", description=f"{text or 'pong'} x{times}")
    await interaction.response.send_message(f"pong {text}".strip(), embed=embed, view=PingView())


@bot.tree.command(name="secret", description="Ephemeral reply with a button")
async def secret(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("only you", view=PingView(), ephemeral=True)


@bot.tree.command(name="defer", description="Deferred reply")
async def defer(interaction: discord.Interaction, followups: int = 1) -> None:
    await interaction.response.defer(thinking=True)
    await asyncio.sleep(0.05)
    for i in range(followups):
        await interaction.followup.send(f"followup {i}")


@bot.tree.command(name="slow", description="Responds after a delay")
async def slow(interaction: discord.Interaction, seconds: float) -> None:
    await asyncio.sleep(seconds)
    try:
        await interaction.response.send_message("finally")
    except discord.NotFound as exc:
        log.warning("too late: %s", exc)


@bot.tree.command(name="quote", description="Quote a speaker")
async def quote(interaction: discord.Interaction, speaker: str) -> None:
    await interaction.response.send_message(f"{speaker} said something")


@quote.autocomplete("speaker")
async def quote_speaker(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=s, value=s)
        for s in SPEAKERS
        if s.lower().startswith(current.lower())
    ]


@bot.tree.command(name="submit", description="Open a modal")
async def submit(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(QuoteModal())


@bot.tree.command(name="post", description="Post a channel message")
async def post(interaction: discord.Interaction, channel: discord.TextChannel, text: str) -> None:
    await interaction.response.defer(ephemeral=True)
    target = bot.get_channel(channel.id)
    assert isinstance(target, discord.TextChannel)
    try:
        await target.send(text, embed=discord.Embed(description=text))
    except discord.Forbidden as exc:
        await interaction.followup.send(f"forbidden {exc.code}", ephemeral=True)
    else:
        await interaction.followup.send("posted", ephemeral=True)


@bot.tree.command(name="burst", description="Send many messages at once")
async def burst(interaction: discord.Interaction, count: int) -> None:
    await interaction.response.defer()
    channel = interaction.channel
    assert isinstance(channel, discord.TextChannel)
    results = await asyncio.gather(
        *(channel.send(f"burst {i}") for i in range(count)), return_exceptions=True
    )
    ok = sum(1 for r in results if isinstance(r, discord.Message))
    await interaction.followup.send(f"sent {ok}/{count}")


@bot.tree.command(name="toolong", description="Sends an embed over the limit")
async def toolong(interaction: discord.Interaction) -> None:
    try:
        await interaction.response.send_message(embed=discord.Embed(description="x" * 5000))
    except discord.HTTPException as exc:
        log.warning("rejected: %s", exc)
        await interaction.response.send_message(f"rejected {exc.code}")


@bot.tree.command(name="perms", description="Report app permissions")
async def perms(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(str(interaction.app_permissions.value), ephemeral=True)


def point_at_emulator() -> str | None:
    """Apply DISCORD_API_BASE / DISCORD_GATEWAY_URL the way the real bot does; the gateway."""
    level = os.environ.get("LOG_LEVEL", "INFO")
    discord.utils.setup_logging(level=getattr(logging, level.upper(), logging.INFO), root=True)
    api_base = os.environ.get("DISCORD_API_BASE")
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if gateway:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return gateway


def run_until_signal(client: discord.Client, name: str) -> None:
    """Run `client` with DISCORD_TOKEN until it stops or gets SIGTERM/SIGINT."""

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with client:
            task = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()
        log.info("%s stopped", name)

    asyncio.run(runner())


def main() -> None:
    point_at_emulator()
    run_until_signal(bot, "sample bot")


if __name__ == "__main__":
    main()
