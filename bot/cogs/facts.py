"""/fact [topic] and its persistent "Another fact" button (SPEC §4)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import anywhere
from bot.domain.models import TOPICS
from bot.errors import OneErrorPath, respond
from bot.services.content import BagScope
from bot.ui import embeds
from bot.ui.details import details_view

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class AnotherFactButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:fact:(?P<topic>[a-z0-9-]*)",
):
    """Carries the topic in its custom_id, so it keeps working after a restart."""

    def __init__(self, topic: str = "") -> None:
        self.topic = topic
        super().__init__(
            discord.ui.Button(
                label="Another fact",
                style=discord.ButtonStyle.primary,
                emoji="💜",
                custom_id=f"lwa:fact:{topic}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherFactButton:
        return cls(match["topic"])

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        topic = self.topic if self.topic in TOPICS else ""  # the dataset may have changed
        await respond(interaction, **await fact_reply(bot, bot.scope(interaction), topic))


async def fact_reply(bot: LoveWinsAllBot, scope: BagScope, topic: str) -> dict[str, Any]:
    fact = await bot.content.fact(scope, topic or None)
    return {
        "embed": embeds.fact_embed(fact, bot.dataset),
        "view": details_view("fact", fact.id, AnotherFactButton(topic)),
    }


class Facts(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(name="fact", description="A fact about “Love wins all”, with its source")
    @anywhere
    @app_commands.describe(topic="What the fact should be about")
    @app_commands.choices(
        topic=[app_commands.Choice(name=label, value=value) for value, label in TOPICS.items()]
    )
    async def fact(
        self, interaction: discord.Interaction, topic: app_commands.Choice[str] | None = None
    ) -> None:
        chosen = topic.value if topic is not None else ""
        scope = self.bot.scope(interaction)
        await respond(interaction, **await fact_reply(self.bot, scope, chosen))


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(AnotherFactButton)
    await bot.add_cog(Facts(bot))
