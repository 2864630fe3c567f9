"""/about: what the bot is, the dataset's counts, its version and every source (SPEC §4)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.checks import anywhere
from bot.errors import OneErrorPath, respond
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class SourcesPageButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:sources:(?P<page>\d{1,3}):(?P<mode>new|edit)",
):
    """Opens (mode new) or turns (mode edit) the ephemeral, paged list of sources (from the
    dataset in memory: nothing to wait for, and a page turn is an edit, which cannot follow a
    deferral)."""

    private, defers = True, False

    def __init__(self, page: int, mode: str, label: str) -> None:
        self.page, self.mode = page, mode
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"lwa:sources:{page}:{mode}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SourcesPageButton:
        return cls(int(match["page"]), match["mode"], "Sources")

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        embed = embeds.sources_embed(bot.dataset, self.page)
        view = sources_view(bot, self.page)
        if self.mode == "edit":
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await respond(interaction, embed=embed, view=view, ephemeral=True)


def sources_view(bot: LoveWinsAllBot, page: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    pages = embeds.sources_page_count(bot.dataset)
    if page > 0:
        view.add_item(SourcesPageButton(page - 1, "edit", "◀ Previous"))
    if page < pages - 1:
        view.add_item(SourcesPageButton(page + 1, "edit", "Next ▶"))
    return view


class About(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What this bot is, its dataset and its sources")
    @anywhere
    async def about(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(SourcesPageButton(0, "new", "All sources"))
        await respond(
            interaction, embed=embeds.about_embed(self.bot.dataset, __version__), view=view
        )


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(SourcesPageButton)
    await bot.add_cog(About(bot))
