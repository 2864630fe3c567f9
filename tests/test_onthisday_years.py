"""How long ago an event was, as fans read it on /onthisday, behind its Details and in the
operators' preview (issue 22): "1 year ago", "this year", "in 2 years", never "1 years ago";
and on a day without events, the next anniversary's events counted at that anniversary."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bot.__main__ import preview
from bot.domain import dates
from bot.domain.models import Dataset, Event, Source
from bot.i18n import Language
from bot.ui.details import details_embed
from bot.ui.embeds import when


def _event(event_id: str, day: dt.date) -> Event:
    return Event(id=event_id, date=day, text=f"Event {event_id}.", source="s", evidence="…")


def _dataset(*events: Event) -> Dataset:
    source = Source("s", "An article", "Example News", "https://example.org", dt.date(2024, 1, 1))
    return Dataset(
        sources={"s": source}, people={}, quotes=(), facts=(), events=events, questions=()
    )


@pytest.mark.parametrize(
    ("happened", "today", "english", "korean"),
    [
        (dt.date(2024, 1, 24), dt.date(2024, 1, 24), "this year", "올해"),
        (dt.date(2024, 1, 24), dt.date(2024, 12, 31), "this year", "올해"),
        (dt.date(2025, 12, 25), dt.date(2026, 1, 5), "last year", "작년"),  # not "this year"
        (dt.date(2024, 1, 24), dt.date(2025, 1, 24), "1 year ago", "1년 전"),
        (dt.date(2024, 1, 24), dt.date(2026, 1, 23), "1 year ago", "1년 전"),
        (dt.date(2024, 1, 24), dt.date(2026, 1, 24), "2 years ago", "2년 전"),
        (dt.date(2027, 1, 5), dt.date(2026, 12, 25), "next year", "내년"),
        (dt.date(2027, 1, 24), dt.date(2026, 1, 24), "in 1 year", "1년 후"),
        (dt.date(2028, 1, 24), dt.date(2026, 1, 24), "in 2 years", "2년 후"),
    ],
)
def test_years_ago_read_right(happened: dt.date, today: dt.date, english: str, korean: str) -> None:
    event = _event("e", happened)
    assert when(event, today, Language.EN) == english
    assert when(event, today, Language.KO) == korean


def test_the_next_anniversary_is_counted_at_that_anniversary() -> None:
    """Asked on 7 December 2026, a day without events: the next anniversary is 25 December,
    and what happened on 25 December 2023 is 3 years ago then (2 years ago was the bug)."""
    flu, older = _event("flu", dt.date(2023, 12, 25)), _event("older", dt.date(2018, 12, 25))
    data = _dataset(flu, older, _event("spring", dt.date(2024, 3, 2)))
    today = dt.date(2026, 12, 7)
    countdown = dates.countdown(data.events, today)
    assert countdown.next_day == dt.date(2026, 12, 25)

    key = dates.day_key(12, 25, countdown.next_day)  # what /onthisday's Details button names
    shown = details_embed(data, "day", key, today, Language.EN).description or ""
    assert "**2023** (3 years ago)" in shown and "**2018** (8 years ago)" in shown, shown
    korean = details_embed(data, "day", key, today, Language.KO).description or ""
    assert "**2023** (3년 전)" in korean, korean

    # A day asked for itself counts at its nearest anniversary too, as its reply does: on
    # 7 December, 25 December is 18 days away, and 2023 is 3 years before it.
    asked = details_embed(data, "day", "12-25", today, Language.EN).description or ""
    assert "**2023** (3 years ago)" in asked


def test_the_preview_says_1_year_ago() -> None:
    data = _dataset(_event("a", dt.date(2024, 1, 24)), _event("b", dt.date(2025, 1, 24)))
    now = dt.datetime(2025, 1, 24, 12, tzinfo=dt.UTC)
    text = preview(data, "onthisday", random.Random(1), now)
    assert "2024 (1 year ago)" in text and "2025 (this year)" in text, text
    assert "years ago" not in text
