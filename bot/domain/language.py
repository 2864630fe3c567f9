"""The bot's two languages (SPEC §3a): Korean for the `ko` locale, English for every other."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    EN = "en"
    KO = "ko"


LANGUAGES = tuple(Language)


def language_of(locale: object) -> Language:
    """The bot's language for a Discord locale (`ko` -> Korean, anything else -> English)."""
    code = str(getattr(locale, "value", locale) or "")
    return Language.KO if code.startswith("ko") else Language.EN


def msg(message_id: str) -> str:
    """A message id of the catalogue (bot/locales/) kept for later rendering (in a table, a
    stored reason): marks it as one for the catalogue's checks."""
    return message_id
