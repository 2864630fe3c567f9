"""Trivia in a Korean server, through the real bot process (SPEC §3a, §4).

What a game posts for its channel (the question, its reveal, the standings) is in the server's
language, here Korean (its preferred locale); what each player is told privately ("locked in")
is in that player's own Discord language.
"""

from __future__ import annotations

from typing import Any

from bot.domain.language import Language
from bot.domain.models import Question
from bot.domain.trivia import choice_text, korean_choices
from tests.e2e.helpers import NO_PINGS, dataset
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Member, Message
from tests.faults.helpers import choice_buttons, is_live_question, revealed

SUCCESS = 3


def korean_question_of(message: Message) -> Question:
    text = message.embed["description"]
    return next(q for q in dataset().questions if q.question_ko == text)


def korean(question: Question, label: str) -> str:
    return choice_text(question, label, Language.KO)


async def click(shared: Shared, message: Message, member: Member, label: str, locale: str) -> str:
    """Click an answer as a player whose Discord speaks `locale`; the private reply's text."""
    interaction = await shared.emulator.click(message, label, member, locale=locale)
    reply = await interaction.response(timeout=10)
    assert reply.is_ephemeral
    return str(reply.embeds[0]["description"])


async def test_a_korean_server_plays_in_korean_and_each_player_is_answered_in_their_own(
    shared: Shared,
) -> None:
    emulator = shared.emulator
    guild = emulator.add_guild("러브 윈즈 올 팬 서버", locale="ko")
    channel = guild.text_channels[0]
    yuaena, fan = emulator.add_member(guild, "유애나"), emulator.add_member(guild, "fan")

    started = await (
        await emulator.slash(
            guild, channel, yuaena, "trivia play", questions=1, seconds=10, locale="ko"
        )
    ).response()
    assert not started.is_ephemeral and started.embeds[0]["title"] == "퀴즈 시간이에요!"
    assert started.data["allowed_mentions"] == NO_PINGS

    message = await emulator.wait_for_message(
        channel,
        lambda m: bool(m.embeds) and m.embed.get("title") == "문제 1/1" and is_live_question(m),
        timeout=20,
    )
    question = korean_question_of(message)  # the question in the dataset's Korean
    labels = [b["label"] for b in choice_buttons(message)]
    assert sorted(labels) == sorted(korean_choices(question))
    assert [b["custom_id"].rsplit(":", 1)[1] for b in choice_buttons(message)] == [
        str(n) for n in range(len(labels))
    ]  # the buttons still carry the choices' positions
    assert "난이도" in message.text and "Difficulty" not in message.text
    right, wrong = korean(question, question.answer), korean(question, question.wrong[0])

    # Each player is answered in their own language, whichever language the buttons speak.
    locked = await click(shared, message, fan, right, "en-US")
    assert locked.startswith("🔒 Locked in") and f"**{question.answer}**" in locked
    locked = await click(shared, message, yuaena, wrong, "ko")
    assert "답을 골랐어요" in locked and f"**{wrong}**" in locked
    again = await click(shared, message, yuaena, right, "ko")
    assert "이미 답했어요" in again and f"**{wrong}**" in again
    second = await (
        await emulator.slash(guild, channel, fan, "trivia play", locale="en-US")
    ).response()
    assert second.is_ephemeral and "already running" in second.embeds[0]["description"]

    shared.clock.advance(10)  # the question's time is up
    shown = await emulator.wait_for_edit(message, revealed, timeout=20)
    embed: dict[str, Any] = shown.embed
    assert embed["title"] == "문제 1/1: 정답 공개"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["정답"] == f"✅ **{right}**"
    assert fields["해설"] == question.explanation_ko
    assert fields["결과"].startswith("2명 중 1명이 맞혔어요.")
    styles = {b["label"]: b["style"] for b in choice_buttons(shown)}
    assert styles[right] == SUCCESS
    assert "오류 신고" in [b.get("label") for b in shown.buttons]

    final = await emulator.wait_for_message(
        channel, lambda m: m.embed.get("title") == "최종 순위" if m.embeds else False, timeout=20
    )
    lines = final.embed["description"].splitlines()
    assert lines[0].startswith(f"🥇 <@{fan.id}> — ") and "점 · 정답 1/1" in lines[0]
    assert lines[1] == f"이번에 점수를 얻지 못한 사람: <@{yuaena.id}> (0/1)"
    assert final.allowed_mentions == NO_PINGS

    # A player's own command is answered in their language.
    board = await (
        await emulator.slash(guild, channel, yuaena, "trivia leaderboard", locale="ko")
    ).response()
    assert board.embeds[0]["title"] == "퀴즈 리더보드 — 전체 기간"
    stats = await (await emulator.slash(guild, channel, fan, "trivia stats")).response()
    assert stats.embeds[0]["title"] == "Trivia stats"
