"""Reaching Discord (SPEC §2): what counts as "unreachable", the backoff between tries, one
line for each way Discord refuses the bot for good, and the online token check.

Unreachable at start-up is not a configuration error: the bot says what failed in one log
line and tries again. A refusal (bad token, shards, intents) is: one line, exit code 2.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot import __version__
from bot.config import Settings

# What "Discord cannot be reached" looks like from discord.py and aiohttp: no connection
# (refused, DNS, TLS, reset), no answer in time, a 5xx after discord.py's own retries, a
# gateway that answers plain HTTP instead of opening a websocket.
UNREACHABLE: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.WSServerHandshakeError,
    TimeoutError,
    discord.DiscordServerError,
    discord.GatewayNotFound,
)

TOKEN_REFUSED = "DISCORD_TOKEN was refused by Discord: check the token in .env (see .env.example)"
INTENTS_ASKED = "the bot asks for the Guilds intent only, which is not privileged"
# Close codes after which discord.py does not reconnect, each with what the operator changes.
FATAL_CLOSES: dict[int, str] = {
    4004: TOKEN_REFUSED,
    4010: (
        "Discord refused the bot's shard configuration (gateway close code 4010, invalid "
        "shard): the bot lets discord.py choose the shards from Discord's recommendation "
        "(GET /gateway/bot); if DISCORD_API_BASE or DISCORD_GATEWAY_URL point at a proxy, "
        "check that it passes Discord's answers through unchanged (see .env.example)"
    ),
    4011: (
        "Discord requires more shards than the bot connected with (gateway close code 4011, "
        "sharding required): the bot lets discord.py choose the shards from Discord's "
        "recommendation (GET /gateway/bot), so start it again to ask anew; if "
        "DISCORD_API_BASE points at a proxy, check that it passes Discord's answer through "
        "unchanged (see .env.example)"
    ),
    4013: (
        "Discord refused the bot's gateway intents as invalid (gateway close code 4013): "
        f"{INTENTS_ASKED}; nothing needs turning on in the Developer Portal, so check that "
        "DISCORD_GATEWAY_URL points at Discord's gateway or a proxy that passes it through "
        "unchanged (see .env.example)"
    ),
    4014: (
        "Discord refused the bot's gateway intents as not allowed (gateway close code 4014): "
        f"{INTENTS_ASKED}; in the Developer Portal, Bot → Privileged Gateway Intents, check "
        "the application's settings and any pending intent review (see README: Set up)"
    ),
}


def describe_unreachable(error: BaseException) -> str:
    """Why Discord could not be reached, in a few words (never the token, never a traceback)."""
    if isinstance(error, aiohttp.ClientConnectorError):
        os_error = error.os_error
        if isinstance(os_error, socket.gaierror):
            return f"cannot resolve the host name {error.host} ({os_error.strerror})"
        reason = os.strerror(os_error.errno) if os_error.errno else str(os_error)
        return f"cannot connect to {error.host}:{error.port} ({reason})"
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"the gateway answered HTTP {error.status} instead of opening a websocket"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, discord.DiscordServerError):
        return f"Discord answered HTTP {error.status} (a server error on its side)"
    if isinstance(error, discord.GatewayNotFound):
        return "Discord did not say where its gateway is (GET /gateway/bot failed)"
    return str(error) or type(error).__name__


def refusal_line(error: BaseException) -> str | None:
    """The one line for a refusal that no retry fixes, or None if `error` is not one."""
    if isinstance(error, discord.LoginFailure):
        return TOKEN_REFUSED
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return FATAL_CLOSES[4014]
    if isinstance(error, discord.ConnectionClosed):
        return FATAL_CLOSES.get(
            error.code,
            f"Discord closed the gateway connection with code {error.code}, after which the "
            "bot cannot reconnect",
        )
    return None


@dataclass(frozen=True)
class BotIdentity:
    id: int
    name: str


class TokenRefused(Exception):
    """Discord answered 401 to the token."""


class DiscordUnreachable(Exception):
    """No usable answer from Discord; the message (one line) says what failed and what to do."""


async def fetch_identity(settings: Settings, *, seconds: float = 15.0) -> BotIdentity:
    """One REST call, GET /users/@me through DISCORD_API_BASE: whose token this is."""
    url = f"{settings.api_base}/users/@me"
    headers = {
        "Authorization": f"Bot {settings.token}",
        "User-Agent": f"DiscordBot (lwa-bot, {__version__})",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status == 401:
                raise TokenRefused
            if response.status != 200:
                advice = "try again later" if response.status >= 500 else "check DISCORD_API_BASE"
                raise DiscordUnreachable(
                    f"{settings.api_base} answered HTTP {response.status} to GET /users/@me: "
                    f"the token was not checked; {advice}"
                )
            data: dict[str, Any] = await response.json(content_type=None)
    except UNREACHABLE as error:
        raise DiscordUnreachable(
            f"cannot reach Discord at {settings.api_base}: {describe_unreachable(error)}: "
            "the token was not checked; try again later"
        ) from None
    except (aiohttp.ClientError, ValueError) as error:
        raise DiscordUnreachable(
            f"no usable answer from {settings.api_base} to GET /users/@me "
            f"({describe_unreachable(error)}): the token was not checked; check DISCORD_API_BASE"
        ) from None
    name = str(data.get("global_name") or data.get("username") or "?")
    return BotIdentity(id=int(data.get("id", 0)), name=name)
