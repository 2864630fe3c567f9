"""The message catalogue (SPEC §3a): every sentence a person reads, in English and in Korean.

A message has an id (`quote.none_found`) and parameters (`{speaker}`); its texts live in gettext
catalogues, `bot/locales/<language>/*.po`, read with Babel once, at the first use: the format
translators' tools read. `render(message_id, language, **params)` is the one way to words; the
domain and the services hand out ids and parameters (`bot.domain.refusal.Refusal`), the ui and
the error path render them for their reader.

Whose language: a reply is in the language of the person who asked (`Interaction.locale`:
`ko` is Korean, every other locale English); what the bot posts for a whole channel is in the
server's language (`/settings language`, else the server's preferred locale, else English).

Parameters: `{name}` is the value as it is; a `Bilingual` value is shown in the reader's
language; a date is written as the reader's language writes dates (`2024년 1월 24일`). Korean
particles follow the last sound of the word before them: `{name:을/를}` renders the name and 을
or 를 (`{name:이/가}`, `{name:은/는}`, `{name:과/와}`, `{name:으로/로}`, `{name:이에요/예요}` …).
Command descriptions and choice names reach Discord in Korean through `CommandTranslator`,
from `commands.po`, whose ids are the English texts themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import discord
from babel.dates import format_date
from babel.messages.pofile import PoFileError, read_po
from discord import app_commands

from bot.domain.language import LANGUAGES, Language, language_of, msg
from bot.domain.refusal import Bilingual

__all__ = [
    "LANGUAGES",
    "Bilingual",
    "Catalogue",
    "CommandTranslator",
    "Language",
    "catalogue",
    "language_of",
    "msg",
    "particle",
    "render",
    "use_catalogue",
]

LOCALES_DIR = Path(__file__).parent / "locales"
COMMANDS_FILE = "commands.po"  # descriptions and choice names: ids are the English texts
# The calls whose first argument is a message id (the catalogue's tests find them there), and
# the ids the code builds rather than writes out (`permission.manage_guild`).
MESSAGE_CALLS = frozenset({"render", "Refusal", "UserError", "BotCannot", "msg", "told"})
DYNAMIC_PREFIXES: tuple[str, ...] = ("permission.",)


# --- Korean particles -------------------------------------------------------------------------

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # the final consonant ㄹ, which takes 로 rather than 으로
# How a final digit or Latin letter is read aloud: whether that reading ends in a consonant
# (and whether that consonant is ㄹ). 1 일, 3 삼, 6 육, 7 칠, 8 팔, 0 영; L 엘, M 엠, N 엔, R 알.
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "3": "ㅁ", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ"}
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
_PAIRS = re.compile(r"^(?P<after_consonant>[^/]+)/(?P<after_vowel>[^/]+)$")


def _final(word: str) -> str | None:
    """The final consonant of the word as it is read (None: it ends in a vowel), judged on
    its last letter or digit; closing quotes and brackets are looked past."""
    for char in reversed(word.strip()):
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            final = (code - _HANGUL_FIRST) % 28
            return None if final == 0 else ("ㄹ" if final == _RIEUL else "ㅇ")
        if char.isdigit():
            return _DIGIT_FINAL.get(char)
        if char.isascii() and char.isalpha():
            return _LETTER_FINAL.get(char.lower())
    return None


def particle(word: str, pair: str) -> str:
    """The particle of `pair` ("을/를": after a consonant / after a vowel) that follows `word`.
    A ㄹ takes the vowel form of 으로/로."""
    match = _PAIRS.match(pair)
    if match is None:
        raise ValueError(f"not a particle pair: {pair!r}")
    final = _final(word)
    if final is None or (final == "ㄹ" and match["after_consonant"].startswith("으로")):
        return match["after_vowel"]
    return match["after_consonant"]


# --- rendering --------------------------------------------------------------------------------


def format_day(day: dt.date, language: Language) -> str:
    """A calendar day as the reader writes it: 24 January 2024, 2024년 1월 24일."""
    if language is Language.KO:
        return format_date(day, format="long", locale="ko")
    return f"{day.day} {day.strftime('%B')} {day.year}"


class _Formatter(string.Formatter):
    def __init__(self, language: Language) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Bilingual):
            value = value.ko if self.language is Language.KO else value.en
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = format_day(value, self.language)
        if _PAIRS.match(format_spec):
            text = str(value)
            return text + particle(text, format_spec)
        return str(super().format_field(value, format_spec))


class Catalogue:
    """Every message of every language; `render` fills one in."""

    def __init__(
        self, messages: Mapping[Language, Mapping[str, str]], commands: Mapping[str, str]
    ) -> None:
        self.messages = messages
        self.commands = commands  # English text -> Korean text

    @classmethod
    def load(cls, folder: Path = LOCALES_DIR) -> Catalogue:
        messages: dict[Language, dict[str, str]] = {}
        commands: dict[str, str] = {}
        for language in LANGUAGES:
            found: dict[str, str] = {}
            for path in sorted((folder / language).glob("*.po")):
                entries = _read(path)
                if path.name == COMMANDS_FILE:
                    if language is Language.KO:
                        commands.update(entries)
                    continue
                found.update(entries)
            messages[language] = found
        return cls(messages, commands)

    def ids(self, language: Language) -> set[str]:
        return set(self.messages[language])

    def text(self, message_id: str, language: Language) -> str:
        texts = self.messages[language]
        if message_id in texts:
            return texts[message_id]
        if message_id in self.messages[Language.EN]:
            return self.messages[Language.EN][message_id]  # a gap the tests report, not a crash
        raise KeyError(f"no message {message_id!r} in the catalogue")

    def render(self, message_id: str, language: Language, **params: object) -> str:
        return _Formatter(language).format(self.text(message_id, language), **params)


def _read(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)  # broken is an error, not a warning
    except PoFileError as error:
        raise ValueError(f"{path.parent.name}/{path.name} cannot be read ({error})") from None
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string
    }


@functools.cache
def _own() -> Catalogue:
    return Catalogue.load()


_chosen: Catalogue | None = None


def use_catalogue(folder: Path) -> Catalogue:
    """Speak from the catalogue in `folder` (LOCALES_DIR) instead of the bot's own, from now on."""
    global _chosen
    _chosen = Catalogue.load(folder)
    return _chosen


def catalogue() -> Catalogue:
    """The catalogue the bot speaks from: its own, read once, unless LOCALES_DIR chose another."""
    return _chosen if _chosen is not None else _own()


def render(message_id: str, language: Language, **params: object) -> str:
    """The text of `message_id` in `language`, with `params` filled in."""
    return catalogue().render(message_id, language, **params)


def placeholders(text: str) -> set[str]:
    """The parameters a text names (`{name}`, `{name:을/를}` -> name), for the catalogue checks."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def choose(value: Bilingual | str, language: Language) -> str:
    if isinstance(value, Bilingual):
        return value.ko if language is Language.KO else value.en
    return value


def join(items: Iterable[str], language: Language) -> str:
    """`a, b and c` / `a, b, c`: a list as the reader writes one."""
    listed = list(items)
    if language is Language.KO or len(listed) < 2:
        return ", ".join(listed)
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


# --- Discord's own UI: command descriptions and choice names -------------------------------------

_NOT_TRANSLATED = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


class CommandTranslator(app_commands.Translator):
    """Korean descriptions and choice names for Discord's `ko` locale (SPEC §3a). Names stay
    as they are: people type them, and they are the same in every language."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if language_of(locale) is not Language.KO or context.location in _NOT_TRANSLATED:
            return None
        return catalogue().commands.get(string.message)
