"""Test-facing handles for interactions the emulator dispatched to the bot."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import FLAG_EPHEMERAL, Channel, Guild, Member, Message, User

if TYPE_CHECKING:
    from .emulator import Emulator

CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    12: "LAUNCH_ACTIVITY",
}


@dataclass
class CallbackResponse:
    """The bot's initial response (POST /interactions/{id}/{token}/callback)."""

    type: int
    data: dict[str, Any]
    latency: float
    message: Message | None = None

    @property
    def type_name(self) -> str:
        return CALLBACK_NAMES.get(self.type, str(self.type))

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self.data.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def is_ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def title(self) -> str:
        """Modal title (type 9)."""
        return str(self.data.get("title") or "")

    @property
    def custom_id(self) -> str:
        return str(self.data.get("custom_id") or "")


@dataclass(eq=False)
class Interaction:
    """One interaction the emulator sent to the bot, and everything the bot did with it."""

    emu: Emulator
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild: Guild | None
    channel: Channel
    user: Member | User
    dispatched_at: float = field(default_factory=time.monotonic)
    callback: CallbackResponse | None = None
    original_id: int | None = None
    source_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    command_name: str = ""
    focused_type: int | None = None
    # a server that did not install the app, and a member without USE_EXTERNAL_APPS there:
    # Discord makes the app's responses ephemeral
    forced_ephemeral: bool = False

    def __repr__(self) -> str:
        cb = self.callback.type_name if self.callback else "no response"
        return f"<Interaction id={self.id} type={self.type} {self.command_name!r} {cb}>"

    # -- state -----------------------------------------------------------------
    @property
    def member(self) -> Member | User:
        return self.user

    @property
    def owners(self) -> dict[str, str]:
        """Its ``authorizing_integration_owners`` ({"0": guild id or "0", "1": user id})."""
        owners: dict[str, str] = self.payload.get("authorizing_integration_owners") or {}
        return owners

    @property
    def context(self) -> int:
        """0 GUILD, 1 BOT_DM, 2 PRIVATE_CHANNEL."""
        return int(self.payload.get("context", 0))

    @property
    def user_install_only(self) -> bool:
        """Authorized by a user install alone (no guild install covers it): Discord's
        follow-up limit applies."""
        return "1" in self.owners and "0" not in self.owners

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the bot's initial callback (None if none yet)."""
        return self.callback.latency if self.callback else None

    @property
    def responded(self) -> bool:
        return self.callback is not None

    @property
    def is_ephemeral(self) -> bool:
        msg = self.original_message
        if msg is not None and self.callback is not None and self.callback.type in (4, 5):
            return msg.is_ephemeral
        return self.callback.is_ephemeral if self.callback else False

    @property
    def original_message(self) -> Message | None:
        if self.original_id is None:
            return None
        return self.emu.messages.get(self.original_id)

    @property
    def message(self) -> Message:
        """Current state of the original response message (assert it exists)."""
        msg = self.original_message
        assert msg is not None, f"{self!r} has no original response message"
        return msg

    @property
    def content(self) -> str:
        return self.message.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components

    # -- waiting -----------------------------------------------------------------
    async def response(self, timeout: float = 5.0) -> CallbackResponse:
        """Wait for the initial callback."""
        await self.emu.wait_until(
            lambda: self.callback is not None or bool(self.rejected),
            timeout,
            f"the bot's initial response to {self!r}",
        )
        if self.callback is None:
            raise AssertionError(f"the bot's response to {self!r} was rejected: {self.rejected}")
        return self.callback

    async def original(self, timeout: float = 5.0, *, loaded: bool = True) -> Message:
        """Wait for the original response message; by default until it is no longer "thinking"."""

        def ready() -> bool:
            msg = self.original_message
            return msg is not None and (not loaded or not msg.is_loading)

        await self.emu.wait_until(ready, timeout, f"the original response message of {self!r}")
        return self.message

    async def followups(self, n: int = 1, timeout: float = 5.0) -> list[Message]:
        """Wait until at least ``n`` followup messages exist and return them."""
        await self.emu.wait_until(
            lambda: len(self.followup_ids) >= n, timeout, f"{n} followup message(s) for {self!r}"
        )
        return [self.emu.messages[i] for i in self.followup_ids]

    async def wait_for_edit(self, predicate: Any = None, timeout: float = 5.0) -> Message:
        msg = await self.original(timeout)
        return await self.emu.wait_for_edit(msg, predicate, timeout)
