"""Discord permission bits and the permission resolution algorithm.

Mirrors the documented algorithm: base permissions from @everyone plus the
member's roles (owner and ADMINISTRATOR get everything), then channel
overwrites in the order @everyone, roles (denies and allows aggregated), member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
PRIORITY_SPEAKER = 1 << 8
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
VIEW_GUILD_INSIGHTS = 1 << 19
CONNECT = 1 << 20
SPEAK = 1 << 21
MUTE_MEMBERS = 1 << 22
DEAFEN_MEMBERS = 1 << 23
MOVE_MEMBERS = 1 << 24
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
MANAGE_GUILD_EXPRESSIONS = 1 << 30
USE_APPLICATION_COMMANDS = 1 << 31
REQUEST_TO_SPEAK = 1 << 32
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
USE_EXTERNAL_STICKERS = 1 << 37
SEND_MESSAGES_IN_THREADS = 1 << 38
USE_EMBEDDED_ACTIVITIES = 1 << 39
MODERATE_MEMBERS = 1 << 40
VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
USE_SOUNDBOARD = 1 << 42
CREATE_GUILD_EXPRESSIONS = 1 << 43
CREATE_EVENTS = 1 << 44
USE_EXTERNAL_SOUNDS = 1 << 45
SEND_VOICE_MESSAGES = 1 << 46
SEND_POLLS = 1 << 49
USE_EXTERNAL_APPS = 1 << 50
PIN_MESSAGES = 1 << 51
BYPASS_SLOWMODE = 1 << 52

ALL = (
    (1 << 47) - 1  # bits 0..46
    | SEND_POLLS
    | USE_EXTERNAL_APPS
    | PIN_MESSAGES
    | BYPASS_SLOWMODE
)

#: What a fresh guild's @everyone role gets (close to Discord's default).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_TTS_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | REQUEST_TO_SPEAK
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | USE_EXTERNAL_STICKERS
    | SEND_MESSAGES_IN_THREADS
    | USE_EMBEDDED_ACTIVITIES
    | USE_SOUNDBOARD
    | USE_EXTERNAL_SOUNDS
    | SEND_VOICE_MESSAGES
    | SEND_POLLS
    | USE_EXTERNAL_APPS
)

#: What the bot's managed role gets (a typical invite URL permission set).
DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
)

#: ``app_permissions`` of an interaction in a DM or group DM with other users (Discord's
#: interaction object docs: "ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE for (G)DMs with other
#: users, and additionally USE_EXTERNAL_EMOJIS for DMs with the app's bot user").
PRIVATE_CHANNEL_APP = ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE
BOT_DM_APP = PRIVATE_CHANNEL_APP | USE_EXTERNAL_EMOJIS

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


def base_permissions(
    *,
    guild_id: int,
    owner_id: int,
    user_id: int,
    member_role_ids: Iterable[int],
    role_permissions: Mapping[int, int],
) -> int:
    """Guild-level permissions of a member (no channel overwrites)."""
    if user_id == owner_id:
        return ALL
    perms = role_permissions.get(guild_id, 0)
    for rid in member_role_ids:
        perms |= role_permissions.get(rid, 0)
    if perms & ADMINISTRATOR:
        return ALL
    return perms


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    user_id: int,
    member_role_ids: Iterable[int],
    overwrites: Mapping[int, Overwrite],
) -> int:
    """Channel permissions given base permissions and the channel's overwrites."""
    if base & ADMINISTRATOR:
        return ALL
    perms = base
    everyone = overwrites.get(guild_id)
    if everyone is not None and everyone.type == ROLE_OVERWRITE:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for rid in member_role_ids:
        ow = overwrites.get(rid)
        if ow is not None and ow.type == ROLE_OVERWRITE:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    member_ow = overwrites.get(user_id)
    if member_ow is not None and member_ow.type == MEMBER_OVERWRITE:
        perms = (perms & ~member_ow.deny) | member_ow.allow
    # Implicit permissions: no view -> nothing; no send -> no send-dependent perms.
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & SEND_MESSAGES:
        perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    return perms


def has(perms: int, bit: int) -> bool:
    return perms & bit == bit
