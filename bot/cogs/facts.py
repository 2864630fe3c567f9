"""/fact [topic] (SPEC §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import TOPICS
from bot.errors import reply_in_time
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class Facts(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(name="fact", description="A fact about “Love wins all”, with its source")
    @app_commands.describe(topic="What the fact should be about")
    @app_commands.choices(
        topic=[app_commands.Choice(name=label, value=value) for value, label in TOPICS.items()]
    )
    async def fact(
        self, interaction: discord.Interaction, topic: app_commands.Choice[str] | None = None
    ) -> None:
        chosen = topic.value if topic is not None else None

        async def reply() -> dict[str, Any]:
            fact = await self.bot.content.fact(interaction.channel_id or 0, chosen)
            return {"embed": embeds.fact_embed(fact, self.bot.dataset)}

        await reply_in_time(interaction, reply())


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Facts(bot))
