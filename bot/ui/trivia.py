"""Trivia messages: question, reveal, standings, leaderboard embeds and their buttons.

The buttons are `DynamicItem`s whose custom_id carries the game, the question and the choice,
so a click is understood even after a restart. A click goes to the trivia runner
(`bot.games`); what it raises goes down the one error path.

Every word comes from the catalogue (`bot/locales/*/trivia.po`), in the language the caller
chose: the server's for what a game posts in its channel (questions, reveals, standings,
notices), the reader's own for a reply. A question read in Korean shows the dataset's Korean
texts; its buttons' labels too, while their custom_ids keep the choices' positions.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord
from babel.dates import format_date

from bot.checks import can_fix_permissions, missing_post_permissions
from bot.domain.models import DIFFICULTIES, TOPICS, Dataset, Question
from bot.domain.records import LeaderRow, PlayerStats, Report, ReportStatus, StoreUnavailable
from bot.domain.schedule import ALL_DAYS, PostKind
from bot.domain.trivia import (
    MIXED,
    AnswerOutcome,
    HalfOutcome,
    OpenQuestion,
    Recap,
    Rematch,
    Reveal,
    Standing,
    asked,
    choice_text,
    explained,
    offers_fifty_fifty,
    shuffled_choices,
)
from bot.errors import BotCannot, OneErrorPath, UserError, respond
from bot.i18n import Language, language_of, msg, render
from bot.services.games import DAILY_SECONDS, Halved, Notice
from bot.ui.daily import PlayButton
from bot.ui.details import DetailsButton
from bot.ui.embeds import COLOUR, ERROR_COLOUR, _embed, clip, join_within, short_source, topic_label
from bot.ui.notices import permission_names
from bot.ui.schedules import post_title, timezone_text

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot
    from bot.services.games import Answered

log = logging.getLogger(__name__)
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
        # The player's own reply: in their language, whatever the channel's.
        await respond(interaction, embed=answered_embed(answered, language_of(interaction.locale)))


def asks_question_of(custom_id: str, game_id: int) -> bool:
    """Whether a button's custom_id is an answer to the first question of game `game_id`: the
    marker of a daily question's post (bot/posting.py finds a post by it)."""
    match = ChoiceButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    return match is not None and int(match["game"]) == game_id and match["index"] == "0"


def answered_embed(answered: Answered, language: Language = Language.EN) -> discord.Embed:
    """A click's private reply: locked in, already answered (the first click counts), or
    closed; the choice named as the player reads it."""
    choice = (
        choice_text(answered.question, answered.label, language)
        if answered.label is not None
        else "?"
    )
    if answered.outcome is AnswerOutcome.LOCKED:
        text = render("trivia.answer.locked", language, choice=choice)
    elif answered.outcome is AnswerOutcome.ALREADY_ANSWERED:
        text = render("trivia.answer.already", language, choice=choice)
    else:
        text = render("trivia.answer.closed", language)
    return discord.Embed(description=text, colour=COLOUR)


class ReportButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:report:(?P<question>[a-z0-9-]{1,48})",
):
    """Opens the report form for its question (a form cannot follow a deferral)."""

    defers = False

    def __init__(self, question_id: str, language: Language = Language.EN) -> None:
        self.question_id = question_id
        super().__init__(
            discord.ui.Button(
                label=render("trivia.report.button", language),
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
            raise UserError("trivia.report.question_gone")
        form = ReportModal(self.question_id, interaction.user.id, language_of(interaction.locale))
        await interaction.response.send_modal(form)
        form.stop()  # its submission is handled by its custom_id (see read_report_form)


REPORT_FORM = re.compile(r"lwa:reportform:(?P<question>[a-z0-9-]{1,48}):(?P<reporter>\d{1,20})")
REPORT_REASON_ID = "lwa:report-reason"
FORM_TITLE_MAX = 45  # Discord's limit for a modal's title and a text input's label
PLACEHOLDER_MAX = 100


class ReportModal(discord.ui.Modal):
    """The report form, in the reporter's language. Its custom_id names the question and the
    reporter, and the submission is handled by that id (`read_report_form`), not by this
    object: any number of fans can report one question at once, and a form left open across a
    restart still arrives."""

    def __init__(
        self, question_id: str, reporter_id: int, language: Language = Language.EN
    ) -> None:
        super().__init__(
            title=clip(render("trivia.report.form.title", language), FORM_TITLE_MAX),
            timeout=None,
            custom_id=f"lwa:reportform:{question_id}:{reporter_id}",
        )
        self.reason: discord.ui.TextInput[ReportModal] = discord.ui.TextInput(
            label=clip(render("trivia.report.form.label", language), FORM_TITLE_MAX),
            style=discord.TextStyle.paragraph,
            placeholder=clip(render("trivia.report.form.placeholder", language), PLACEHOLDER_MAX),
            min_length=5,
            max_length=REPORT_REASON_MAX,
            custom_id=REPORT_REASON_ID,
        )
        self.add_item(self.reason)


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


# --- questions and reveals (the channel's language) -------------------------------------------

DIFFICULTY_LABELS = {
    "easy": msg("trivia.difficulty.easy"),
    "medium": msg("trivia.difficulty.medium"),
    "hard": msg("trivia.difficulty.hard"),
    "mixed": msg("trivia.difficulty.mixed"),
}


def difficulty_label(difficulty: str, language: Language) -> str:
    message = DIFFICULTY_LABELS.get(difficulty)
    return render(message, language) if message is not None else difficulty


def _labels(question: Question, choices: Iterable[str], language: Language) -> list[str]:
    """A game's choices (the dataset's English labels) as the reader reads them."""
    return [choice_text(question, label, language) for label in choices]


def question_embed(
    view: OpenQuestion,
    title: str | None = None,
    *,
    closes: bool = True,
    language: Language = Language.EN,
) -> discord.Embed:
    """A question with its choices below it: "Question k/n", or `title` for a scheduled one
    ("Daily trivia question"); with `closes`, when the answers close (a live countdown)."""
    embed = discord.Embed(
        title=clip(
            title
            or render("trivia.question.title", language, number=view.number, total=view.total),
            256,
        ),
        description=clip(asked(view.question, language), 4096),
        colour=COLOUR,
    )
    if closes:
        until = render(
            "trivia.question.closes", language, timestamp=int(view.closes_at.timestamp())
        )
    else:
        minutes = round((view.closes_at - view.opened_at).total_seconds() / 60)
        until = (
            render("trivia.question.open_hour", language)
            if minutes == 60
            else render("trivia.question.open_minutes", language, minutes=minutes)
        )
    embed.add_field(name=render("trivia.question.time", language), value=until, inline=True)
    embed.add_field(
        name=render("trivia.question.difficulty", language),
        value=difficulty_label(view.question.difficulty, language),
        inline=True,
    )
    embed.set_footer(text=render("trivia.question.footer", language))
    return embed


def sample_question(
    question: Question,
    rng: random.Random,
    now: dt.datetime,
    *,
    language: Language = Language.EN,
    title: str | None = None,
) -> tuple[discord.Embed, discord.ui.View]:
    """A preview of a scheduled question: as it will be posted (under `title`, by default the
    daily post's), with its buttons off and no countdown (nothing to click, no game behind
    it)."""
    sample = OpenQuestion(
        index=0,
        total=1,
        question=question,
        choices=shuffled_choices(question, rng),
        opened_at=now,
        closes_at=now + dt.timedelta(seconds=DAILY_SECONDS),  # as the daily post
    )
    title = title or post_title(PostKind.TRIVIA, ALL_DAYS, language)
    return (
        question_embed(sample, title, closes=False, language=language),
        closed_view(0, sample, language=language),
    )


def question_view(
    game_id: int, view: OpenQuestion, *, fifty_fifty: bool = False, language: Language = Language.EN
) -> discord.ui.View:
    """An open question's buttons: one per choice, and "50/50" when `fifty_fifty` (a game's
    medium or hard question)."""
    buttons = discord.ui.View(timeout=None)
    labels = _labels(view.question, view.choices, language)
    for choice, label in enumerate(labels):
        buttons.add_item(ChoiceButton(game_id, view.index, choice, label))
    if fifty_fifty and offers_fifty_fifty(view.question):
        buttons.add_item(FiftyFiftyButton(game_id, view.index, language))
    return buttons


class FiftyFiftyButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:half:(?P<game>\d{1,18}):(?P<index>\d{1,2})",
):
    """Shows the presser alone the question's two choices left (the right one among them);
    a right answer then scores half. Once per player per question, before answering."""

    private = True

    def __init__(self, game_id: int, index: int, language: Language = Language.EN) -> None:
        self.game_id, self.index = game_id, index
        super().__init__(
            discord.ui.Button(
                label=render("trivia.half.button", language),
                style=discord.ButtonStyle.secondary,
                custom_id=f"lwa:half:{game_id}:{index}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FiftyFiftyButton:
        return cls(int(match["game"]), int(match["index"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        halved = await bot.games.fifty_fifty(
            game_id=self.game_id,
            index=self.index,
            user_id=interaction.user.id,
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
        )
        await respond(interaction, embed=halved_embed(halved, language_of(interaction.locale)))


def halved_embed(halved: Halved, language: Language = Language.EN) -> discord.Embed:
    """A 50/50's private reply: the two choices left, or why there are none to show."""
    outcome = halved.result.outcome
    if outcome is HalfOutcome.SHOWN:
        first, second = (choice_text(halved.question, label, language) for label in halved.left)
        text = render("trivia.half.shown", language, first=first, second=second)
    elif outcome is HalfOutcome.USED:
        text = render("trivia.half.used", language)
    elif outcome is HalfOutcome.ANSWERED:
        text = render("trivia.half.answered", language)
    elif outcome is HalfOutcome.NOT_OFFERED:
        text = render("trivia.half.not_offered", language)
    else:
        text = render("trivia.answer.closed", language)
    return discord.Embed(description=text, colour=COLOUR)


def reveal_embed(
    reveal: Reveal,
    total: int,
    dataset: Dataset,
    daily: bool = False,
    streaks: Mapping[int, int] | None = None,
    *,
    language: Language = Language.EN,
) -> discord.Embed:
    """The answer, why, how it went, and one source line (the source's own words are behind
    "Details"). A daily question also names its fastest right answers and the streaks."""
    question = reveal.question
    if daily:
        title = render("trivia.reveal.daily_title", language)
    else:
        title = render("trivia.reveal.title", language, number=reveal.index + 1, total=total)
    embed = discord.Embed(
        title=clip(title, 256), description=clip(asked(question, language), 4096), colour=COLOUR
    )
    answer = choice_text(question, reveal.correct_choice, language)
    embed.add_field(
        name=render("trivia.reveal.answer", language),
        value=clip(f"✅ **{answer}**", 1024),
        inline=False,
    )
    embed.add_field(
        name=render("trivia.reveal.why", language),
        value=clip(explained(question, language), 1024),
        inline=False,
    )
    embed.add_field(
        name=render("trivia.reveal.result", language),
        value=clip(_result(reveal, daily, streaks, language), 1024),
        inline=False,
    )
    embed.add_field(
        name=render("trivia.reveal.source", language),
        value=clip(short_source(dataset.source_of(question), language), 1024),
        inline=False,
    )
    return embed  # the question's id is under "Details", with its passage


# A daily reveal names this many of the fastest right answers and of the longest streaks.
SHOWN_PLAYERS = 3


def _result(
    reveal: Reveal, daily: bool, streaks: Mapping[int, int] | None, language: Language
) -> str:
    if reveal.answered == 0:
        return render("trivia.result.nobody", language)
    result = render("trivia.result.right", language, right=reveal.right, answered=reveal.answered)
    right = [r for r in reveal.results if r.correct]  # in the order the answers came
    if not right:
        return result
    if not daily:
        fastest = render(
            "trivia.result.fastest_one", language, user=right[0].user_id, points=right[0].points
        )
        return f"{result} {fastest}"
    players = ", ".join(f"<@{r.user_id}> +{r.points}" for r in right[:SHOWN_PLAYERS])
    result += "\n" + render("trivia.result.fastest", language, players=players)
    runs = sorted(
        ((streak, user) for user, streak in (streaks or {}).items() if streak >= 2),
        reverse=True,
    )
    if runs:
        shown = ", ".join(
            render("trivia.result.streak", language, user=user, days=streak)
            for streak, user in runs[:SHOWN_PLAYERS]
        )
        if len(runs) > SHOWN_PLAYERS:
            shown = render(
                "trivia.result.and_more", language, players=shown, count=len(runs) - SHOWN_PLAYERS
            )
        result += "\n" + render("trivia.result.streaks", language, players=shown)
    return result


def reveal_view(
    game_id: int, reveal: Reveal, *, daily: bool = False, language: Language = Language.EN
) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    for choice, label in enumerate(_labels(reveal.question, reveal.choices, language)):
        style = (
            discord.ButtonStyle.success
            if choice == reveal.correct_index
            else discord.ButtonStyle.secondary
        )
        item = ChoiceButton(game_id, reveal.index, choice, label, style=style, disabled=True)
        item.item.row = 0
        buttons.add_item(item)
    details = DetailsButton("question", reveal.question.id, language=language)
    details.item.row = 1
    buttons.add_item(details)
    report = ReportButton(reveal.question.id, language)
    report.item.row = 1
    buttons.add_item(report)
    if daily:  # a daily question's reveal says where the daily challenge is
        play = PlayButton(language)
        play.item.row = 1
        buttons.add_item(play)
    return buttons


def closed_view(
    game_id: int, view: OpenQuestion, *, language: Language = Language.EN
) -> discord.ui.View:
    """The buttons of a question that was dropped unrevealed: all grey and disabled."""
    buttons = discord.ui.View(timeout=None)
    for choice, label in enumerate(_labels(view.question, view.choices, language)):
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


def notice_text(notice: Notice, language: Language) -> str:
    """A game's notice (`bot.services.games.Notice`) in words."""
    return render(notice.message, language, **notice.params)


def notice_embed(notice: Notice, language: Language) -> discord.Embed:
    """A notice in a game's channel ("the game had to stop")."""
    return discord.Embed(description=notice_text(notice, language), colour=ERROR_COLOUR)


# --- standings (the channel's language) ---------------------------------------------------------


def _points(n: int, language: Language) -> str:
    if n == 1:
        return render("trivia.points.one", language)
    return render("trivia.points", language, points=f"{n:,}")


# Final standings rank this many players by name; the rest are counted (the leaderboard has
# everyone), so a crowded game's ending still reads on a phone.
STANDINGS_NAMED = 10
STANDINGS_NAMED_WITH_RECAP = 5
UNSCORED_NAMED = 5


def standings_embed(
    standings: Sequence[Standing],
    title: str | None = None,
    note: str = "",
    *,
    recap: Recap | None = None,
    language: Language = Language.EN,
) -> discord.Embed:
    """The end of a game: players with points ranked (medals for the top three), then who
    played without scoring, then the game's highlights (`recap`); a game nobody scored in
    says so once. `note`: why it ended early, already in words."""
    lines = [note] if note else []
    scored = [s for s in standings if s.points > 0]
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    highlights = recap_lines(recap, language) if recap is not None else []
    # With highlights under them, the standings name fewer players: one phone screen.
    named = STANDINGS_NAMED_WITH_RECAP if highlights else STANDINGS_NAMED
    for rank, s in enumerate(scored[:named], 1):
        lines.append(
            render(
                "trivia.standings.line",
                language,
                rank=medals.get(rank, f"**{rank}.**"),
                user=s.user_id,
                points=_points(s.points, language),
                correct=s.correct,
                answered=s.answered,
            )
        )
    if len(scored) > named:
        lines.append(render("trivia.standings.more", language, count=len(scored) - named))
    unscored = [s for s in standings if s.points == 0]
    if 0 < len(unscored) <= UNSCORED_NAMED:
        names = ", ".join(f"<@{s.user_id}> (0/{s.answered})" for s in unscored)
        lines.append(render("trivia.standings.no_points", language, players=names))
    elif unscored:
        lines.append(render("trivia.standings.no_points_count", language, count=len(unscored)))
    lines += highlights
    if scored:
        lines.append("\n" + render("trivia.standings.on_the_leaderboard", language))
    elif not standings:
        lines.append(render("trivia.standings.nobody", language))
    return discord.Embed(
        title=clip(title or render("trivia.standings.title", language), 256),
        description=join_within(lines, 4096),
        colour=COLOUR,
    )


# --- starting a game: /trivia play and "Play again" ---------------------------------------------


async def start_here(interaction: discord.Interaction[Any], settings: Rematch) -> None:
    """Start a game in the interaction's channel (`/trivia play`, or "Play again" under the
    standings of the last one), started by whoever asked, and announce it there. Refused with
    who can fix it when the bot may not post in the channel, or when a game runs there."""
    bot: LoveWinsAllBot = interaction.client
    missing = missing_post_permissions(interaction.app_permissions)
    if missing:
        where = getattr(interaction.channel, "name", None) or str(interaction.channel_id)
        names = permission_names(missing, language_of(interaction.locale), bold=True)
        if can_fix_permissions(interaction.permissions):  # a moderator: what to change
            raise BotCannot("trivia.play.cannot_post.moderator", permissions=names, channel=where)
        raise BotCannot("trivia.play.cannot_post.fan", permissions=names, channel=where)
    await bot.games.start_game(
        guild_id=interaction.guild_id or 0,
        channel_id=interaction.channel_id or 0,
        starter_id=interaction.user.id,
        difficulty=settings.difficulty,
        count=settings.count,
        seconds=settings.seconds,
        topic=settings.topic,
    )
    language = await bot.servers.language(interaction.guild_id, interaction.guild_locale)
    embed = game_started_embed(
        interaction.user.id,
        settings.count,
        settings.difficulty,
        settings.seconds,
        topic=settings.topic,
        language=language,
    )
    await respond(interaction, embed=embed)


class PlayAgainButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"lwa:again:(?P<count>\d{1,2}):(?P<level>[a-z]{1,10}):(?P<seconds>\d{1,2})"
        r":(?P<topic>[a-z-]{0,40})"
    ),
):
    """Under the standings: a new game with the same settings and new questions, started by
    whoever presses it (anyone in the channel; one game a channel still). Its custom_id
    carries the settings, so it works after a restart."""

    def __init__(self, settings: Rematch, language: Language = Language.EN) -> None:
        self.settings = settings
        super().__init__(
            discord.ui.Button(
                label=render("trivia.again.button", language),
                emoji="🔁",
                style=discord.ButtonStyle.primary,
                custom_id=(
                    f"lwa:again:{settings.count}:{settings.difficulty}:{settings.seconds}"
                    f":{settings.topic or ''}"
                ),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PlayAgainButton:
        count, seconds = int(match["count"]), int(match["seconds"])
        level, topic = match["level"], match["topic"] or None
        if not (1 <= count <= 20 and 10 <= seconds <= 60) or (
            level not in (*DIFFICULTIES, MIXED) or (topic is not None and topic not in TOPICS)
        ):
            raise UserError("trivia.again.unknown")  # a button of another version, or forged
        return cls(Rematch(count, level, seconds, topic))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        await start_here(interaction, self.settings)


def play_again_view(settings: Rematch, language: Language) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PlayAgainButton(settings, language))
    return view


def recap_lines(recap: Recap, language: Language) -> list[str]:
    """The game's highlights after a blank line: the fastest and the longest streak on one
    line, the toughest question on the next (nothing for a game without any)."""
    lines = []
    best = []
    if recap.fastest is not None:
        user, seconds = recap.fastest
        shown = f"{seconds:.1f}"  # "2.4" in both languages
        best.append(render("trivia.recap.fastest", language, user=user, seconds=shown))
    if recap.longest_streak is not None:
        user, count = recap.longest_streak
        best.append(render("trivia.recap.streak", language, user=user, count=count))
    if best:
        lines.append(" · ".join(best))
    if recap.hardest is not None:
        question, right, answered = recap.hardest
        text = question.question_ko if language is Language.KO and question.question_ko else None
        lines.append(
            render(
                "trivia.recap.hardest",
                language,
                question=clip(text or question.question, 60),
                right=right,
                answered=answered,
            )
        )
    return ["", *lines] if lines else []


def game_started_embed(
    starter_id: int,
    questions: int,
    level: str,
    seconds: int,
    *,
    topic: str | None = None,
    language: Language = Language.EN,
) -> discord.Embed:
    """The start of a game: who started it and what it will be (questions, difficulty,
    seconds, and its topic when one was chosen)."""
    body = msg("trivia.started.body.one") if questions == 1 else msg("trivia.started.body")
    text = render(
        body,
        language,
        starter=starter_id,
        count=questions,
        level=difficulty_label(level, language),
        seconds=seconds,
    )
    if topic is not None:
        text += "\n" + render("trivia.started.topic", language, topic=topic_label(topic, language))
    return _embed(render("trivia.started.title", language), text)


# --- a player's own replies (their language) ----------------------------------------------------

PERIODS = {
    "all": msg("trivia.period.all"),
    "week": msg("trivia.period.week"),
    "month": msg("trivia.period.month"),
}


def leaderboard_embed(
    rows: Sequence[LeaderRow],
    caller: LeaderRow | None,
    period: str,
    caller_id: int,
    since: dt.datetime | None = None,
    timezone: str = "UTC",
    *,
    language: Language = Language.EN,
) -> discord.Embed:
    """The top players with points (nobody without one is ranked) of `period` (`all`, `week`
    or `month`), the caller's own rank when further down, and since when the period counts."""

    def line(message: str, row: LeaderRow) -> str:
        return render(
            message,
            language,
            rank=row.rank,
            user=row.user_id,
            points=_points(row.points, language),
            correct=row.correct,
            accuracy=f"{row.accuracy:.0%}",
        )

    lines = [line(msg("trivia.leaderboard.line"), r) for r in rows]
    if not rows:
        lines.append(render("trivia.leaderboard.empty", language))
    if caller is not None and all(r.user_id != caller_id for r in rows):
        lines.append("…\n" + line(msg("trivia.leaderboard.you"), caller))
    label = render(PERIODS.get(period, PERIODS["all"]), language)
    embed = discord.Embed(
        title=render("trivia.leaderboard.title", language, period=label),
        description=join_within(lines, 4096),
        colour=COLOUR,
    )
    if since is not None:
        embed.set_footer(
            text=render(
                "trivia.leaderboard.since",
                language,
                weekday=format_date(since, "EEEE", locale=str(language)),
                day=since.date(),
                time=f"{since:%H:%M}",
                zone=timezone_text(timezone, language),
            )
        )
    return embed


def stats_embed(stats: PlayerStats, *, language: Language = Language.EN) -> discord.Embed:
    def field(message: str, value: str) -> None:
        embed.add_field(name=render(message, language), value=value, inline=True)

    embed = discord.Embed(
        title=render("trivia.stats.title", language),
        description=f"<@{stats.user_id}>",
        colour=COLOUR,
    )
    field(msg("trivia.stats.points"), f"{stats.points:,}")
    field(
        msg("trivia.stats.rank"),
        render("trivia.stats.rank_value", language, rank=stats.rank)
        if stats.rank
        else render("trivia.stats.unranked", language),
    )
    field(msg("trivia.stats.games"), str(stats.games))
    field(
        msg("trivia.stats.answers"),
        render(
            "trivia.stats.answers_value", language, correct=stats.correct, answered=stats.answered
        ),
    )
    field(msg("trivia.stats.accuracy"), f"{stats.accuracy:.0%}")
    field(msg("trivia.stats.best_streak"), str(stats.best_streak))
    field(msg("trivia.stats.fifty_fifties"), str(stats.fifty_fifties))
    field(
        msg("trivia.stats.daily_streak"),
        render(
            "trivia.stats.daily_streak_value",
            language,
            current=stats.daily_streak,
            best=stats.best_daily_streak,
        ),
    )
    return embed


# --- reports: the fan's thanks, the moderators' list and its buttons, the outcome told ---------

QUESTION_LINE_MAX = 90  # a question named in a sentence: one line on a phone
REPORTED_QUESTIONS_SHOWN = 5  # one row of buttons each (Discord: 5 rows)
REASONS_SHOWN = 10  # per question at most, as many as fit its share of the list; the rest counted
REASON_MAX = 300
LIST_MAX = 4096 - 200  # an embed's description, with room for the note and the "more" line
OUTCOMES = {
    ReportStatus.FIXED: msg("trivia.report.outcome.fixed"),
    ReportStatus.DISMISSED: msg("trivia.report.outcome.dismissed"),
}
RESOLVE_LABELS = {
    ReportStatus.FIXED: msg("trivia.reports.fix_button"),
    ReportStatus.DISMISSED: msg("trivia.reports.dismiss_button"),
}
RESOLVED_NOTES = {
    ReportStatus.FIXED: msg("trivia.reports.resolved.fixed"),
    ReportStatus.DISMISSED: msg("trivia.reports.resolved.dismissed"),
}


def question_named(dataset: Dataset, question_id: str, language: Language) -> str:
    """A reported question as people read it: its text in `language`, on one line, quoted;
    one no longer in the dataset is said to be gone (its id is all that is left of it)."""
    question = dataset.question(question_id)
    if question is None:
        return render("trivia.reports.question_gone", language, question=question_id)
    return f"“{clip(' '.join(asked(question, language).split()), QUESTION_LINE_MAX)}”"


def report_thanks_embed(
    dataset: Dataset, question_id: str, *, language: Language = Language.EN
) -> discord.Embed:
    """The reporter's thanks: which question they reported (its text), and that they will hear
    what became of it."""
    named = question_named(dataset, question_id, language)
    return discord.Embed(
        description=render("trivia.report.thanks", language, question=named), colour=COLOUR
    )


class ResolveButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"lwa:resolve:(?P<question>[a-z0-9-]{1,48}):(?P<up_to>\d{1,19})"
        r":(?P<status>fixed|dismissed)"
    ),
):
    """A moderator's verdict on the open reports about one question, under `/trivia reports`:
    "Mark fixed" or "Dismiss". It carries the question and the newest report the moderator
    saw, so a report that came later stays open, and it works after a restart. Only members
    who may run `/trivia reports` (Manage Server) may use it; the list is then updated in
    place."""

    private, defers = True, False  # the answer is an edit of the list (after a deferral)

    def __init__(
        self,
        question_id: str,
        up_to: int,
        status: ReportStatus,
        number: int = 1,
        language: Language = Language.EN,
    ) -> None:
        self.question_id, self.up_to, self.status = question_id, up_to, status
        fixed = status is ReportStatus.FIXED
        label = render(RESOLVE_LABELS[status], language, number=number)
        super().__init__(
            discord.ui.Button(
                label=clip(label, LABEL_MAX),
                style=discord.ButtonStyle.success if fixed else discord.ButtonStyle.secondary,
                custom_id=f"lwa:resolve:{question_id}:{up_to}:{status}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ResolveButton:
        return cls(match["question"], int(match["up_to"]), ReportStatus(match["status"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        language = language_of(interaction.locale)
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise UserError(
                "trivia.reports.moderators_only",
                permission=permission_names(["manage_guild"], language, bold=True),
            )
        await interaction.response.defer()  # the list is edited in place once written
        resolved = await bot.scores.resolve(
            guild_id=interaction.guild_id,
            question_id=self.question_id,
            up_to=self.up_to,
            status=self.status,
            moderator=interaction.user.id,
        )
        named = question_named(bot.dataset, self.question_id, language)
        if resolved:
            note = render(RESOLVED_NOTES[self.status], language, question=named)
        else:
            note = render("trivia.reports.resolved.already", language, question=named)
        reports = await bot.scores.open_reports(interaction.guild_id)
        message = reports_message(reports, bot.dataset, note=note, language=language)
        await interaction.edit_original_response(**message)


def reports_message(
    reports: Sequence[Report],
    dataset: Dataset,
    *,
    note: str = "",
    language: Language = Language.EN,
) -> dict[str, Any]:
    """`/trivia reports`: the server's open reports by question, in the order they came, each
    question by its text with what fans wrote, numbered; and for each of the first
    `REPORTED_QUESTIONS_SHOWN`, a row with "Mark fixed" and "Dismiss". `note`: what was just
    done, in words."""
    by_question: dict[str, list[Report]] = {}
    for report in reports:
        by_question.setdefault(report.question_id, []).append(report)
    shown = list(by_question.items())[:REPORTED_QUESTIONS_SHOWN]
    lines = [note] if note else []
    view = discord.ui.View(timeout=None)
    share = (LIST_MAX - len(note)) // max(1, len(shown))  # every question shown keeps its place
    for number, (question_id, about) in enumerate(shown, 1):
        block = [f"**{number}.** {question_named(dataset, question_id, language)}"]
        used = len(block[0]) + 40  # room for "…and N more"
        for r in about[:REASONS_SHOWN]:
            reason = " ".join(r.reason.split())
            when = f"<t:{int(r.created_at.timestamp())}:R>"
            line = f"> {clip(reason, REASON_MAX)} — <@{r.reporter_id}> {when}"
            if used + len(line) + 1 > share:
                break
            block.append(line)
            used += len(line) + 1
        if len(about) > len(block) - 1:
            count = len(about) - (len(block) - 1)
            block.append(render("trivia.reports.more_reasons", language, count=count))
        lines.append("\n".join(block))
        up_to = max(r.id for r in about)
        for status in (ReportStatus.FIXED, ReportStatus.DISMISSED):
            button = ResolveButton(question_id, up_to, status, number, language)
            button.item.row = number - 1
            view.add_item(button)
    if len(by_question) > len(shown):
        lines.append(render("trivia.reports.more", language, count=len(by_question) - len(shown)))
    if not reports:
        lines.append(render("trivia.reports.empty", language))
    embed = discord.Embed(
        title=render("trivia.reports.title", language),
        description=join_within(lines, 4096),
        colour=COLOUR,
    )
    if shown:
        embed.set_footer(text=render("trivia.reports.how", language))
    return {"embed": embed, "view": view}


def outcomes_embed(
    reports: Sequence[Report], dataset: Dataset, language: Language = Language.EN
) -> discord.Embed:
    """What became of the fan's reports, one short line each."""
    lines = [
        render(
            OUTCOMES[r.status], language, question=question_named(dataset, r.question_id, language)
        )
        for r in reports
        if r.status in OUTCOMES
    ]
    return discord.Embed(description=join_within(lines, 4096), colour=COLOUR)


# An interaction answered by a message (or an edit, or a deferral of either) can be followed
# by another; one answered by a form cannot.
FOLLOWABLE = (
    discord.InteractionResponseType.channel_message,
    discord.InteractionResponseType.deferred_channel_message,
    discord.InteractionResponseType.deferred_message_update,
    discord.InteractionResponseType.message_update,
)


async def tell_news(interaction: discord.Interaction[Any]) -> None:
    """Once an interaction was answered: what became of the user's reports that they have not
    been told, in one short ephemeral follow-up (each outcome told once, in the language of
    this interaction). Runs behind the answer, never before it; a failure here is only
    logged, as the user's own answer is already on its way."""
    if interaction.response.type not in FOLLOWABLE:
        return
    bot: LoveWinsAllBot = interaction.client
    try:
        told = await bot.scores.news(interaction.user.id)
        if told:
            embed = outcomes_embed(told, bot.dataset, language_of(interaction.locale))
            await interaction.followup.send(embed=embed, ephemeral=True)
    except StoreUnavailable as error:  # the store logs why, once; they hear of it next time
        log.debug("no news for user %s now: %s", interaction.user.id, error)
    except discord.HTTPException as error:
        log.warning(
            "could not tell user %s what became of their reports: %s", interaction.user.id, error
        )
    except Exception:
        log.exception("could not tell user %s what became of their reports", interaction.user.id)
