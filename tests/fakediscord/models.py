"""World model of the emulator: users, guilds, roles, channels, members, messages."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import permissions as P
from .permissions import Overwrite

DISCORD_EPOCH_MS = 1420070400000

_lock = threading.Lock()
_last = 0
_counter = itertools.count()


def snowflake() -> int:
    """A unique, increasing snowflake built from the current time."""
    global _last
    with _lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (ms << 22) | ((next(_counter) & 0xFFF) << 0)
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
        return candidate


def snowflake_on_shard(shard_id: int, shard_count: int) -> int:
    """A unique, increasing snowflake whose guild lands on ``shard_id`` of ``shard_count`` by
    Discord's formula ``(id >> 22) % shard_count`` (its timestamp moved up to the next
    millisecond that does, at most ``shard_count - 1`` ms ahead)."""
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        raise ValueError(f"shard {shard_id} is not one of 0..{shard_count - 1}")
    global _last
    with _lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = max((ms << 22) | (next(_counter) & 0xFFF), _last + 1)
        stamp = candidate >> 22
        ahead = (shard_id - stamp) % shard_count
        if ahead:
            candidate = (stamp + ahead) << 22
        _last = candidate
        return candidate


def iso(ts: float | None = None) -> str:
    t = dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC)
    return t.isoformat(timespec="microseconds")


TEXT = 0
DM = 1
VOICE = 2
GROUP_DM = 3
CATEGORY = 4
NEWS = 5


@dataclass(eq=False)
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name if self.global_name is not None else self.username,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        tags: dict[str, Any] = {}
        if self.bot_id is not None:
            tags["bot_id"] = str(self.bot_id)
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if tags:
            data["tags"] = tags
        return data


@dataclass(eq=False)
class Channel:
    id: int
    guild_id: int | None
    name: str
    type: int = TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    deleted: bool = False
    last_message_id: int | None = None
    recipients: list[User] = field(default_factory=list)
    # a group DM's owner; and whether a DM (type 1) is the one with the app's bot user
    owner_id: int | None = None
    with_bot: bool = False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_private(self) -> bool:
        """A DM or a group DM (no guild)."""
        return self.type in (DM, GROUP_DM)

    def to_payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.to_payload() for u in self.recipients],
                "flags": 0,
            }
        if self.type == GROUP_DM:
            return {
                "id": str(self.id),
                "type": GROUP_DM,
                "name": self.name or None,
                "icon": None,
                "owner_id": str(self.owner_id) if self.owner_id else None,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.to_payload() for u in self.recipients],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites.values()],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type in (TEXT, NEWS):
            data.update(
                topic=self.topic,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                rate_limit_per_user=0,
                default_auto_archive_duration=1440,
                default_thread_rate_limit_per_user=0,
            )
        elif self.type == VOICE:
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                video_quality_mode=1,
                last_message_id=None,
                rate_limit_per_user=0,
            )
        return data


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    def to_payload(
        self, *, with_user: bool = True, permissions: int | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    preferred_locale: str = "en-US"
    joined_at: str = field(default_factory=iso)
    bot_user_id: int = 0
    # False: a server that did not install the app (its members may have, to their account)
    installed: bool = True
    system_channel_id: int | None = None

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type in (TEXT, NEWS) and not c.deleted]

    @property
    def me(self) -> Member:
        return self.members[self.bot_user_id]

    def channel(self, name: str) -> Channel:
        for c in self.channels.values():
            if c.name == name and not c.deleted:
                return c
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def role(self, name: str) -> Role:
        for r in self.roles.values():
            if r.name == name:
                return r
        raise KeyError(f"no role named {name!r} in guild {self.name!r}")

    # -- permissions ---------------------------------------------------------
    def base_permissions(self, member: Member) -> int:
        return P.base_permissions(
            guild_id=self.id,
            owner_id=self.owner_id,
            user_id=member.id,
            member_role_ids=member.roles,
            role_permissions={r.id: r.permissions for r in self.roles.values()},
        )

    def permissions_in(self, member: Member, channel: Channel) -> int:
        return P.apply_overwrites(
            self.base_permissions(member),
            guild_id=self.id,
            user_id=member.id,
            member_role_ids=member.roles,
            overwrites=channel.overwrites,
        )

    # -- payloads ------------------------------------------------------------
    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
        }

    def to_create_payload(
        self, *, include_members: bool = True, joining: bool = False
    ) -> dict[str, Any]:
        """GUILD_CREATE's payload. ``joining``: the bot was just added to the server; Discord
        leaves ``unavailable`` out then (it is false when a guild of READY is backfilled), and
        that is how clients tell a join from a server becoming available."""
        data = self.to_payload()
        members = list(self.members.values())
        data.update(
            joined_at=self.joined_at,
            large=len(members) > 250,
            member_count=len(members),
            voice_states=[],
            members=[m.to_payload() for m in members[:250]]
            if include_members
            else [self.me.to_payload()],
            channels=[c.to_payload() for c in self.channels.values() if not c.deleted],
            threads=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            lazy=True,
        )
        if not joining:
            data["unavailable"] = False
        return data


FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15


def iter_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten a component tree (action rows, sections, containers, labels)."""
    out: list[dict[str, Any]] = []
    stack = list(reversed(components))
    while stack:
        c = stack.pop()
        out.append(c)
        children: list[dict[str, Any]] = []
        if isinstance(c.get("components"), list):
            children.extend(c["components"])
        if isinstance(c.get("accessory"), dict):
            children.append(c["accessory"])
        if isinstance(c.get("component"), dict):
            children.append(c["component"])
        stack.extend(reversed(children))
    return out


@dataclass(eq=False)
class Message:
    """Current state of a message the bot created (channel message, interaction reply, followup)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    nonce: str | int | None = None
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    deleted: bool = False
    version: int = 0
    interaction_id: int | None = None
    interaction_user: User | None = None
    interaction_name: str | None = None
    interaction_type: int | None = None
    # the interaction's authorizing_integration_owners ({"0": guild id or "0", "1": user id})
    interaction_owners: dict[str, str] | None = None
    webhook_id: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, set[int]] = field(default_factory=dict)

    # -- convenience for assertions --------------------------------------------
    @property
    def is_ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def is_loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    @property
    def embed(self) -> dict[str, Any]:
        assert self.embeds, f"message {self.id} has no embeds (content={self.content!r})"
        return self.embeds[0]

    @property
    def all_components(self) -> list[dict[str, Any]]:
        return iter_components(self.components)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components if c.get("type") == 2]

    def button(self, label_or_custom_id: str) -> dict[str, Any]:
        for b in self.buttons:
            if b.get("custom_id") == label_or_custom_id or b.get("label") == label_or_custom_id:
                return b
        labels = [(b.get("label"), b.get("custom_id")) for b in self.buttons]
        raise AssertionError(
            f"message {self.id} has no button {label_or_custom_id!r}; buttons: {labels}"
        )

    @property
    def text(self) -> str:
        """Content plus all embed text, handy for `in` assertions."""
        parts = [self.content]
        for e in self.embeds:
            parts.append(str(e.get("title", "")))
            parts.append(str(e.get("description", "")))
            for f in e.get("fields", []) or []:
                parts.append(f"{f.get('name', '')}\n{f.get('value', '')}")
            parts.append(str((e.get("footer") or {}).get("text", "")))
            parts.append(str((e.get("author") or {}).get("name", "")))
        for c in self.all_components:
            if c.get("type") == 10:
                parts.append(str(c.get("content", "")))
        return "\n".join(p for p in parts if p)

    def to_payload(self, *, with_nonce: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": 20 if self.interaction_type == 2 else (19 if self.message_reference else 0),
            "channel_id": str(self.channel_id),
            "author": self.author.to_payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": copy.deepcopy(self.attachments),
            "embeds": copy.deepcopy(self.embeds),
            "reactions": [
                {
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.author.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": {"id": None, "name": emoji},
                }
                for emoji, users in self.reactions.items()
                if users
            ],
            "pinned": False,
            "flags": self.flags,
            "components": copy.deepcopy(self.components),
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None and with_nonce:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.message_reference:
            data["message_reference"] = dict(self.message_reference)
        if self.interaction_id is not None and self.interaction_user is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": self.interaction_type or 2,
                "user": self.interaction_user.to_payload(),
                "authorizing_integration_owners": dict(
                    self.interaction_owners or {"0": str(self.guild_id or 0)}
                ),
            }
            data["interaction"] = {
                "id": str(self.interaction_id),
                "type": self.interaction_type or 2,
                "name": self.interaction_name or "",
                "user": self.interaction_user.to_payload(),
            }
        return data
