"""The one error path for every interaction (SPEC §3).

A mistake the user can fix (`UserError`, a domain `Refusal`, a failed check) gets an ephemeral
sentence saying what to do instead. The database being unavailable gets a kind "try again" (the
store logs why, once, for the operator). Anything else gets an ephemeral apology with a short
error id; the log has the traceback under the same id.

Slash commands reach it through `BotTree.on_error`; buttons (DynamicItems) through the
`OneErrorPath` mixin; the report form through `report_error` directly.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands

from bot.domain.refusal import Refusal
from bot.store.base import StoreUnavailable
from bot.ui import embeds

log = logging.getLogger(__name__)

# Discord drops an interaction not answered within 3 s of its creation. Work that may wait on
# the database (another writer holding it, a busy disk) defers when it runs past either mark.
DEFER_AFTER_SECONDS = 2.0  # of work
DEFER_BY_AGE_SECONDS = 2.5  # since Discord created the interaction (a backlog counts too)

PERMISSION_NAMES = {"manage_guild": "Manage Server"}  # others read well as .title() gives them


class UserError(app_commands.AppCommandError):
    """A mistake the user can fix; the message is shown to them as it is."""


async def send_ephemeral(interaction: discord.Interaction[Any], embed: discord.Embed) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=True)
    else:
        await interaction.response.send_message(embed=embed, ephemeral=True)


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


def _missing_permissions_text(missing: list[str]) -> str:
    names = " and ".join(
        f"**{PERMISSION_NAMES.get(p, p.replace('_', ' ').title())}**" for p in missing
    )
    return (
        f"Only members with the {names} permission can use this. Ask a moderator if you'd "
        "like it done."
    )


def error_embed(interaction: discord.Interaction[Any], error: BaseException) -> discord.Embed:
    """What the user is told about `error`; internal errors are logged with an id here."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = error.__cause__ or error  # what the command or transformer raised
    if isinstance(error, UserError | Refusal):
        return embeds.user_error_embed(str(error))
    if isinstance(error, StoreUnavailable):  # the store logged why, once, for the operator
        return embeds.user_error_embed(
            "My storage is busy or unavailable right now, so I couldn't do that. Nothing was "
            "changed; please try again in a minute."
        )
    if isinstance(error, app_commands.MissingPermissions):
        return embeds.user_error_embed(_missing_permissions_text(error.missing_permissions))
    if isinstance(error, app_commands.NoPrivateMessage):
        return embeds.user_error_embed("That command works in a server, not in direct messages.")
    if isinstance(error, app_commands.CheckFailure):
        return embeds.user_error_embed(str(error) or "You can't use that command here.")
    if isinstance(error, app_commands.TransformerError | app_commands.CommandNotFound):
        return embeds.user_error_embed(
            "I couldn't read that. Please check the options and try again."
        )
    error_id = secrets.token_hex(4)
    log.error(
        "error %s in interaction %s (%s)",
        error_id,
        interaction.id,
        _describe(interaction),
        exc_info=error,
    )
    return embeds.internal_error_embed(error_id)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer the user kindly about `error`, once."""
    embed = error_embed(interaction, error)
    try:
        await send_ephemeral(interaction, embed)
    except discord.HTTPException:
        log.warning("could not tell the user about an error in interaction %s", interaction.id)


def _describe(interaction: discord.Interaction[Any]) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, object] = dict(interaction.data or {})
    return str(data.get("custom_id", "component"))


class BotTree(app_commands.CommandTree[Any]):
    """The bot's command tree: every slash command's error goes down the one error path."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class OneErrorPath:
    """Mixin for the bot's DynamicItems: their callback runs `clicked`, and whatever it raises
    goes down the one error path (discord.py would only log it, and the user would see
    "This interaction failed")."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.clicked(interaction)
        except Exception as error:
            await report_error(interaction, error)

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError
