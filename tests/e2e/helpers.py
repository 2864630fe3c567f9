"""Small helpers shared by the end-to-end tests: the shipped dataset, reading replies, and
a moderator's commands."""

from __future__ import annotations

import functools
import re
from typing import Any, Protocol

from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset
from tests.fakediscord import permissions as P
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.models import Channel, Guild, Member, Message

NO_PINGS: dict[str, list[str]] = {"parse": []}


@functools.cache
def dataset() -> Dataset:
    return load_dataset(DEFAULT_DATA_DIR)


class HasComponents(Protocol):
    @property
    def components(self) -> list[dict[str, Any]]: ...


def shown_id(message: HasComponents) -> str:
    """The id of the quote or fact a message (or a reply) shows, from its "Details" button
    (cards show no ids: the custom_id carries it, "lwa:details:quote:q-…")."""
    rows = message.components
    for button in (b for row in rows for b in row.get("components", [row])):
        custom_id = button.get("custom_id", "")
        match = re.fullmatch(r"lwa:details:(?:quote|fact):([a-z0-9-]+)(?::\d+)?", custom_id)
        if match:
            return match[1]
    raise AssertionError(f"no Details button of a quote or fact under {message.components}")


def field(embed: dict[str, Any], name: str) -> str:
    for f in embed.get("fields", []):
        if f["name"] == name:
            return str(f["value"])
    raise AssertionError(f"no field {name!r} in {embed}")


def all_text(embed: dict[str, Any]) -> str:
    parts = [
        embed.get("title", ""),
        embed.get("description", ""),
        embed.get("footer", {}).get("text", ""),
    ]
    parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def run(
    emulator: Emulator,
    guild: Guild,
    where: Channel,
    member: Member,
    command: str,
    /,
    **options: Any,
) -> dict[str, Any]:
    """A moderator's command: the reply is ephemeral, in time, pings nobody; its embed."""
    interaction = await emulator.slash(guild, where, member, command, options)
    reply = await interaction.response()
    assert reply.is_ephemeral, reply.embeds
    assert interaction.latency is not None and interaction.latency < 3
    assert reply.data.get("allowed_mentions", NO_PINGS) == NO_PINGS
    return dict(reply.embeds[0])


def moderator(emulator: Emulator, guild: Guild, name: str = "mod") -> Member:
    role = emulator.add_role(guild, f"{name}-role", P.MANAGE_GUILD)
    return emulator.add_member(guild, name, roles=[role])


def posts(emulator: Emulator, channel: Channel) -> list[Message]:
    """What the bot posted in the channel by itself (not replies to commands)."""
    return [m for m in emulator.channel_messages(channel) if m.interaction_id is None]


def schedule_id(embed: dict[str, Any]) -> int:
    match = re.search(r"#(\d+)", embed["title"])
    assert match, embed
    return int(match[1])
