"""The bot: one AutoShardedBot subclass that owns the shared resources (SPEC §2, §8).

`setup_hook` loads the cogs (which register their persistent buttons) and syncs the command
tree only when it changed since the last sync, to stay clear of Discord's rate limits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.ext import commands

from bot.config import DEFAULT_GATEWAY_URL, Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.models import Dataset
from bot.scheduler import Dispatcher, create_dispatcher
from bot.store.base import Store

if TYPE_CHECKING:
    from discord.types.gateway import SessionStartLimit

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.errors",
    "bot.cogs.quotes",
    "bot.cogs.facts",
    "bot.cogs.onthisday",
    "bot.cogs.about",
    "bot.cogs.trivia",
    "bot.cogs.schedules",
    "bot.cogs.settings",
)
SYNC_HASH_KEY = "command_sync_hash"


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at `DISCORD_API_BASE` / `DISCORD_GATEWAY_URL` before it connects.

    REST routes, interaction callbacks and webhooks all build on `Route.BASE`; the gateway on
    `DiscordWebSocket.DEFAULT_GATEWAY` (the auto-sharded client's `/gateway/bot` answer is
    overridden in `LoveWinsAllBot` when an operator chose a gateway).
    """
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def client_options() -> dict[str, Any]:
    """What the bot asks of Discord and keeps in memory (SPEC §8); the benchmarks' bare
    baseline bot uses the same, so the two are compared like for like."""
    intents = discord.Intents.none()
    intents.guilds = True  # channels, roles and permissions; nothing privileged
    return {
        "command_prefix": commands.when_mentioned,  # unused: the bot has slash commands only
        "intents": intents,
        "member_cache_flags": discord.MemberCacheFlags.none(),
        "chunk_guilds_at_startup": False,
        "max_messages": None,
        "allowed_mentions": discord.AllowedMentions.none(),
        "help_command": None,
    }


def use_gateway(client: discord.AutoShardedClient, gateway_url: str) -> None:
    """Connect to `gateway_url` whatever `GET /gateway/bot` answers.

    The auto-sharded client connects to the URL that answer gives; an operator's
    DISCORD_GATEWAY_URL (a proxy, an emulator) must win over it.
    """
    ask_discord = client.http.get_bot_gateway

    async def get_bot_gateway() -> tuple[int, str, SessionStartLimit]:
        shards, _url, limits = await ask_discord()
        return shards, gateway_url, limits

    client.http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]


class LoveWinsAllBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        dataset: Dataset,
        store: Store,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(**client_options())
        self.settings = settings
        self.dataset = dataset
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.dispatcher: Dispatcher | None = None  # scheduled posts (SPEC §6)

    async def setup_hook(self) -> None:
        if self.settings.gateway_url != DEFAULT_GATEWAY_URL:
            use_gateway(self, self.settings.gateway_url)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands_if_changed()
        self.dispatcher = create_dispatcher(self)
        self.dispatcher.start(before=self.wait_until_ready)

    async def close(self) -> None:
        if self.dispatcher is not None:  # stop posting before the connection closes
            await self.dispatcher.stop()
        # Cogs stop their own tasks (a trivia game persists where it is and is closed cleanly
        # at the next start) while the store is still open.
        for extension in reversed(list(self.extensions)):
            await self.unload_extension(extension)
        await super().close()

    def command_tree_hash(self) -> str:
        guild = self._sync_guild()
        commands_json = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        blob = json.dumps(
            {
                "application": self.application_id,
                "guild": guild and guild.id,
                "commands": commands_json,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _sync_guild(self) -> discord.Object | None:
        dev = self.settings.dev_guild_id
        return discord.Object(id=dev) if dev else None

    async def sync_commands_if_changed(self) -> bool:
        digest = self.command_tree_hash()
        if await self.store.get_meta(SYNC_HASH_KEY) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        guild = self._sync_guild()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        await self.store.set_meta(SYNC_HASH_KEY, digest)
        where = f"to server {guild.id}" if guild else "globally"
        log.info("synced %d slash commands %s", len(synced), where)
        return True

    async def on_ready(self) -> None:
        log.info(
            "ready as %s in %d servers (%d shards)",
            self.user,
            len(self.guilds),
            self.shard_count or 1,
        )
