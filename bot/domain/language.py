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
