"""What the bot declines to do because of what someone asked, said in words of the catalogue.

The domain and the services never compose a sentence (SPEC §3a): they raise a `Refusal` with a
message id of the catalogue (`bot/locales/`) and its parameters, and the error path renders it
in the reader's language. A parameter that itself reads differently in Korean (a person's name,
a topic) is a `Bilingual`.
"""

from __future__ import annotations

from typing import NamedTuple


class Bilingual(NamedTuple):
    """A value shown as `en` to English readers and as `ko` to Korean ones."""

    en: str
    ko: str


class Refusal(ValueError):
    """A request the bot refuses: `message` is the id of its text in the catalogue (what was
    wrong and how to ask instead), `params` fill it in. The error path shows it (privately) in
    the reader's language, and logs nothing."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        if not self.params:
            return self.message
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.message} ({shown})"
