"""/quote and its persistent "Another quote" button (SPEC §4)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError, reply_in_time, report_error
from bot.domain import catalog, rotation
from bot.domain.models import Quote
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

SEARCH_MAX = 40  # keeps the button's custom_id (which carries the filters) under 100 characters


def _bot(interaction: discord.Interaction) -> LoveWinsAllBot:
    return interaction.client  # type: ignore[return-value]


async def pick_quote(bot: LoveWinsAllBot, scope_id: int, speaker: str, search: str) -> Quote:
    """A random quote matching the filters, without repeats in this channel (the shuffle bag)."""
    matching = catalog.quotes_matching(bot.dataset, speaker or None, search or None)
    if not matching:
        who = f" by {bot.dataset.people[speaker].name}" if speaker else ""
        words = f" containing “{search}”" if search else ""
        raise UserError(
            f"I found no quote{who}{words}. Try fewer or shorter words, or leave "
            "out the speaker to search every quote."
        )
    key = rotation.filter_key("quote", speaker=speaker, search=search)
    picked = await bot.store.draw(scope_id, "quote", key, [q.id for q in matching], bot.rng)
    quote = bot.dataset.quote(picked)
    assert quote is not None  # the bag only holds ids of `matching`
    return quote


class AnotherQuoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:quote:(?P<speaker>[a-z0-9-]*):(?P<search>.*)",
):
    """Carries the filters in its custom_id, so it keeps working after a restart."""

    def __init__(self, speaker: str = "", search: str = "") -> None:
        self.speaker, self.search = speaker, search
        super().__init__(
            discord.ui.Button(
                label="Another quote",
                style=discord.ButtonStyle.primary,
                emoji="💜",
                custom_id=f"lwa:quote:{speaker}:{search}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherQuoteButton:
        return cls(match["speaker"], match["search"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            bot = _bot(interaction)
            if self.speaker and self.speaker not in bot.dataset.people:
                self.speaker = ""  # the dataset changed since the button was made
            await reply_in_time(
                interaction,
                quote_reply(bot, interaction.channel_id or 0, self.speaker, self.search),
            )
        except Exception as error:
            await report_error(interaction, error)


async def quote_reply(
    bot: LoveWinsAllBot, scope_id: int, speaker: str, search: str
) -> dict[str, Any]:
    quote = await pick_quote(bot, scope_id, speaker, search)
    return {"embed": embeds.quote_embed(quote, bot.dataset), "view": quote_view(speaker, search)}


def quote_view(speaker: str, search: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnotherQuoteButton(speaker, search))
    return view


class Quotes(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="quote", description="A quote from IU, V, Um Tae-hwa and others about “Love wins all”"
    )
    @app_commands.describe(
        speaker="Who said it (IU, V, Um Tae-hwa…)",
        search="Words the quote must contain",
        id="Show one quote by its id (in the footer of every quote)",
    )
    async def quote(
        self,
        interaction: discord.Interaction,
        speaker: str | None = None,
        search: app_commands.Range[str, 1, SEARCH_MAX] | None = None,
        id: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        if id is not None:
            quote = self.bot.dataset.quote(id.strip().lower())
            if quote is None:
                raise UserError(
                    f"There is no quote with the id “{id}”. Ids look like "
                    "`q-v-totally-my-jam` and are shown under every quote."
                )
            await interaction.response.send_message(
                embed=embeds.quote_embed(quote, self.bot.dataset), view=quote_view("", "")
            )
            return
        speaker_id = ""
        if speaker:
            person = catalog.find_person(self.bot.dataset, speaker)
            if person is None:
                names = ", ".join(p.name for p in catalog.speakers(self.bot.dataset))
                raise UserError(
                    f"I don't know anyone called “{speaker}”. Pick a name from the "
                    f"list, for example: {names}."
                )
            speaker_id = person.id
        search_text = " ".join((search or "").split())
        await reply_in_time(
            interaction, quote_reply(self.bot, interaction.channel_id or 0, speaker_id, search_text)
        )

    @quote.autocomplete("speaker")
    async def speaker_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=embeds.clip(_person_label(p.name, p.aliases), 100), value=p.id)
            for p in catalog.people_matching(self.bot.dataset, current)
        ]


def _person_label(name: str, aliases: tuple[str, ...]) -> str:
    return f"{name} ({', '.join(aliases[:3])})" if aliases else name


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(AnotherQuoteButton)
    await bot.add_cog(Quotes(bot))
