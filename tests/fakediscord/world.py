"""The world the bot lives in: users, guilds with their roles, channels and members, messages,
application commands and the interactions sent to the bot.

World building is synchronous; once the bot is connected, each change is also dispatched to it
as its gateway event (filtered by the session's intents). The REST handlers and the driver
change the world through the same methods, so the events always follow."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from . import gateway as gw
from . import permissions as P
from .context import Context
from .gateway import Shards
from .interactions import Interaction
from .models import (
    DM,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    GROUP_DM,
    TEXT,
    Channel,
    Guild,
    Member,
    Message,
    Role,
    User,
    snowflake,
    snowflake_on_shard,
)
from .permissions import Overwrite

# A file of a multipart body: (form field name, filename, contents).
Upload = tuple[str, str, bytes]


class World:
    def __init__(self, ctx: Context, shards: Shards) -> None:
        self.ctx = ctx
        self.shards = shards
        # the servers that installed the bot (it is a member; they reach it over the gateway)
        self.guilds: list[Guild] = []
        self.guild_by_id: dict[int, Guild] = {}
        # servers that did not: the bot is not in them, yet a member who installed the app to
        # their account can use its user-install commands there
        self.other_guilds: dict[int, Guild] = {}
        # the users who installed the app to their account (a user install)
        self.user_installs: set[int] = set()
        self.channels: dict[int, Channel] = {}
        self.users: dict[int, User] = {ctx.bot_user.id: ctx.bot_user}
        self.messages: dict[int, Message] = {}
        # the ids of each channel's (non-ephemeral) messages, oldest first
        self.channel_message_ids: dict[int, list[int]] = {}
        self.dm_channels: dict[int, Channel] = {}
        self.global_commands: dict[int, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[int, dict[str, Any]]] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}

    # ======================================================================
    # users and guilds
    # ======================================================================
    def add_user(self, name: str, *, bot: bool = False) -> User:
        user = User(snowflake(), name, bot=bot)
        self.users[user.id] = user
        return user

    @property
    def guild(self) -> Guild:
        """The first guild (the one the ``bot`` fixture creates)."""
        assert self.guilds, "no guilds yet; call add_guild()"
        return self.guilds[0]

    def get_guild(self, guild_id: int) -> Guild:
        return self.guild_by_id[guild_id]

    def find_guild(self, guild_id: int | None) -> Guild | None:
        """Any server of the world, whether it installed the bot or not."""
        if guild_id is None:
            return None
        return self.guild_by_id.get(guild_id) or self.other_guilds.get(guild_id)

    def add_guild(
        self,
        name: str = "Test Guild",
        owner: User | None = None,
        *,
        everyone_permissions: int = P.DEFAULT_EVERYONE,
        bot_permissions: int = P.DEFAULT_BOT,
        locale: str = "en-US",
        channel_name: str | None = "general",
        installed: bool = True,
        shard: int | None = None,
        shard_count: int | None = None,
        system_channel: bool = False,
    ) -> Guild:
        """A server. ``installed=False``: one that did not install the bot (no bot member or
        role, no GUILD_CREATE; see :meth:`install_for_user`). ``shard``: its id lands on that
        shard of ``shard_count`` (default: the emulator's ``shard_count``) by Discord's
        formula ``(guild_id >> 22) % shard_count``. ``system_channel``: the first channel is the
        server's system channel (where Discord posts joins; bots post welcomes there)."""
        bot_user = self.ctx.bot_user
        owner = owner or self.add_user(f"{name}-owner")
        self.users.setdefault(owner.id, owner)
        if shard is None:
            gid = snowflake()
        else:
            gid = snowflake_on_shard(shard, shard_count or self.shards.shard_count)
        guild = Guild(gid, name, owner.id, preferred_locale=locale, bot_user_id=bot_user.id)
        guild.roles[gid] = Role(gid, gid, "@everyone", everyone_permissions, position=0)
        guild.members[owner.id] = Member(owner, gid)
        if not installed:
            guild.installed = False
            self.other_guilds[gid] = guild
            if channel_name:
                self._make_channel(guild, channel_name, TEXT, [])
            self.ctx.notify()
            return guild
        bot_role = Role(
            snowflake(),
            gid,
            bot_user.username,
            bot_permissions,
            position=1,
            managed=True,
            bot_id=bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[bot_user.id] = Member(bot_user, gid, roles=[bot_role.id])
        self.guilds.append(guild)
        self.guild_by_id[gid] = guild
        if channel_name:
            first = self._make_channel(guild, channel_name, TEXT, [])
            if system_channel:
                guild.system_channel_id = first.id
        for session in self.shards.for_guild(gid):
            if session.wants(gw.INTENT_GUILDS):
                session.dispatch("GUILD_CREATE", guild.to_create_payload(joining=True))
        self.ctx.notify()
        return guild

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from the guild (GUILD_DELETE)."""
        self.guilds.remove(guild)
        del self.guild_by_id[guild.id]
        for ch in guild.channels.values():
            ch.deleted = True
        self._guild_event(guild, "GUILD_DELETE", {"id": str(guild.id)}, gw.INTENT_GUILDS)

    def guild_of(self, channel: Channel) -> Guild:
        assert channel.guild_id is not None, "not a guild channel"
        guild = self.find_guild(channel.guild_id)
        assert guild is not None, f"no guild {channel.guild_id}"
        return guild

    def _guild(self, guild_id: int) -> Guild:
        guild = self.find_guild(guild_id)
        if guild is None:
            raise KeyError(guild_id)
        return guild

    def _guild_event(self, guild: Guild, event: str, data: Any, intent: int) -> None:
        if guild.installed:  # the bot hears nothing of a server it is not in
            for session in self.shards.for_guild(guild.id):
                if session.wants(intent):
                    session.dispatch(event, data)
        self.ctx.notify()

    # ======================================================================
    # user installs
    # ======================================================================
    def install_for_user(self, user: User | Member) -> None:
        """``user`` installs the app to their account (Discord's USER_INSTALL): its
        user-install commands follow them to DMs, group DMs and servers without the bot.
        Discord tells the bot nothing over the gateway."""
        self.user_installs.add(user.id)
        self.ctx.notify()

    def uninstall_for_user(self, user: User | Member) -> None:
        self.user_installs.discard(user.id)
        self.ctx.notify()

    def user_installed(self, user: User | Member) -> bool:
        return user.id in self.user_installs

    # ======================================================================
    # channels and permission overwrites
    # ======================================================================
    def _make_channel(
        self, guild: Guild, name: str, type: int, overwrites: Iterable[Overwrite], **kw: Any
    ) -> Channel:
        ch = Channel(snowflake(), guild.id, name, type=type, position=len(guild.channels), **kw)
        for ow in overwrites:
            ch.overwrites[ow.id] = ow
        guild.channels[ch.id] = ch
        self.channels[ch.id] = ch
        return ch

    # ``self, /``: the facade forwards these (``**kw`` could otherwise be given a ``self``)
    def add_channel(
        self,
        /,
        guild: Guild,
        name: str,
        type: int = TEXT,
        overwrites: Iterable[Overwrite] = (),
        **kw: Any,
    ) -> Channel:
        ch = self._make_channel(guild, name, type, overwrites, **kw)
        self._guild_event(guild, "CHANNEL_CREATE", ch.to_payload(), gw.INTENT_GUILDS)
        return ch

    def update_channel(self, /, channel: Channel, **changes: Any) -> Channel:
        for k, v in changes.items():
            setattr(channel, k, v)
        self._guild_event(
            self.guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )
        return channel

    def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        guild = self.guild_of(channel)
        self._guild_event(guild, "CHANNEL_DELETE", channel.to_payload(), gw.INTENT_GUILDS)

    def set_overwrite(
        self, channel: Channel, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        kind = P.ROLE_OVERWRITE if isinstance(target, Role) else P.MEMBER_OVERWRITE
        ow = Overwrite(target.id, kind, allow, deny)
        channel.overwrites[target.id] = ow
        self._guild_event(
            self.guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )
        return ow

    def remove_overwrite(self, channel: Channel, target: Role | Member | User) -> None:
        channel.overwrites.pop(target.id, None)
        self._guild_event(
            self.guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )

    def dm_channel(self, user: User | Member) -> Channel | None:
        """The DM channel the bot opened with ``user`` (if any)."""
        return self.dm_channels.get(user.id)

    def bot_dm(self, user: User | Member) -> Channel:
        """The DM channel between ``user`` and the app's bot user (made on first use; the same
        one ``POST /users/@me/channels`` gives the bot)."""
        u = user.user if isinstance(user, Member) else user
        ch = self.dm_channels.get(u.id)
        if ch is None:
            ch = Channel(snowflake(), None, "", type=DM, recipients=[u], with_bot=True)
            self.dm_channels[u.id] = ch
            self.channels[ch.id] = ch
        return ch

    def group_dm(self, *users: User | Member, name: str = "") -> Channel:
        """A group DM of ``users`` (the first owns it); the bot is not in it."""
        people = [u.user if isinstance(u, Member) else u for u in users]
        assert len(people) >= 2, "a group DM has at least two people"
        ch = Channel(
            snowflake(), None, name, type=GROUP_DM, recipients=people, owner_id=people[0].id
        )
        self.channels[ch.id] = ch
        return ch

    def user_dm(self, user: User | Member, other: User | Member) -> Channel:
        """A DM between two users (not with the bot): a PRIVATE_CHANNEL context."""
        a, b = (u.user if isinstance(u, Member) else u for u in (user, other))
        ch = Channel(snowflake(), None, "", type=DM, recipients=[a, b])
        self.channels[ch.id] = ch
        return ch

    # ======================================================================
    # roles and members
    # ======================================================================
    def add_role(self, /, guild: Guild, name: str, permissions: int = 0, **kw: Any) -> Role:
        role = Role(snowflake(), guild.id, name, permissions, position=len(guild.roles), **kw)
        guild.roles[role.id] = role
        self._guild_event(
            guild,
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.to_payload()},
            gw.INTENT_GUILDS,
        )
        return role

    def update_role(self, /, role: Role, **changes: Any) -> Role:
        for k, v in changes.items():
            setattr(role, k, v)
        guild = self._guild(role.guild_id)
        self._guild_event(
            guild,
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(guild.id), "role": role.to_payload()},
            gw.INTENT_GUILDS,
        )
        return role

    def delete_role(self, role: Role) -> None:
        guild = self._guild(role.guild_id)
        del guild.roles[role.id]
        for m in guild.members.values():
            if role.id in m.roles:
                m.roles.remove(role.id)
        for ch in guild.channels.values():
            ch.overwrites.pop(role.id, None)
        self._guild_event(
            guild,
            "GUILD_ROLE_DELETE",
            {"guild_id": str(guild.id), "role_id": str(role.id)},
            gw.INTENT_GUILDS,
        )

    def add_member(
        self,
        guild: Guild,
        name: str = "member",
        roles: Iterable[Role] = (),
        *,
        user: User | None = None,
        nick: str | None = None,
    ) -> Member:
        user = user or self.add_user(name)
        self.users.setdefault(user.id, user)
        member = Member(user, guild.id, roles=[r.id for r in roles], nick=nick)
        guild.members[user.id] = member
        self._guild_event(
            guild,
            "GUILD_MEMBER_ADD",
            {**member.to_payload(), "guild_id": str(guild.id)},
            gw.INTENT_GUILD_MEMBERS,
        )
        return member

    def update_member(
        self, member: Member, *, roles: Iterable[Role] | None = None, nick: str | None = None
    ) -> Member:
        if roles is not None:
            member.roles = [r.id for r in roles]
        if nick is not None:
            member.nick = nick
        guild = self._guild(member.guild_id)
        is_bot = member.id == self.ctx.bot_user.id
        intent = gw.INTENT_GUILDS if is_bot else gw.INTENT_GUILD_MEMBERS
        self._guild_event(
            guild, "GUILD_MEMBER_UPDATE", {**member.to_payload(), "guild_id": str(guild.id)}, intent
        )
        return member

    def add_member_role(self, member: Member, role: Role) -> Member:
        guild = self._guild(member.guild_id)
        return self.update_member(member, roles=[*(guild.roles[r] for r in member.roles), role])

    def remove_member_role(self, member: Member, role: Role) -> Member:
        guild = self._guild(member.guild_id)
        return self.update_member(
            member, roles=[guild.roles[r] for r in member.roles if r != role.id]
        )

    def remove_member(self, member: Member) -> None:
        guild = self._guild(member.guild_id)
        guild.members.pop(member.id, None)
        self._guild_event(
            guild,
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": member.user.to_payload()},
            gw.INTENT_GUILD_MEMBERS,
        )

    def bot_member(self, guild: Guild) -> Member:
        return guild.me

    def bot_role(self, guild: Guild) -> Role:
        return next(r for r in guild.roles.values() if r.bot_id == self.ctx.bot_user.id)

    def permissions_for(self, member: Member, channel: Channel) -> int:
        return self.guild_of(channel).permissions_in(member, channel)

    def app_permissions(self, channel: Channel) -> int:
        """The app's permissions in ``channel``, as an interaction's ``app_permissions`` says:
        the bot's own in a server that installed it; in one that did not, those of @everyone
        there (the app acts with no role of its own: the emulator's reading, see README); in a
        DM with the bot or another private channel, the bits Discord documents for them."""
        if channel.is_private:
            return P.BOT_DM_APP if channel.with_bot else P.PRIVATE_CHANNEL_APP
        guild = self.guild_of(channel)
        if not guild.installed:
            everyone = guild.everyone.permissions
            if everyone & P.ADMINISTRATOR:
                return P.ALL
            return P.apply_overwrites(
                everyone,
                guild_id=guild.id,
                user_id=0,
                member_role_ids=(),
                overwrites=channel.overwrites,
            )
        return guild.permissions_in(guild.me, channel)

    # ======================================================================
    # messages
    # ======================================================================
    def channel_messages(
        self, channel: Channel | int, *, include_ephemeral: bool = False
    ) -> list[Message]:
        cid = channel if isinstance(channel, int) else channel.id
        msgs = [self.messages[m] for m in self.channel_message_ids.get(cid, [])]
        out = [m for m in msgs if not m.deleted]
        if include_ephemeral:
            out += [
                m
                for m in self.messages.values()
                if m.channel_id == cid and m.is_ephemeral and not m.deleted
            ]
            out.sort(key=lambda m: m.id)
        return out

    def post_user_message(self, channel: Channel, member: Member, content: str) -> Message:
        """A user posts a message (MESSAGE_CREATE to the bot)."""
        msg = Message(snowflake(), channel.id, channel.guild_id, member.user, content=content)
        self.messages[msg.id] = msg
        self.channel_message_ids.setdefault(channel.id, []).append(msg.id)
        channel.last_message_id = msg.id
        guild = self.guild_by_id.get(channel.guild_id or 0)
        if guild is not None:
            for session in self.shards.for_guild(guild.id):
                if not session.wants(gw.INTENT_GUILD_MESSAGES):
                    continue
                data = msg.to_payload()
                if not session.wants(gw.INTENT_MESSAGE_CONTENT):
                    data["content"] = ""
                data["member"] = member.to_payload(with_user=False)
                session.dispatch("MESSAGE_CREATE", data)
        self.ctx.notify()
        return msg

    def new_message(
        self, ch: Channel, payload: dict[str, Any], files: list[Upload], **kw: Any
    ) -> Message:
        """A message by the bot (``kw``: the interaction fields of a response or followup)."""
        msg = Message(
            snowflake(),
            ch.id,
            ch.guild_id,
            self.ctx.bot_user,
            content=str(payload.get("content") or ""),
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            flags=int(payload.get("flags") or 0),
            tts=bool(payload.get("tts")),
            nonce=payload.get("nonce"),
            allowed_mentions=payload.get("allowed_mentions"),
            message_reference=payload.get("message_reference"),
            **kw,
        )
        self._apply_attachments(msg, payload, files, edit=False)
        self.messages[msg.id] = msg
        if not msg.is_ephemeral:
            self.channel_message_ids.setdefault(ch.id, []).append(msg.id)
            ch.last_message_id = msg.id
            self._message_event("MESSAGE_CREATE", msg)
        self.ctx.notify()
        return msg

    def edit_message(self, msg: Message, payload: dict[str, Any], files: list[Upload]) -> Message:
        msg.history.append(msg.to_payload())
        if "content" in payload:
            msg.content = str(payload["content"] or "")
        if "embeds" in payload:
            msg.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            msg.components = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            msg.allowed_mentions = payload["allowed_mentions"]
        if payload.get("flags") is not None:
            keep = msg.flags & ~FLAG_SUPPRESS_EMBEDS
            msg.flags = keep | (int(payload["flags"]) & FLAG_SUPPRESS_EMBEDS)
        self._apply_attachments(msg, payload, files, edit=True)
        msg.flags &= ~FLAG_LOADING
        msg.edited_at = time.time()
        msg.version += 1
        if not msg.is_ephemeral:
            self._message_event("MESSAGE_UPDATE", msg)
        self.ctx.notify()
        return msg

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        if not msg.is_ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self._message_event("MESSAGE_DELETE", msg, data)
        self.ctx.notify()

    def _message_event(self, event: str, msg: Message, data: dict[str, Any] | None = None) -> None:
        if msg.guild_id is not None:
            if msg.guild_id not in self.guild_by_id:
                return  # a server without the bot: it gets no events from there
            intent = gw.INTENT_GUILD_MESSAGES
        else:
            channel = self.channels.get(msg.channel_id)
            if channel is None or not channel.with_bot:
                return  # a group DM or a DM between users: the bot is not in it
            intent = gw.INTENT_DIRECT_MESSAGES
        for session in self.shards.for_guild(msg.guild_id):
            if session.wants(intent):
                session.dispatch(event, data if data is not None else msg.to_payload())

    def _apply_attachments(
        self, msg: Message, payload: dict[str, Any], files: list[Upload], *, edit: bool
    ) -> None:
        if not files and "attachments" not in payload:
            return
        keep: list[dict[str, Any]] = []
        if edit:
            wanted = {str(a.get("id")) for a in payload.get("attachments") or []}
            keep = [a for a in msg.attachments if a["id"] in wanted]
        base_url = self.ctx.base_url
        for i, (name, fname, data) in enumerate(files):
            meta: dict[str, Any] = next(
                (a for a in payload.get("attachments") or [] if f"files[{a.get('id')}]" == name), {}
            )
            aid = str(snowflake())
            keep.append(
                {
                    "id": aid,
                    "filename": meta.get("filename") or fname or f"file{i}",
                    "description": meta.get("description"),
                    "size": len(data),
                    "url": f"{base_url}/attachments/{msg.channel_id}/{aid}/{fname}",
                    "proxy_url": f"{base_url}/attachments/{msg.channel_id}/{aid}/{fname}",
                    "content_type": "application/octet-stream",
                }
            )
        msg.attachments = keep

    # ======================================================================
    # application commands (stored by the REST handlers in routes/commands.py)
    # ======================================================================
    def find_command(self, name: str, guild: Guild | None, ctype: int = 1) -> dict[str, Any] | None:
        """The command ``name`` a user in ``guild`` sees: the guild's own before a global one."""
        stores: list[dict[int, dict[str, Any]]] = []
        if guild is not None:
            stores.append(self.guild_commands.get(guild.id, {}))
        stores.append(self.global_commands)
        for store in stores:
            for cmd in store.values():
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd
        return None

    def all_commands(self, guild: Guild | None) -> list[dict[str, Any]]:
        out = list(self.global_commands.values())
        if guild is not None:
            out += list(self.guild_commands.get(guild.id, {}).values())
        return out

    @property
    def commands(self) -> dict[str, dict[str, Any]]:
        """Registered global commands by name."""
        return {c["name"]: c for c in self.global_commands.values()}
