"""The one error path for every interaction, and the one way to answer it in time (SPEC §3).

A mistake the user can fix (`UserError`, a domain `Refusal`, a failed check) gets an ephemeral
sentence saying what to do instead. The database being unavailable gets a kind "try again" (the
store logs why, once, for the operator). Anything else gets an ephemeral apology with a short
error id; the log has the traceback under the same id.

Every interaction is armed against Discord's 3-second limit before anything of it runs
(`arm`): if its answer is not ready in time, it is deferred, and the answer (`respond`) follows
as the deferral's follow-up. Slash commands are armed and checked by `BotTree`; buttons
(DynamicItems) by the `OneErrorPath` mixin; the report form by its listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.domain.records import StoreUnavailable
from bot.domain.refusal import Refusal
from bot.i18n import Language, language_of, render
from bot.ui import notices

log = logging.getLogger(__name__)

# Discord drops an interaction not answered within 3 s of its creation. Work that may wait on
# the database (another writer holding it, a busy disk, a server that hangs) defers when it
# runs past either mark.
DEFER_AFTER_SECONDS = 2.0  # of work
DEFER_BY_AGE_SECONDS = 2.5  # since Discord created the interaction (a backlog counts too)

PRIVATE = "private"  # a command's (or its group's) extras key: its replies are ephemeral
DEFERRAL = "lwa:deferral"  # where an interaction keeps its Deferral (Interaction.extras)


class UserError(app_commands.AppCommandError):
    """A mistake the user can fix: `message` is the id of what to do instead in the catalogue,
    `params` fill it in; it is shown to them in their language."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class BotCannot(UserError):
    """Not the user's mistake: the bot may not do what was asked (a permission it lacks). Told
    under a title that says so; the message says who can fix it."""


class NotInThisServer(app_commands.CheckFailure):
    """A command for servers that added the bot, used where it was not added (a server where
    only the fan installed the bot)."""


# --- answering in time ------------------------------------------------------------------------


class Deferral:
    """An interaction's guard against Discord's 3-second limit: when its answer is not ready
    after `DEFER_AFTER_SECONDS` of work (or `DEFER_BY_AGE_SECONDS` after Discord created it),
    it is deferred ("thinking…"). The fast path costs one timer, no task."""

    def __init__(
        self, interaction: discord.Interaction[Any], *, ephemeral: bool, update: bool = False
    ) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.update = update  # a button whose answer edits its own message (`update`)
        self._task: asyncio.Task[None] | None = None
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        delay = max(0.0, min(DEFER_AFTER_SECONDS, DEFER_BY_AGE_SECONDS - age))
        self._timer = asyncio.get_running_loop().call_later(delay, self._defer)

    def _defer(self) -> None:
        if self.interaction.response.is_done():
            return
        log.warning("interaction %s is slow (the database?); deferring it", self.interaction.id)
        self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        if self.update:  # "thinking" on the message itself, which the answer then edits
            await self.interaction.response.defer()
        else:
            await self.interaction.response.defer(ephemeral=self.ephemeral, thinking=True)
        _acknowledged(self.interaction, deferred=True)

    async def settle(self) -> None:
        """No deferral from now on; one already on its way is sent first."""
        self._timer.cancel()  # no await since the caller's work ended: it cannot fire later
        if self._task is not None:
            with contextlib.suppress(discord.HTTPException):
                await self._task


def arm(interaction: discord.Interaction[Any], *, ephemeral: bool, update: bool = False) -> None:
    """Start the interaction's `Deferral` (once: a second call keeps the first); `update`: a
    button that answers by editing its own message."""
    if DEFERRAL not in interaction.extras:
        interaction.extras[DEFERRAL] = Deferral(interaction, ephemeral=ephemeral, update=update)


def is_private(command: object) -> bool:
    """Whether a slash command answers privately (its own or its group's `extras`)."""
    for part in (command, getattr(command, "root_parent", None)):
        if part is not None and getattr(part, "extras", {}).get(PRIVATE):
            return True
    return False


async def respond(
    interaction: discord.Interaction[Any], *, ephemeral: bool | None = None, **reply: Any
) -> None:
    """Answer the interaction with `reply` (send_message keyword arguments): as its response,
    or as the follow-up of its deferral. `ephemeral` defaults to what it was armed with (after
    a deferral, Discord keeps the deferral's)."""
    deferral: Deferral | None = interaction.extras.get(DEFERRAL)
    if deferral is not None:
        await deferral.settle()
    private = ephemeral if ephemeral is not None else bool(deferral and deferral.ephemeral)
    if interaction.response.is_done():
        await interaction.followup.send(**reply, ephemeral=private)
    else:
        await interaction.response.send_message(**reply, ephemeral=private)
        _acknowledged(interaction, deferred=False)


async def update(interaction: discord.Interaction[Any], **reply: Any) -> None:
    """Answer a button's click by editing the message it is on (edit_message keyword
    arguments): as the response, or after the deferral, by editing the original."""
    deferral: Deferral | None = interaction.extras.get(DEFERRAL)
    if deferral is not None:
        await deferral.settle()
    if interaction.response.is_done():
        await interaction.edit_original_response(**reply)
    else:
        await interaction.response.edit_message(**reply)
        _acknowledged(interaction, deferred=False)


async def send_ephemeral(interaction: discord.Interaction[Any], embed: discord.Embed) -> None:
    await respond(interaction, embed=embed, ephemeral=True)


def metric_name(interaction: discord.Interaction[Any]) -> str:
    """What an interaction is, for the operator's metrics: a command's name, or a button's
    kind (`button:t` for an answer, `button:details` …)."""
    if interaction.command is not None:
        return interaction.command.qualified_name
    custom_id = str(dict(interaction.data or {}).get("custom_id", ""))
    parts = custom_id.split(":")
    return f"button:{parts[1]}" if len(parts) > 1 and parts[0] == "lwa" else "other"


def _acknowledged(interaction: discord.Interaction[Any], *, deferred: bool) -> None:
    """For the metrics: how long Discord waited for this interaction's first answer."""
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is not None:
        seconds = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        metrics.acked(metric_name(interaction), seconds, deferred)


def done(interaction: discord.Interaction[Any], outcome: str = "ok") -> None:
    """For the metrics: how an interaction ended. Every interaction answered without an error
    ends here, so the bot's `answered` hook follows it (a fan's news, behind the answer)."""
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is not None:
        metrics.interaction(metric_name(interaction), outcome)
    answered = getattr(interaction.client, "answered", None)
    if outcome == "ok" and answered is not None:
        answered(interaction)


# --- the one error path -------------------------------------------------------------------------


def words(message: str, params: dict[str, object], language: Language) -> str:
    """A refusal's or a user error's text in `language` (an id missing from the catalogue is
    the bot's own mistake: it raises, and the reader is told it is ours)."""
    return render(message, language, **params)


def _cause(error: BaseException) -> BaseException:
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        return error.__cause__ or error  # what the command or transformer raised
    return error


def error_embed(interaction: discord.Interaction[Any], error: BaseException) -> discord.Embed:
    """What the user is told about `error`, in their language; internal errors are logged
    with an id here."""
    error = _cause(error)
    language = language_of(interaction.locale)

    def told(message: str, **params: object) -> discord.Embed:
        return notices.user_error_embed(render(message, language, **params), language)

    if isinstance(error, BotCannot):
        return notices.bot_cannot_embed(words(error.message, error.params, language), language)
    if isinstance(error, UserError | Refusal):
        return notices.user_error_embed(words(error.message, error.params, language), language)
    if isinstance(error, StoreUnavailable):  # the store logged why, once, for the operator
        return notices.our_side_embed(render("error.storage_busy", language), language)
    if isinstance(error, app_commands.MissingPermissions):
        return told(
            "error.missing_permission",
            permissions=notices.permission_names(error.missing_permissions, language, bold=True),
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return told("error.server_only")
    if isinstance(error, NotInThisServer):
        return told("error.not_installed_here")
    if isinstance(error, app_commands.CheckFailure):
        return told("error.cannot_use_here")
    if isinstance(error, app_commands.TransformerError | app_commands.CommandNotFound):
        return told("error.unreadable_options")
    error_id = secrets.token_hex(4)
    log.error(
        "error %s in interaction %s (%s)",
        error_id,
        interaction.id,
        _describe(interaction),
        exc_info=error,
    )
    return notices.internal_error_embed(error_id, language)


def _outcome(error: BaseException) -> str:
    error = _cause(error)
    if isinstance(error, StoreUnavailable):
        return "refused_store"
    if isinstance(error, UserError | Refusal | app_commands.AppCommandError):
        return "user_error"
    return "internal_error"


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer the user kindly about `error`, once."""
    embed = error_embed(interaction, error)
    done(interaction, _outcome(error))
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
    """The bot's command tree: every slash command is armed against Discord's 3-second limit
    before anything of it runs, checked for where it may run, and its error goes down the one
    error path."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True  # autocomplete: answered at once or not at all, never deferred
        command = interaction.command
        arm(interaction, ephemeral=is_private(command))
        if command is not None and _for_servers_only(command):
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage
            if not interaction.is_guild_integration():
                raise NotInThisServer
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


def _for_servers_only(command: object) -> bool:
    """A command that only servers which added the bot offer (SPEC §4): Discord shows it
    nowhere else, but a request can claim any place."""
    root = getattr(command, "root_parent", None) or command
    installs = getattr(root, "allowed_installs", None)
    if installs is not None:
        return not installs.user
    return bool(getattr(root, "guild_only", False))


class OneErrorPath:
    """Mixin for the bot's DynamicItems: their callback runs `clicked`, armed against the
    3-second limit (ephemeral when `private`; as an edit of its own message when `updates`;
    not at all when `defers` is False, for a button whose answer is a form, which cannot follow
    a deferral), and whatever it raises
    goes down the one error path (discord.py would only log it, and the user would see "This
    interaction failed")."""

    private: bool = False
    defers: bool = True
    updates: bool = False  # answers by editing its own message (`update`)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if self.defers:
            arm(interaction, ephemeral=self.private, update=self.updates)
        try:
            await self.clicked(interaction)
        except Exception as error:
            await report_error(interaction, error)
        else:
            done(interaction)

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError
