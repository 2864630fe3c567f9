"""What the bot needs in a channel to post there: one list, used wherever it posts."""

from __future__ import annotations

import discord

POST_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


def missing_post_permissions(permissions: discord.Permissions) -> list[str]:
    """The permissions the bot lacks to post an embed in a channel, by their Discord names."""
    return [label for attribute, label in POST_PERMISSIONS if not getattr(permissions, attribute)]
