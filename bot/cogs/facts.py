"""/fact [topic] (SPEC §4); its reply and "Another fact" are `bot.ui.content`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import anywhere
from bot.domain.models import TOPICS
from bot.errors import respond
from bot.i18n import Language, language_of, render
from bot.ui.content import AnotherFactButton, fact_message

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class Facts(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(name="fact", description="A fact about “Love wins all”, with its source")
    @anywhere
    @app_commands.describe(topic="What the fact should be about")
    @app_commands.choices(  # English names: Discord shows Korean ones from commands.po
        topic=[
            app_commands.Choice(name=render(label, Language.EN), value=value)
            for value, label in TOPICS.items()
        ]
    )
    async def fact(
        self, interaction: discord.Interaction, topic: app_commands.Choice[str] | None = None
    ) -> None:
        chosen = topic.value if topic is not None else ""
        fact = await self.bot.content.fact(self.bot.scope(interaction), chosen or None)
        language = language_of(interaction.locale)
        await respond(interaction, **fact_message(self.bot, fact, chosen, language))


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(AnotherFactButton)
    await bot.add_cog(Facts(bot))
