"""REST: channels and their messages, reactions and typing, with Discord's permission checks
(50001 without VIEW_CHANNEL, 50013 without the permission the call needs, embeds dropped
without EMBED_LINKS, 10003 for a deleted channel) and ``nonce`` + ``enforce_nonce``
deduplication."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from .. import permissions as P
from ..context import Context
from ..models import Channel, Message
from ..rest import ApiError, Checks, Request, Violation, not_found, route
from ..validation import validate_message
from ..world import World

NONCE_TTL = 300.0  # seconds Discord remembers an enforced nonce


class ChannelRoutes:
    def __init__(self, ctx: Context, world: World, checks: Checks) -> None:
        self.ctx = ctx
        self.world = world
        self.checks = checks
        # (channel id, nonce) -> (message id, monotonic time it was posted)
        self.nonces: dict[tuple[int, str], tuple[int, float]] = {}

    def forget_nonces(self) -> None:
        """Discord remembers an enforced nonce for a few minutes only: forget them all now, as
        it has by the time a bot comes back ten minutes after a crash."""
        self.nonces.clear()

    @route("GET", "/channels/{channel_id}")
    async def get_channel(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        return ch.to_payload()

    @route("POST", "/channels/{channel_id}/typing")
    async def typing(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.SEND_MESSAGES)
        return None

    @route("GET", "/channels/{channel_id}/messages")
    async def list_messages(self, req: Request) -> Any:
        """Newest first. With ``after`` (and no ``before``), the ``limit`` messages right after
        it, as Discord pages forward. Without READ_MESSAGE_HISTORY, no message at all (not an
        error), as Discord documents. A message's ``nonce`` is not kept: only the answer to
        its POST and its MESSAGE_CREATE carry it."""
        ch = self._channel(req)
        self._require(ch)
        self.ctx.stats["messages:listed"] += 1
        if ch.guild_id is not None and not self.world.app_permissions(ch) & P.READ_MESSAGE_HISTORY:
            return []
        msgs = sorted(self.world.channel_messages(ch), key=lambda m: m.id, reverse=True)
        q = req.query
        limit = max(1, min(100, int(q.get("limit", 50))))
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])]
            if "before" not in q:
                msgs = msgs[-limit:]
        return [m.to_payload(with_nonce=False) for m in msgs[:limit]]

    @route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def get_message(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.READ_MESSAGE_HISTORY)
        return self._message_in(ch, req).to_payload(with_nonce=False)

    @route("POST", "/channels/{channel_id}/messages")
    async def create_message(self, req: Request) -> Any:
        ch = self._channel(req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        errors = validate_message(payload)
        if req.files:
            errors = [e for e in errors if e.code != "MESSAGE_EMPTY"]
        if len(errors) == 1 and errors[0].code == "MESSAGE_EMPTY":
            self.checks.violations.append(Violation(req.method, req.path, errors, payload))
            raise ApiError(400, 50006, "Cannot send an empty message")
        self.checks.check(req, errors, payload)
        self._require(ch, P.SEND_MESSAGES)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            key = (ch.id, str(nonce))
            prev = self.nonces.get(key)
            if prev is not None and time.monotonic() - prev[1] < NONCE_TTL:
                self.ctx.stats["nonce:deduplicated"] += 1
                return self.world.messages[prev[0]].to_payload()
        payload = dict(payload)
        self._drop_embeds_without_permission(ch, payload)
        msg = self.world.new_message(ch, payload, req.files)
        if nonce is not None and payload.get("enforce_nonce"):
            self.nonces[(ch.id, str(nonce))] = (msg.id, time.monotonic())
        return msg.to_payload()

    @route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def edit_message(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        if msg.author.id != self.ctx.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload = req.payload if isinstance(req.payload, dict) else {}
        self.checks.check(req, validate_message(payload, edit=True), payload)
        payload = dict(payload)
        self._drop_embeds_without_permission(ch, payload)
        return self.world.edit_message(msg, payload, req.files).to_payload()

    @route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def delete_message(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        if msg.author.id != self.ctx.bot_user.id:
            self._require(ch, P.MANAGE_MESSAGES)
        self.world.delete_message(msg)
        return None

    @route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def react(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.READ_MESSAGE_HISTORY, P.ADD_REACTIONS)
        msg = self._message_in(ch, req)
        msg.reactions.setdefault(unquote(req.params["emoji"]), set()).add(self.ctx.bot_user.id)
        self.ctx.notify()
        return None

    @route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def unreact(self, req: Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        msg.reactions.get(unquote(req.params["emoji"]), set()).discard(self.ctx.bot_user.id)
        self.ctx.notify()
        return None

    # ----------------------------------------------------------------------
    def _channel(self, req: Request) -> Channel:
        cid = req.params["channel_id"]
        ch = self.world.channels.get(int(cid)) if cid.isdigit() else None
        if ch is None or ch.deleted:
            raise not_found("Channel", 10003)
        return ch

    def _require(self, ch: Channel, *bits: int) -> None:
        """The bot may see ``ch`` (50001) and has each of ``bits`` there (50013). It cannot see
        a channel of a server that did not install it, nor a group DM or a DM between users
        (it answers those only through an interaction's response and follow-ups)."""
        if ch.guild_id is None:
            if ch.with_bot:
                return
            raise ApiError(403, 50001, "Missing Access")
        guild = self.world.find_guild(ch.guild_id)
        if guild is None or not guild.installed:
            raise ApiError(403, 50001, "Missing Access")
        perms = self.world.app_permissions(ch)
        if not perms & P.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        for bit in bits:
            if not perms & bit:
                raise ApiError(403, 50013, "Missing Permissions")

    def _message_in(self, ch: Channel, req: Request) -> Message:
        mid = req.params["message_id"]
        msg = self.world.messages.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg.deleted or msg.channel_id != ch.id or msg.is_ephemeral:
            raise not_found("Message", 10008)
        return msg

    def _drop_embeds_without_permission(self, ch: Channel, payload: dict[str, Any]) -> None:
        if (
            ch.guild_id is not None
            and payload.get("embeds")
            and not self.world.app_permissions(ch) & P.EMBED_LINKS
        ):
            payload["embeds"] = []
            self.ctx.stats["embeds_dropped"] += 1
