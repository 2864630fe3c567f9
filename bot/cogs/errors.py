"""One error path for every interaction (SPEC §3).

A user mistake (`UserError`) gets an ephemeral sentence saying what to do instead. Anything else
gets an ephemeral apology with a short error id; the log has the traceback under the same id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.store.base import StoreUnavailable
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

log = logging.getLogger(__name__)


class UserError(Exception):
    """A mistake the user can fix; the message is shown to them as it is."""


async def send_ephemeral(interaction: discord.Interaction, embed: discord.Embed) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=True)
    else:
        await interaction.response.send_message(embed=embed, ephemeral=True)


# Discord drops an interaction not answered within 3 s of its creation. Work that may wait on
# the database (another writer holding it, a busy disk) defers when it runs past either mark.
DEFER_AFTER_SECONDS = 2.0  # of work
DEFER_BY_AGE_SECONDS = 2.5  # since Discord created the interaction (a backlog counts too)


async def reply_in_time(
    interaction: discord.Interaction[Any],
    work: Awaitable[dict[str, Any]],
    *,
    ephemeral: bool = False,
) -> None:
    """Send what `work` builds (send_message keyword arguments), deferring first when it takes
    too long for Discord's limit, so the interaction is never lost. The fast path costs one
    timer, no extra task."""
    loop = asyncio.get_running_loop()
    age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    deferral: list[asyncio.Task[Any]] = []

    def defer() -> None:
        log.warning("interaction %s is slow (the database?); deferring it", interaction.id)
        deferral.append(
            loop.create_task(interaction.response.defer(ephemeral=ephemeral, thinking=True))
        )

    timer = loop.call_later(max(0.0, min(DEFER_AFTER_SECONDS, DEFER_BY_AGE_SECONDS - age)), defer)
    try:
        reply = await work
    finally:
        timer.cancel()  # no await since `work` ended: the timer cannot fire after this check
        if deferral:
            await asyncio.gather(*deferral, return_exceptions=True)  # sent before anything else
    if interaction.response.is_done():
        await interaction.followup.send(**reply, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(**reply, ephemeral=ephemeral)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the user kindly about `error`; log internal errors with a traceback and an id."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        embed = embeds.user_error_embed(str(error))
    elif isinstance(error, StoreUnavailable):  # the store logged why, once, for the operator
        embed = embeds.user_error_embed(
            "I couldn't save that just now: the bot's storage is busy or unavailable. "
            "Nothing was changed; please try again in a moment."
        )
    elif isinstance(error, app_commands.CheckFailure):
        embed = embeds.user_error_embed(str(error) or "You can't use that command here.")
    elif isinstance(error, app_commands.TransformerError | app_commands.CommandNotFound):
        embed = embeds.user_error_embed(
            "I couldn't read that. Please check the options and try again."
        )
    else:
        error_id = secrets.token_hex(4)
        log.error(
            "error %s in interaction %s (%s)",
            error_id,
            interaction.id,
            _describe(interaction),
            exc_info=error,
        )
        embed = embeds.internal_error_embed(error_id)
    try:
        await send_ephemeral(interaction, embed)
    except discord.HTTPException:
        log.warning("could not tell the user about an error in interaction %s", interaction.id)


def _describe(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, object] = dict(interaction.data or {})
    return str(data.get("custom_id", "component"))


class Errors(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Errors(bot))
