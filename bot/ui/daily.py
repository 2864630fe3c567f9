"""The daily challenge's messages (SPEC §4 `/daily`): the fan's private question, their result
with its spoiler-free share line, the Share button and the server's board.

The question's buttons are `DynamicItem`s whose custom_id carries the challenge's number, the
question and the choice, so a click is understood after a restart; a click answers by editing the
fan's own message into the next question (or the result). Every word is the reader's language
from the catalogue (`bot/locales/*/daily.po`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.daily import BoardRow, Result, ranked
from bot.domain.models import Dataset
from bot.domain.trivia import asked, choice_text
from bot.errors import OneErrorPath, respond, update
from bot.i18n import Language, language_of, msg, render
from bot.services.daily import Board, Progress
from bot.ui.embeds import COLOUR, clip, short_source

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

LABEL_MAX = 80
MARKS = {True: "🟩", False: "🟥"}
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def share_line(result: Result, language: Language) -> str:
    """`Love wins all daily #47 🟩🟥🟩 2/3 · 31 s 🔥5`: how it went, nothing of the answers."""
    return render(
        "daily.share.line",
        language,
        number=result.number,
        marks="".join(MARKS[mark] for mark in result.marks),
        correct=result.correct,
        total=result.total,
        seconds=result.seconds,
        streak=result.streak,
    )


def progress_message(
    progress: Progress, dataset: Dataset, language: Language, *, note: str = ""
) -> dict[str, Any]:
    """The fan's challenge as it stands: the verdict on their last answer (with its one
    source line), then the next question and its buttons, or their result and Share."""
    day, attempt = progress.day, progress.attempt
    lines = [note] if note else []
    if attempt.answers:
        index = len(attempt.answers) - 1
        question = day.questions[index]
        answer = choice_text(question, question.answer, language)
        right = attempt.answers[-1].correct
        verdict = msg("daily.verdict.right") if right else msg("daily.verdict.wrong")
        lines.append(render(verdict, language, answer=answer))
        source = short_source(dataset.source_of(question), language)
        lines.append(render("daily.verdict.source", language, source=source))
    result = attempt.result
    view = discord.ui.View(timeout=None)
    if result is None:
        index = attempt.next_index or 0
        question = day.questions[index]
        title = render(
            "daily.question.title",
            language,
            number=day.number,
            index=index + 1,
            total=len(day.questions),
        )
        if lines:
            lines.append("")
        lines.append(f"**{asked(question, language)}**")
        for choice, label in enumerate(day.choices[index]):
            shown = choice_text(question, label, language)
            view.add_item(DailyChoiceButton(day.number, index, choice, shown))
    else:
        title = render(
            "daily.result.title",
            language,
            number=day.number,
            correct=result.correct,
            total=result.total,
        )
        if lines:
            lines.append("")
        lines.append(
            render(
                "daily.result.summary",
                language,
                correct=result.correct,
                total=result.total,
                seconds=result.seconds,
            )
        )
        streak = (
            msg("daily.result.streak_one") if result.streak <= 1 else msg("daily.result.streak")
        )
        lines.append(render(streak, language, days=result.streak))
        lines += [
            "",
            render("daily.result.share", language),
            f"```\n{share_line(result, language)}\n```",
            render("daily.next", language, timestamp=int(progress.next_at.timestamp())),
        ]
        view.add_item(ShareButton(day.number, language))
    embed = discord.Embed(
        title=clip(title, 256), description=clip("\n".join(lines), 4096), colour=COLOUR
    )
    return {"embed": embed, "view": view}


async def play_here(interaction: discord.Interaction[Any]) -> None:
    """`/daily play`, and the button under a daily trivia reveal that leads to it: the fan's
    challenge of today, privately (started now, or where they left it, or their result)."""
    bot: LoveWinsAllBot = interaction.client
    progress = await bot.daily.play(interaction.user.id, interaction.guild_id)
    language = language_of(interaction.locale)
    note = ""
    if progress.result is not None:
        note = render("daily.play.done", language)
    elif progress.attempt.answers:
        note = render("daily.play.resumed", language)
    reply = progress_message(progress, bot.dataset, language, note=note)
    await respond(interaction, **reply, ephemeral=True)


class PlayButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:dplay",
):
    """Under a scheduled daily trivia question's reveal: where `/daily` is, and a way in."""

    private = True

    def __init__(self, language: Language = Language.EN) -> None:
        super().__init__(
            discord.ui.Button(
                label=render("daily.play.button", language),
                style=discord.ButtonStyle.secondary,
                custom_id="lwa:dplay",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PlayButton:
        return cls()

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        await play_here(interaction)


class DailyChoiceButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:d:(?P<day>\d{1,6}):(?P<index>\d):(?P<choice>\d)",
):
    """One choice of a daily challenge's question, on the fan's private message: the answer is
    stored, then the message becomes the next question (or the result)."""

    private, updates = True, True

    def __init__(self, day: int, index: int, choice: int, label: str = "…") -> None:
        self.day, self.index, self.choice = day, index, choice
        super().__init__(
            discord.ui.Button(
                label=clip(label, LABEL_MAX),
                style=discord.ButtonStyle.primary,
                custom_id=f"lwa:d:{day}:{index}:{choice}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DailyChoiceButton:
        return cls(int(match["day"]), int(match["index"]), int(match["choice"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        progress = await bot.daily.answer(interaction.user.id, self.day, self.index, self.choice)
        language = language_of(interaction.locale)
        note = "" if progress.counted else render("daily.answer.already", language)
        await update(interaction, **progress_message(progress, bot.dataset, language, note=note))


class ShareButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:dshare:(?P<day>\d{1,6})",
):
    """Posts the fan's share line in the channel where the bot is in the server (once per
    server and day; it puts them on the server's board); elsewhere, the line to copy."""

    def __init__(self, day: int, language: Language = Language.EN) -> None:
        self.day = day
        super().__init__(
            discord.ui.Button(
                label=render("daily.share.button", language),
                style=discord.ButtonStyle.success,
                custom_id=f"lwa:dshare:{day}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShareButton:
        return cls(int(match["day"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        language = language_of(interaction.locale)
        here = interaction.guild_id is not None and interaction.is_guild_integration()
        result, first = await bot.daily.share(
            interaction.user.id, self.day, interaction.guild_id if here else None
        )
        line = share_line(result, language)
        if not here:
            text = render("daily.share.copy", language, line=line)
            await respond(interaction, content=text, ephemeral=True)
        elif not first:
            await respond(
                interaction, content=render("daily.share.again", language), ephemeral=True
            )
        else:
            text = render("daily.share.posted", language, user=interaction.user.id, line=line)
            await respond(interaction, content=text, ephemeral=False)


def board_embed(board: Board, language: Language) -> discord.Embed:
    """`/daily board`: today's players here, best first, and the longest runs of days."""
    title = render("daily.board.title", language, number=board.number)
    lines = [_board_line(rank, row, language) for rank, row in ranked(board.rows)]
    if not lines:
        lines.append(render("daily.board.nobody", language))
    elif board.players > len(board.rows):
        lines.append(render("daily.board.more", language, count=board.players - len(board.rows)))
    embed = discord.Embed(title=clip(title, 256), colour=COLOUR)
    if board.streaks:
        streaks = " · ".join(
            render("daily.board.streak", language, user=row.user_id, days=row.streak)
            for row in board.streaks
        )
        lines += ["", f"**{render('daily.board.streaks', language)}**", streaks]
    lines += ["", render("daily.next", language, timestamp=int(board.next_at.timestamp()))]
    embed.description = clip("\n".join(lines), 4096)
    return embed


def _board_line(rank: int, row: BoardRow, language: Language) -> str:
    return render(
        "daily.board.line",
        language,
        rank=MEDALS.get(rank, f"**{rank}.**"),
        user=row.user_id,
        correct=row.correct,
        total=row.total,
        seconds=row.seconds,
    )
