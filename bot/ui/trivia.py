"""Trivia messages: question, reveal, standings, leaderboard embeds and their buttons.

The buttons are `DynamicItem`s whose custom_id carries the game, the question and the choice,
so a click is understood even after a restart. A click goes to the trivia runner
(`bot.games`); what it raises goes down the one error path.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.models import Dataset, Question
from bot.domain.records import LeaderRow, PlayerStats, Report
from bot.domain.schedule import ALL_DAYS, PostKind, post_title, timezone_label
from bot.domain.trivia import AnswerOutcome, OpenQuestion, Reveal, Standing, shuffled_choices
from bot.errors import OneErrorPath, UserError, respond
from bot.services.games import DAILY_SECONDS
from bot.ui.details import DetailsButton
from bot.ui.embeds import COLOUR, _embed, clip, join_within, short_source

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot
    from bot.services.games import Answered

LABEL_MAX = 80
REPORT_REASON_MAX = 500


class ChoiceButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:t:(?P<game>\d{1,18}):(?P<index>\d{1,2}):(?P<choice>\d)",
):
    private = True

    def __init__(
        self,
        game_id: int,
        index: int,
        choice: int,
        label: str = "…",
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
        disabled: bool = False,
    ) -> None:
        self.game_id, self.index, self.choice = game_id, index, choice
        super().__init__(
            discord.ui.Button(
                label=clip(label, LABEL_MAX),
                style=style,
                disabled=disabled,
                custom_id=f"lwa:t:{game_id}:{index}:{choice}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ChoiceButton:
        return cls(int(match["game"]), int(match["index"]), int(match["choice"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client

        answered = await bot.games.answer(
            game_id=self.game_id,
            index=self.index,
            choice=self.choice,
            user_id=interaction.user.id,
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
        )
        await respond(interaction, embed=answered_embed(answered))


def asks_question_of(custom_id: str, game_id: int) -> bool:
    """Whether a button's custom_id is an answer to the first question of game `game_id`: the
    marker of a daily question's post (bot/posting.py finds a post by it)."""
    match = ChoiceButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    return match is not None and int(match["game"]) == game_id and match["index"] == "0"


def answered_embed(answered: Answered) -> discord.Embed:
    if answered.outcome is AnswerOutcome.LOCKED:
        text = f"🔒 Locked in: **{answered.label}**. The answer is revealed when time is up."
    elif answered.outcome is AnswerOutcome.ALREADY_ANSWERED:
        text = (
            f"You already answered this one: **{answered.label or '?'}**. Your first click counts."
        )
    else:
        text = "This question is closed. Wait for the next one!"
    return discord.Embed(description=text, colour=COLOUR)


class ReportButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:report:(?P<question>[a-z0-9-]{1,48})",
):
    """Opens the report form for its question (a form cannot follow a deferral)."""

    defers = False

    def __init__(self, question_id: str) -> None:
        self.question_id = question_id
        super().__init__(
            discord.ui.Button(
                label="Report a problem",
                emoji="🚩",
                style=discord.ButtonStyle.secondary,
                custom_id=f"lwa:report:{question_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ReportButton:
        return cls(match["question"])

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        if bot.dataset.question(self.question_id) is None:
            raise UserError(
                "That question is no longer in the dataset, so there is nothing to report."
            )
        form = ReportModal(self.question_id, interaction.user.id)
        await interaction.response.send_modal(form)
        form.stop()  # its submission is handled by its custom_id (see read_report_form)


REPORT_FORM = re.compile(r"lwa:reportform:(?P<question>[a-z0-9-]{1,48}):(?P<reporter>\d{1,20})")
REPORT_REASON_ID = "lwa:report-reason"


class ReportModal(discord.ui.Modal):
    """The report form. Its custom_id names the question and the reporter, and the submission
    is handled by that id (`read_report_form`), not by this object: any number of fans can
    report one question at once, and a form left open across a restart still arrives."""

    reason: discord.ui.TextInput[ReportModal] = discord.ui.TextInput(
        label="What is wrong with this question?",
        style=discord.TextStyle.paragraph,
        placeholder="For example: the answer is out of date, or two choices are both right.",
        min_length=5,
        max_length=REPORT_REASON_MAX,
        custom_id=REPORT_REASON_ID,
    )

    def __init__(self, question_id: str, reporter_id: int) -> None:
        super().__init__(
            title="Report a problem",
            timeout=None,
            custom_id=f"lwa:reportform:{question_id}:{reporter_id}",
        )


def read_report_form(data: Any) -> tuple[str, int, str] | None:
    """(question id, reporter id, reason) of a submitted report form; None for other forms."""
    match = REPORT_FORM.fullmatch(str((data or {}).get("custom_id", "")))
    if match is None:
        return None
    return match["question"], int(match["reporter"]), _submitted_value(data, REPORT_REASON_ID)


def _submitted_value(node: Any, custom_id: str) -> str:
    """The value of the text input `custom_id` anywhere in a modal submission's components
    (inside action rows, or inside labels)."""
    if isinstance(node, dict):
        if node.get("custom_id") == custom_id and "value" in node:
            return str(node["value"])
        children = [v for k, v in node.items() if k in ("components", "component")]
    elif isinstance(node, list):
        children = node
    else:
        return ""
    for child in children:
        found = _submitted_value(child, custom_id)
        if found:
            return found
    return ""


def question_embed(
    view: OpenQuestion, title: str | None = None, *, closes: bool = True
) -> discord.Embed:
    """A question with its choices below it: "Question k/n", or `title` for a scheduled one
    ("Daily trivia question"); with `closes`, when the answers close (a live countdown)."""
    embed = discord.Embed(
        title=title or f"Question {view.number}/{view.total}",
        description=clip(view.question.question, 4096),
        colour=COLOUR,
    )
    if closes:
        until = f"Answers close <t:{int(view.closes_at.timestamp())}:R>"
    else:
        minutes = round((view.closes_at - view.opened_at).total_seconds() / 60)
        until = "Open for an hour" if minutes == 60 else f"Open for {minutes} minutes"
    embed.add_field(name="Time", value=until, inline=True)
    embed.add_field(name="Difficulty", value=view.question.difficulty, inline=True)
    embed.set_footer(text="Click an answer: your first click counts. Faster answers score more.")
    return embed


def sample_question(
    question: Question, rng: random.Random, now: dt.datetime
) -> tuple[discord.Embed, discord.ui.View]:
    """A preview of a scheduled question: as it will be posted, with its buttons off and no
    countdown (nothing to click, no game behind it)."""
    sample = OpenQuestion(
        index=0,
        total=1,
        question=question,
        choices=shuffled_choices(question, rng),
        opened_at=now,
        closes_at=now + dt.timedelta(seconds=DAILY_SECONDS),  # as the daily post
    )
    title = post_title(PostKind.TRIVIA, ALL_DAYS)
    return question_embed(sample, title, closes=False), closed_view(0, sample)


def question_view(game_id: int, view: OpenQuestion) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    for choice, label in enumerate(view.choices):
        buttons.add_item(ChoiceButton(game_id, view.index, choice, label))
    return buttons


def reveal_embed(
    reveal: Reveal,
    total: int,
    dataset: Dataset,
    daily: bool = False,
    streaks: Mapping[int, int] | None = None,
) -> discord.Embed:
    """The answer, why, how it went, and one source line (the source's own words are behind
    "Details"). A daily question also names its fastest right answers and the streaks."""
    question = reveal.question
    title = (
        "Daily trivia: the answer" if daily else f"Question {reveal.index + 1}/{total}: the answer"
    )
    embed = discord.Embed(title=title, description=clip(question.question, 4096), colour=COLOUR)
    embed.add_field(
        name="Answer", value=clip(f"✅ **{reveal.correct_choice}**", 1024), inline=False
    )
    embed.add_field(name="Why", value=clip(question.explanation, 1024), inline=False)
    embed.add_field(name="Result", value=clip(_result(reveal, daily, streaks), 1024), inline=False)
    embed.add_field(
        name="Source", value=clip(short_source(dataset.source_of(question)), 1024), inline=False
    )
    return embed  # the question's id is under "Details", with its passage


# A daily reveal names this many of the fastest right answers and of the longest streaks.
SHOWN_PLAYERS = 3


def _result(reveal: Reveal, daily: bool, streaks: Mapping[int, int] | None) -> str:
    if reveal.answered == 0:
        return "Nobody answered this one."
    result = f"{reveal.right} of {reveal.answered} answered right."
    right = [r for r in reveal.results if r.correct]  # in the order the answers came
    if not right:
        return result
    if not daily:
        return f"{result} Fastest: <@{right[0].user_id}> (+{right[0].points})."
    fastest = ", ".join(f"<@{r.user_id}> +{r.points}" for r in right[:SHOWN_PLAYERS])
    result += f"\nFastest: {fastest}."
    runs = sorted(
        ((streak, user) for user, streak in (streaks or {}).items() if streak >= 2),
        reverse=True,
    )
    if runs:
        shown = ", ".join(f"<@{user}> {streak}" for streak, user in runs[:SHOWN_PLAYERS])
        more = f" and {len(runs) - SHOWN_PLAYERS} more" if len(runs) > SHOWN_PLAYERS else ""
        result += f"\nDaily streaks (days in a row): {shown}{more}."
    return result


def reveal_view(game_id: int, reveal: Reveal) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    for choice, label in enumerate(reveal.choices):
        style = (
            discord.ButtonStyle.success
            if choice == reveal.correct_index
            else discord.ButtonStyle.secondary
        )
        item = ChoiceButton(game_id, reveal.index, choice, label, style=style, disabled=True)
        item.item.row = 0
        buttons.add_item(item)
    details = DetailsButton("question", reveal.question.id)
    details.item.row = 1
    buttons.add_item(details)
    report = ReportButton(reveal.question.id)
    report.item.row = 1
    buttons.add_item(report)
    return buttons


def closed_view(game_id: int, view: OpenQuestion) -> discord.ui.View:
    """The buttons of a question that was dropped unrevealed: all grey and disabled."""
    buttons = discord.ui.View(timeout=None)
    for choice, label in enumerate(view.choices):
        buttons.add_item(
            ChoiceButton(
                game_id,
                view.index,
                choice,
                label,
                style=discord.ButtonStyle.secondary,
                disabled=True,
            )
        )
    return buttons


def _points(n: int) -> str:
    return f"{n:,} point{'s' if n != 1 else ''}"


# Final standings rank this many players by name; the rest are counted (the leaderboard has
# everyone), so a crowded game's ending still reads on a phone.
STANDINGS_NAMED = 10
UNSCORED_NAMED = 5


def standings_embed(standings: Sequence[Standing], title: str, note: str = "") -> discord.Embed:
    """The end of a game: players with points ranked (medals for the top three), then who
    played without scoring; a game nobody scored in says so once."""
    lines = [note] if note else []
    scored = [s for s in standings if s.points > 0]
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    for rank, s in enumerate(scored[:STANDINGS_NAMED], 1):
        lines.append(
            f"{medals.get(rank, f'**{rank}.**')} <@{s.user_id}> — {_points(s.points)} · "
            f"{s.correct}/{s.answered} correct"
        )
    if len(scored) > STANDINGS_NAMED:
        lines.append(f"…and {len(scored) - STANDINGS_NAMED} more with points.")
    unscored = [s for s in standings if s.points == 0]
    if 0 < len(unscored) <= UNSCORED_NAMED:
        names = ", ".join(f"<@{s.user_id}> (0/{s.answered})" for s in unscored)
        lines.append(f"No points this time: {names}")
    elif unscored:
        lines.append(f"No points this time for {len(unscored)} players.")
    if scored:
        lines.append("\nThe points are on the server's leaderboard: `/trivia leaderboard`.")
    elif not standings:
        lines.append("Nobody answered, so nobody scored.")
    return discord.Embed(title=title, description=join_within(lines, 4096), colour=COLOUR)


def leaderboard_embed(
    rows: Sequence[LeaderRow],
    caller: LeaderRow | None,
    period_label: str,
    caller_id: int,
    since: dt.datetime | None = None,
    timezone: str = "UTC",
) -> discord.Embed:
    """The top players with points (nobody without one is ranked), the caller's own rank
    when further down, and since when the period counts."""
    lines = [
        f"**{r.rank}.** <@{r.user_id}> — {_points(r.points)} · {r.correct} correct · "
        f"{r.accuracy:.0%} accuracy"
        for r in rows
    ]
    if not rows:
        lines.append("No points yet for this period. Start a game with `/trivia play`!")
    if caller is not None and all(r.user_id != caller_id for r in rows):
        lines.append(
            f"…\n**{caller.rank}.** <@{caller.user_id}> (you) — {_points(caller.points)} · "
            f"{caller.correct} correct · {caller.accuracy:.0%} accuracy"
        )
    embed = discord.Embed(
        title=f"Trivia leaderboard — {period_label}",
        description=join_within(lines, 4096),
        colour=COLOUR,
    )
    if since is not None:
        local = f"{since:%A} {since.day} {since:%B %Y, %H:%M}"
        embed.set_footer(text=f"Since {local} {timezone_label(timezone)} (the server's time)")
    return embed


def stats_embed(stats: PlayerStats) -> discord.Embed:
    embed = discord.Embed(title="Trivia stats", description=f"<@{stats.user_id}>", colour=COLOUR)
    embed.add_field(name="Points", value=f"{stats.points:,}", inline=True)
    embed.add_field(
        name="Rank", value=f"#{stats.rank}" if stats.rank else "not ranked yet", inline=True
    )
    embed.add_field(name="Games", value=str(stats.games), inline=True)
    embed.add_field(name="Answers", value=f"{stats.correct} right of {stats.answered}", inline=True)
    embed.add_field(name="Accuracy", value=f"{stats.accuracy:.0%}", inline=True)
    embed.add_field(name="Best streak", value=str(stats.best_streak), inline=True)
    embed.add_field(
        name="Daily streak",
        value=f"{stats.daily_streak} now · best {stats.best_daily_streak}",
        inline=True,
    )
    return embed


def reports_embed(reports: Sequence[Report]) -> discord.Embed:
    lines = [
        f"**#{r.id}** <t:{int(r.created_at.timestamp())}:R> · question `{r.question_id}` · "
        f"by <@{r.reporter_id}>\n> {clip(r.reason, 300)}"
        for r in reports
    ]
    if not reports:
        lines.append("No reports. Fans can report a question with the button under each answer.")
    return discord.Embed(
        title="Trivia reports", description=join_within(lines, 4096), colour=COLOUR
    )


def report_thanks_embed(report_id: int, question_id: str) -> discord.Embed:
    return discord.Embed(
        description=f"Thank you! Report #{report_id} about question `{question_id}` is saved. "
        "This server's moderators read reports with `/trivia reports`, and the bot's operators "
        "can list them all.",
        colour=COLOUR,
    )


def game_started_embed(starter_id: int, questions: int, level: str, seconds: int) -> discord.Embed:
    return _embed(
        "Trivia time!",
        f"<@{starter_id}> started a quiz: **{questions}** {level} "
        f"question{'s' if questions != 1 else ''}, **{seconds} s** each. Click an answer under "
        "each question: the faster, the more points (500 to 1000 for a right answer).",
    )
