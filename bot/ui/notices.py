"""The bot's notices to one person: a mistake they can fix, and its own problem (SPEC §3);
and Discord's permissions as the reader's Discord names them."""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.i18n import Language, catalogue, join, render
from bot.ui.embeds import ERROR_COLOUR, _embed


def user_error_embed(text: str, language: Language) -> discord.Embed:
    """What to do instead, under a title that does not blame the reader."""
    return _embed(render("notice.user_error.title", language), text, ERROR_COLOUR)


def bot_cannot_embed(text: str, language: Language) -> discord.Embed:
    """What the bot may not do here and who can change that: the bot's problem, not the
    reader's mistake."""
    return _embed(render("notice.bot_cannot.title", language), text, ERROR_COLOUR)


def our_side_embed(text: str, language: Language) -> discord.Embed:
    """A problem on the bot's side (its storage away, an internal error): said as such."""
    return _embed(render("notice.internal_error.title", language), text, ERROR_COLOUR)


def internal_error_embed(error_id: str, language: Language) -> discord.Embed:
    return our_side_embed(
        render("notice.internal_error.body", language, error_id=error_id), language
    )


def permission_names(missing: Iterable[str], language: Language, *, bold: bool = False) -> str:
    """Discord's permissions (`send_messages`, …) as the reader's Discord names them, listed."""
    names = []
    for permission in missing:
        message = f"permission.{permission}"
        if message in catalogue().messages[Language.EN]:
            name = render(message, language)
        else:
            name = permission.replace("_", " ").title()
        names.append(f"**{name}**" if bold else name)
    return join(names, language)
