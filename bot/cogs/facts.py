"""/fact [topic] (SPEC §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError, reply_in_time
from bot.domain import catalog, rotation
from bot.domain.models import TOPICS, Fact
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


async def pick_fact(bot: LoveWinsAllBot, scope_id: int, topic: str | None) -> Fact:
    """A random fact without repeats in this scope (a channel, or a server for daily posts)."""
    facts = catalog.facts_about(bot.dataset, topic)
    if not facts:
        raise UserError("There are no facts on that topic yet. Try `/fact` without a topic.")
    key = rotation.filter_key("fact", topic=topic or "")
    picked = await bot.store.draw(scope_id, "fact", key, [f.id for f in facts], bot.rng)
    fact = bot.dataset.fact(picked)
    assert fact is not None
    return fact


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
            fact = await pick_fact(self.bot, interaction.channel_id or 0, chosen)
            return {"embed": embeds.fact_embed(fact, self.bot.dataset)}

        await reply_in_time(interaction, reply())


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Facts(bot))
