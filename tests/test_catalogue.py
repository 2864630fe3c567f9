"""The message catalogue is whole (SPEC §3a): every message in both languages with the same
parameters, every id the code names in the catalogue, no message nobody uses, and Korean
that is Korean. Plus the Korean particles, and Discord's Korean for every command."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.domain.language import Language
from bot.domain.refusal import Bilingual
from bot.i18n import (
    DYNAMIC_PREFIXES,
    MESSAGE_CALLS,
    Catalogue,
    catalogue,
    particle,
    placeholders,
    render,
)

BOT = Path(__file__).resolve().parent.parent / "bot"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def ids_in_code() -> dict[str, list[str]]:
    """Every message id the code names: the first argument of `render`, `Refusal`,
    `UserError`, `msg` … when it is written out; id -> where."""
    found: dict[str, list[str]] = {}
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            written = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in MESSAGE_CALLS and written:
                assert isinstance(first, ast.Constant)
                where = f"{path.relative_to(BOT.parent)}:{node.lineno}"
                found.setdefault(str(first.value), []).append(where)
    return found


def test_every_message_is_in_both_languages_with_the_same_parameters() -> None:
    c = catalogue()
    english, korean = c.ids(Language.EN), c.ids(Language.KO)
    assert sorted(english - korean) == [], "missing in Korean"
    assert sorted(korean - english) == [], "missing in English"
    differ = {
        message: (
            placeholders(c.text(message, Language.EN)),
            placeholders(c.text(message, Language.KO)),
        )
        for message in english
        if placeholders(c.text(message, Language.EN)) != placeholders(c.text(message, Language.KO))
    }
    assert differ == {}


def test_no_placeholder_takes_the_name_of_renders_own_arguments() -> None:
    """`render(message_id, language, **params)`: a `{language}` in a message could never be
    filled in (the call would name `language` twice)."""
    c = catalogue()
    clashing = sorted(
        m
        for m in c.ids(Language.EN)
        if placeholders(c.text(m, Language.EN)) & {"language", "message_id"}
    )
    assert clashing == []


def test_every_id_the_code_names_is_in_the_catalogue() -> None:
    known = catalogue().ids(Language.EN)
    unknown = {m: where for m, where in ids_in_code().items() if m not in known}
    assert unknown == {}


def test_no_message_is_left_unused() -> None:
    used = set(ids_in_code())
    unused = sorted(
        m
        for m in catalogue().ids(Language.EN)
        if m not in used and not m.startswith(DYNAMIC_PREFIXES)
    )
    assert unused == []


def test_korean_messages_are_korean() -> None:
    c = catalogue()
    not_korean = [m for m in c.ids(Language.KO) if not HANGUL.search(c.text(m, Language.KO))]
    english_copied = [
        m
        for m in c.ids(Language.KO)
        if c.text(m, Language.KO) == c.text(m, Language.EN)
        and HANGUL.search(c.text(m, Language.EN)) is None
    ]
    assert not_korean == [] or set(not_korean) <= set(KOREAN_WITHOUT_HANGUL)
    assert english_copied == [] or set(english_copied) <= set(KOREAN_WITHOUT_HANGUL)


# Messages that read the same in both languages (a name, a number, an emoji line).
KOREAN_WITHOUT_HANGUL: tuple[str, ...] = ("settings.check.missing",)


@pytest.mark.parametrize(
    ("word", "pair", "expected"),
    [
        ("아이유", "을/를", "를"),
        ("엄태화 감독", "을/를", "을"),
        ("뷔", "이/가", "가"),
        ("방탄소년단", "은/는", "은"),
        ("서울", "으로/로", "로"),  # ㄹ takes 로
        ("한국", "으로/로", "으로"),
        ("V", "과/와", "와"),  # 브이
        ("Seoul", "을/를", "을"),  # …엘
        ("10", "이/가", "이"),  # 십
        ("2024", "이/가", "가"),  # 이천이십사
        ("'Love wins all'", "을/를", "을"),  # …올: the closing quote is looked past
        ("오후 6시", "이에요/예요", "예요"),
    ],
)
def test_particles_follow_the_last_sound(word: str, pair: str, expected: str) -> None:
    assert particle(word, pair) == expected


def test_a_parameter_is_written_in_the_readers_language(tmp_path: Path) -> None:
    for language in Language:
        (tmp_path / language).mkdir()
    (tmp_path / "en" / "m.po").write_text(
        'msgid "x"\nmsgstr "{who} said it on {day}."\n', encoding="utf-8"
    )
    (tmp_path / "ko" / "m.po").write_text(
        'msgid "x"\nmsgstr "{day}에 {who:이/가} 말했어요."\n', encoding="utf-8"
    )
    c = Catalogue.load(tmp_path)
    import datetime as dt

    who, day = Bilingual("Um Tae-hwa", "엄태화 감독"), dt.date(2024, 1, 24)
    assert c.render("x", Language.EN, who=who, day=day) == "Um Tae-hwa said it on 24 January 2024."
    assert (
        c.render("x", Language.KO, who=who, day=day) == "2024년 1월 24일에 엄태화 감독이 말했어요."
    )
    assert render("error.server_only", Language.KO) != render("error.server_only", Language.EN)


async def test_every_description_and_choice_has_korean_for_discord(tmp_path: Path) -> None:
    """What Discord shows a Korean user: every description and choice name in Korean
    (`commands.po`; names stay as people type them)."""
    korean = catalogue().commands
    texts = command_texts(await loaded_tree(tmp_path))
    assert [text for text in texts if text not in korean] == []
    assert sorted(set(korean) - set(texts)) == []  # none left over


async def loaded_tree(tmp_path: Path) -> app_commands.CommandTree:
    """The bot's command tree, with every cog loaded (no connection to Discord)."""
    from bot.app import EXTENSIONS, LoveWinsAllBot
    from bot.config import load_settings
    from bot.domain.dataset import load_dataset
    from bot.store.sqlite import SQLiteStore
    from tests.dataset_factory import write_dataset

    store = SQLiteStore(tmp_path / "lwa.sqlite3")
    settings = load_settings({"DISCORD_TOKEN": "x" * 40})
    bot = LoveWinsAllBot(settings, load_dataset(write_dataset(tmp_path / "data")), store)
    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    return bot.tree


def command_texts(tree: app_commands.CommandTree) -> list[str]:
    texts: list[str] = []
    for command in tree.walk_commands():
        texts.append(command.description)
        for parameter in getattr(command, "parameters", []):
            texts.append(parameter.description)
            texts += [choice.name for choice in parameter.choices]
    return [t for t in texts if t and t != "…"]


async def test_the_translator_leaves_names_alone_and_gives_descriptions_in_korean() -> None:
    from bot.i18n import CommandTranslator

    translator, korean = CommandTranslator(), discord.Locale.korean
    name: app_commands.TranslationContextTypes = app_commands.TranslationContext(
        app_commands.TranslationContextLocation.command_name, cast(Any, None)
    )
    description: app_commands.TranslationContextTypes = app_commands.TranslationContext(
        app_commands.TranslationContextLocation.command_description, cast(Any, None)
    )
    about = "What this bot is, its dataset and its sources"
    assert await translator.translate(app_commands.locale_str("quote"), korean, name) is None
    said = await translator.translate(app_commands.locale_str(about), korean, description)
    assert said is not None and HANGUL.search(said)
    american = discord.Locale.american_english
    assert await translator.translate(app_commands.locale_str(about), american, description) is None
