"""/trivia play | stop | leaderboard | stats | reports, and the report form (SPEC §4).

The games are played by the trivia runner (`bot.services.games`, as `bot.games`); this cog reads
options, checks who may do what, and renders the replies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import SERVER_INSTALLS, manage_server, missing_post_permissions, permission_fix
from bot.domain.models import DIFFICULTIES, TOPICS
from bot.errors import PRIVATE, UserError, arm, done, report_error, respond
from bot.ui import trivia as ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

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

    @trivia_group.command(name="play", description="Start a trivia quiz in this channel")
    @app_commands.describe(
        questions="How many questions (1-20, default 5)",
        difficulty="easy, medium, hard or mixed (default)",
        seconds="Seconds per question (10-60, default 20)",
        topic="What the questions are about (default: everything)",
    )
    @app_commands.choices(
        difficulty=[app_commands.Choice(name=d, value=d) for d in ("mixed", *DIFFICULTIES)],
        topic=[app_commands.Choice(name=label, value=key) for key, label in TOPICS.items()],
    )
    async def play(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[int, 1, 20] = 5,
        difficulty: app_commands.Choice[str] | None = None,
        seconds: app_commands.Range[int, 10, 60] = 20,
        topic: app_commands.Choice[str] | None = None,
    ) -> None:
        level = difficulty.value if difficulty is not None else "mixed"
        missing = missing_post_permissions(interaction.app_permissions)
        if missing:
            where = getattr(interaction.channel, "name", None) or "this channel"
            raise UserError(f"I can't run a quiz here. {permission_fix(missing, where)}")
        await self.bot.games.start_game(
            guild_id=interaction.guild_id or 0,
            channel_id=interaction.channel_id or 0,
            starter_id=interaction.user.id,
            difficulty=level,
            count=questions,
            seconds=seconds,
            topic=topic.value if topic is not None else None,
        )
        await respond(
            interaction,
            embed=ui.game_started_embed(interaction.user.id, questions, level, seconds),
        )

    @trivia_group.command(name="stop", description="End this channel's trivia game")
    async def stop(self, interaction: discord.Interaction) -> None:
        here = await self.bot.games.game_here(interaction.channel_id or 0)
        if here is None:
            raise UserError(
                "There is no trivia game running in this channel. Start one with `/trivia play`."
            )
        record, live = here
        if live.stopping:
            raise UserError("This game is already being stopped.")
        if not (
            interaction.user.id == record.starter_id or interaction.permissions.manage_messages
        ):
            raise UserError(
                f"Only <@{record.starter_id}>, who started this game, or someone "
                "with Manage Messages can stop it."
            )
        live.stopping = True  # before any wait: a second /trivia stop finds it stopping

        standings = await self.bot.games.stop_game(live)
        note = (
            f"<@{interaction.user.id}> stopped the game. Points of the revealed questions "
            "stay on the leaderboard."
        )
        # One message: who stopped it, and how it went.
        await respond(interaction, embed=ui.standings_embed(standings, "Final standings", note))

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
            PERIOD_LABELS[key],
            interaction.user.id,
            board.since,
            board.timezone,
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
        await respond(interaction, embed=ui.stats_embed(stats))

    @trivia_group.command(
        name="reports",
        description="Problems fans reported with trivia questions (moderators)",
        extras={PRIVATE: True},
    )
    @manage_server
    async def reports(self, interaction: discord.Interaction) -> None:
        reports = await self.bot.scores.reports(interaction.guild_id or 0)
        await respond(interaction, embed=ui.reports_embed(reports))

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
                raise UserError(
                    "That report form is not yours to send. Open your own with the question's "
                    "“Report a problem” button."
                )
            if not reason.strip():
                raise UserError("Please say what is wrong with the question, in a few words.")
            report_id = await self.bot.scores.report(
                guild_id=interaction.guild_id or 0,
                channel_id=interaction.channel_id or 0,
                question_id=question_id,
                reporter_id=interaction.user.id,
                reason=reason.strip()[: ui.REPORT_REASON_MAX],
            )
            await respond(interaction, embed=ui.report_thanks_embed(report_id, question_id))
        except Exception as error:
            await report_error(interaction, error)
        else:
            done(interaction)


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(ui.ChoiceButton, ui.ReportButton)
    await bot.add_cog(Trivia(bot))
