"""/trivia play | stop | leaderboard | stats | reports, the report form, and the moderators'
verdicts on reports (SPEC §4).

The games are played by the trivia runner (`bot.services.games`, as `bot.games`); this cog reads
options, checks who may do what, and renders the replies: a player's own in their language, and
what opens or closes a game for the whole channel in the server's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    SERVER_INSTALLS,
    manage_server,
)
from bot.domain.models import DIFFICULTIES, TOPICS
from bot.domain.trivia import MIXED, Rematch
from bot.errors import PRIVATE, UserError, arm, done, report_error, respond
from bot.i18n import Language, language_of, render
from bot.ui import trivia as ui
from bot.ui.notices import permission_names

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

# The choices' names are Discord's (translated by commands.po); replies name periods in words
# of the catalogue (ui.PERIODS).
PERIOD_LABELS = {"all": "all time", "week": "this week", "month": "this month"}


class Trivia(commands.Cog):
    trivia_group = app_commands.Group(
        name="trivia",
        description="Trivia quizzes about “Love wins all”, played together",
        guild_only=True,
        allowed_installs=SERVER_INSTALLS,
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    async def server_language(self, interaction: discord.Interaction) -> Language:
        """The language of what the channel sees of a game (its start, its standings)."""
        return await self.bot.servers.language(interaction.guild_id, interaction.guild_locale)

    @trivia_group.command(name="play", description="Start a trivia quiz in this channel")
    @app_commands.describe(
        questions="How many questions (1-20, default 5)",
        difficulty="easy, medium, hard or mixed (default)",
        seconds="Seconds per question (10-60, default 20)",
        topic="What the questions are about (default: everything)",
    )
    @app_commands.choices(
        difficulty=[app_commands.Choice(name=d, value=d) for d in ("mixed", *DIFFICULTIES)],
        topic=[
            app_commands.Choice(name=render(label, Language.EN), value=key)
            for key, label in TOPICS.items()
        ],
    )
    async def play(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[int, 1, 20] = 5,
        difficulty: app_commands.Choice[str] | None = None,
        seconds: app_commands.Range[int, 10, 60] = 20,
        topic: app_commands.Choice[str] | None = None,
    ) -> None:
        level = difficulty.value if difficulty is not None else MIXED
        chosen = topic.value if topic is not None else None
        await ui.start_here(interaction, Rematch(questions, level, seconds, chosen))

    @trivia_group.command(name="stop", description="End this channel's trivia game")
    async def stop(self, interaction: discord.Interaction) -> None:
        here = await self.bot.games.game_here(interaction.channel_id or 0)
        if here is None:
            raise UserError("trivia.stop.no_game")
        record, live = here
        if live.stopping:
            raise UserError("trivia.stop.already_stopping")
        if not (
            interaction.user.id == record.starter_id or interaction.permissions.manage_messages
        ):
            raise UserError(
                "trivia.stop.not_allowed",
                starter=record.starter_id,
                permission=permission_names(
                    ["manage_messages"], language_of(interaction.locale), bold=True
                ),
            )
        live.stopping = True  # before any wait: a second /trivia stop finds it stopping

        standings = await self.bot.games.stop_game(live)
        language = await self.server_language(interaction)
        note = render("trivia.standings.stopped_by", language, user=interaction.user.id)
        # One message for the channel: who stopped it, and how it went.
        embed = ui.standings_embed(standings, note=note, recap=live.game.recap(), language=language)
        rematch = live.rematch
        if rematch is None:
            await respond(interaction, embed=embed)
        else:
            await respond(interaction, embed=embed, view=ui.play_again_view(rematch, language))

    @trivia_group.command(name="leaderboard", description="The server's top 10 trivia players")
    @app_commands.describe(period="all (default), week or month, in the server's timezone")
    @app_commands.choices(
        period=[app_commands.Choice(name=label, value=key) for key, label in PERIOD_LABELS.items()]
    )
    async def leaderboard(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        key = period.value if period is not None else "all"
        board = await self.bot.scores.leaderboard(
            interaction.guild_id or 0, interaction.user.id, key
        )
        embed = ui.leaderboard_embed(
            board.rows,
            board.caller,
            key,
            interaction.user.id,
            board.since,
            board.timezone,
            language=language_of(interaction.locale),
        )
        await respond(interaction, embed=embed)

    @trivia_group.command(
        name="stats", description="A player's trivia points, accuracy and best streak"
    )
    @app_commands.describe(member="Whose stats (default: yours)")
    async def stats(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        who = member or interaction.user
        stats = await self.bot.scores.player(interaction.guild_id or 0, who.id)
        embed = ui.stats_embed(stats, language=language_of(interaction.locale))
        await respond(interaction, embed=embed)

    @trivia_group.command(
        name="reports",
        description="Problems fans reported with trivia questions (moderators)",
        extras={PRIVATE: True},
    )
    @manage_server
    async def reports(self, interaction: discord.Interaction) -> None:
        reports = await self.bot.scores.open_reports(interaction.guild_id or 0)
        message = ui.reports_message(
            reports, self.bot.dataset, language=language_of(interaction.locale)
        )
        await respond(interaction, **message)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """A report form submitted (see `ui.ReportModal`): stored, and the fan thanked."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        form = ui.read_report_form(interaction.data)
        if form is None:
            return
        question_id, reporter_id, reason = form
        arm(interaction, ephemeral=True)
        try:
            if reporter_id != interaction.user.id:
                raise UserError("trivia.report.not_yours")
            if not reason.strip():
                raise UserError("trivia.report.empty")
            await self.bot.scores.report(
                guild_id=interaction.guild_id or 0,
                channel_id=interaction.channel_id or 0,
                question_id=question_id,
                reporter_id=interaction.user.id,
                reason=reason.strip()[: ui.REPORT_REASON_MAX],
            )
            thanks = ui.report_thanks_embed(
                self.bot.dataset, question_id, language=language_of(interaction.locale)
            )
            await respond(interaction, embed=thanks)
        except Exception as error:
            await report_error(interaction, error)
        else:
            done(interaction)


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(
        ui.ChoiceButton, ui.ReportButton, ui.ResolveButton, ui.PlayAgainButton, ui.FiftyFiftyButton
    )
    await bot.add_cog(Trivia(bot))
