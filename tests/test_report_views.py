"""What fans and moderators read of trivia reports (bot/ui/trivia.py): the question's text in
the reader's language, never a bare internal id as the label; the moderators' list with a
"Mark fixed" and a "Dismiss" button per reported question, within Discord's limits; the
outcome told to the reporter."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest

from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset
from bot.domain.records import Report, ReportStatus
from bot.i18n import Language
from bot.ui import trivia as ui
from tests.dataset_factory import write_dataset

T0 = dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC)
GUILD = 100


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load_dataset(write_dataset(tmp_path_factory.mktemp("report-views") / "data"))


def report(
    report_id: int, question: str, reporter: int = 7, reason: str = "Two choices look right"
) -> Report:
    return Report(
        id=report_id,
        guild_id=GUILD,
        channel_id=2,
        question_id=question,
        reporter_id=reporter,
        reason=reason,
        created_at=T0,
    )


def test_the_thanks_name_the_question_by_its_text_in_the_readers_language(data: Dataset) -> None:
    question = data.question("t-director")
    assert question is not None
    english = ui.report_thanks_embed(data, "t-director").description or ""
    korean = ui.report_thanks_embed(data, "t-director", language=Language.KO).description or ""
    assert f"“{question.question}”" in english
    assert f"“{question.question_ko}”" in korean
    for text in (english, korean):
        assert "t-director" not in text and "#" not in text  # no internal id, no report number


def test_the_list_shows_each_reported_question_by_its_text_with_its_buttons(data: Dataset) -> None:
    reports = [
        report(1, "t-director", reporter=7),
        report(2, "t-true", reporter=8, reason="It was V and IU together"),
        report(3, "t-director", reporter=9, reason="The director is spelled wrong"),
    ]
    message = ui.reports_message(reports, data)
    embed, view = message["embed"], message["view"]
    text = embed.description or ""
    director, true = data.question("t-director"), data.question("t-true")
    assert director is not None and true is not None
    assert f"**1.** “{director.question}”" in text and f"**2.** “{true.question}”" in text
    assert "t-director" not in text and "t-true" not in text
    assert "Two choices look right" in text and "The director is spelled wrong" in text
    assert "<@9>" in text

    buttons = [
        (b["label"], b["custom_id"], row)
        for row, components in enumerate(view.to_components())
        for b in components["components"]
    ]
    assert buttons == [
        ("1 · Mark fixed", "lwa:resolve:t-director:3:fixed", 0),
        ("1 · Dismiss", "lwa:resolve:t-director:3:dismissed", 0),
        ("2 · Mark fixed", "lwa:resolve:t-true:2:fixed", 1),
        ("2 · Dismiss", "lwa:resolve:t-true:2:dismissed", 1),
    ]
    template = ui.ResolveButton.__discord_ui_compiled_template__
    assert all(template.fullmatch(custom_id) for _, custom_id, _ in buttons)

    korean = ui.reports_message(reports, data, language=Language.KO)["embed"].description
    assert f"“{director.question_ko}”" in (korean or "")


def test_a_crowded_list_keeps_to_five_rows_and_discords_limits(data: Dataset) -> None:
    questions = [q.id for q in data.questions]
    many = [
        report(n, questions[n % len(questions)], reporter=n, reason="x" * 500) for n in range(1, 41)
    ] + [report(41 + n, f"t-gone-{n}") for n in range(6)]
    message = ui.reports_message(many, data, note="✅ Done.")
    embed, view = message["embed"], message["view"]
    rows = view.to_components()
    buttons = [b for row in rows for b in row["components"]]
    assert len(rows) == 5 and all(len(row["components"]) == 2 for row in rows)
    assert len(embed.description or "") <= 4096 and len(embed) <= 6000
    assert all(len(b["label"]) <= 80 and len(b["custom_id"]) <= 100 for b in buttons)
    text = embed.description or ""
    assert text.startswith("✅ Done.")
    assert all(f"**{n}.** " in text for n in range(1, 6))  # each question with buttons is shown
    assert "> …and " in text  # what did not fit of a question's reports is counted
    assert re.search(r"\d+ more reported questions are waiting", embed.description or "")


def test_a_question_gone_from_the_dataset_is_said_to_be_gone(data: Dataset) -> None:
    text = ui.reports_message([report(1, "t-retired")], data)["embed"].description or ""
    assert "a question no longer in the quiz (`t-retired`)" in text


def test_no_open_report_says_so_and_offers_no_button(data: Dataset) -> None:
    message = ui.reports_message([], data)
    assert "No open reports" in (message["embed"].description or "")
    assert message["view"].children == []


def test_the_outcome_is_told_in_a_line_naming_the_question(data: Dataset) -> None:
    question = data.question("t-director")
    assert question is not None
    fixed = report(1, "t-director")
    dismissed = report(2, "t-true")
    embed = ui.outcomes_embed(
        [
            replace(fixed, status=ReportStatus.FIXED),
            replace(dismissed, status=ReportStatus.DISMISSED),
        ],
        data,
    )
    lines = (embed.description or "").splitlines()
    assert lines[0] == f"Your report about “{question.question}” was marked fixed — thank you!"
    assert "looked at by a moderator; the question stays as it is" in lines[1]
    korean = ui.outcomes_embed([replace(fixed, status=ReportStatus.FIXED)], data, Language.KO)
    assert f"“{question.question_ko}”" in (korean.description or "")
