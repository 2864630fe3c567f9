"""The bot's notices to one person: a mistake they can fix, and its own problem (SPEC §3)."""

from __future__ import annotations

import discord

from bot.i18n import Language, render
from bot.ui.embeds import ERROR_COLOUR, _embed


def user_error_embed(text: str, language: Language) -> discord.Embed:
    """What to do instead, under a title that does not blame the reader."""
    return _embed(render("notice.user_error.title", language), text, ERROR_COLOUR)


def internal_error_embed(error_id: str, language: Language) -> discord.Embed:
    return _embed(
        render("notice.internal_error.title", language),
        render("notice.internal_error.body", language, error_id=error_id),
        ERROR_COLOUR,
    )
