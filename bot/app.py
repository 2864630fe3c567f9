"""The bot: one AutoShardedBot subclass that owns the shared resources (SPEC §2, §8).

`setup_hook` loads the cogs (which register their persistent buttons), closes or re-arms the
games a restart interrupted, and syncs the command tree only when it changed since the last
sync, to stay clear of Discord's rate limits (when the scope changed, global <-> DEV_GUILD_ID,
the commands are removed from the scope it left). Those two need the database: when it does
not answer, each is a log line (never a traceback) and is tried again once the bot is
connected, until the database answers; the scheduler starts after them. Until the bot is
first ready, a gateway it cannot reach is retried with one log line a try.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.config import DEFAULT_GATEWAY_URL, Settings
from bot.connection import UNREACHABLE, describe_unreachable
from bot.domain.clock import (
    Backoff,
    Clock,
    SystemClock,
    TokenBucket,
    sleep_until,
    wait_or_timeout,
)
from bot.domain.models import Dataset
from bot.domain.records import StoreUnavailable
from bot.domain.shards import describe as describe_shards
from bot.errors import BotTree, done
from bot.i18n import CommandTranslator
from bot.metrics import Metrics
from bot.posting import DiscordTriviaChannel, ScheduledPosts
from bot.scheduler import Dispatcher
from bot.services.content import BagScope, ContentService
from bot.services.daily import DailyChallenge
from bot.services.games import TriviaRunner
from bot.services.schedules import ScheduleService
from bot.services.scores import Scores
from bot.services.servers import ServerSettings
from bot.store.base import Store
from bot.ui.details import DetailsButton
from bot.ui.trivia import tell_news

if TYPE_CHECKING:
    from discord.types.gateway import SessionStartLimit

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.quotes",
    "bot.cogs.facts",
    "bot.cogs.onthisday",
    "bot.cogs.about",
    "bot.cogs.help",
    "bot.cogs.trivia",
    "bot.cogs.daily",
    "bot.cogs.schedules",
    "bot.cogs.settings",
)
# The last sync, as JSON: {"application": id, "scope": "global" or a server id, "hash": ...}.
SYNC_KEY = "command_sync"
LEGACY_SYNC_HASH_KEY = "command_sync_hash"  # before the scope was kept: the hash alone
GLOBAL_SCOPE = "global"


class GatewayConnectAborted(BaseException):
    """The bot was closed while it waited to reach the gateway at start-up. A BaseException
    on purpose: discord.py's `launch_shard` retries after any Exception, and must not here."""


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


def shard_options(settings: Settings) -> dict[str, Any]:
    """The shards this process runs (SPEC §8): `SHARD_COUNT` and `SHARD_IDS`, or every shard
    Discord recommends when they are unset."""
    if settings.shard_count is None:
        return {}
    ids = sorted(settings.shard_ids) if settings.shard_ids is not None else None
    return {"shard_count": settings.shard_count, "shard_ids": ids}


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


def retry_gateway_until_ready(bot: LoveWinsAllBot) -> None:
    """Until the bot is first ready, a gateway it cannot reach costs one log line and a wait
    (1 s doubling to 60 s), not discord.py's traceback every 5 s; closing the bot ends the
    wait. Once ready, reconnecting is discord.py's own business again."""
    connect = bot.http.ws_connect

    async def ws_connect(url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        backoff = Backoff()
        while True:
            if bot.closing:
                raise GatewayConnectAborted
            try:
                return await connect(url, compress=compress)
            except UNREACHABLE as error:
                if bot.closing:
                    raise GatewayConnectAborted from None
                if bot.is_ready():
                    raise
                delay = backoff.next()
                log.warning(
                    "cannot reach Discord's gateway at %s: %s; trying again in %g s",
                    url.split("?", 1)[0],
                    describe_unreachable(error),
                    delay,
                )
                await bot.wait_closed(delay)

    bot.http.ws_connect = ws_connect  # type: ignore[method-assign]


def spread_ratelimit_cleanup(http: discord.http.HTTPClient) -> None:
    """Make discord.py's clean-up of its rate-limit buckets cost little at any size.

    discord.py keeps a bucket per route and channel, and each time a request goes somewhere it
    has no bucket for, it looks through every bucket for ones unused for 5 minutes. After a
    burst of scheduled posts into 10,000 channels that is a scan of 10,000 buckets per new
    channel: seconds of CPU in which the event loop answers no fan (measured: 24 of 49 CPU
    seconds while 2,500 daily reveals went out). Here the scan runs once the table has doubled
    since the last one: the same unused buckets go, at a cost spread over the requests that
    made them."""
    scan = http._try_clear_expired_ratelimits
    smallest = 256  # below it discord.py does not scan either
    next_scan = smallest

    def try_clear() -> None:
        nonlocal next_scan
        if len(http._buckets) < next_scan:
            return
        scan()
        next_scan = max(smallest, 2 * len(http._buckets))

    http._try_clear_expired_ratelimits = try_clear  # type: ignore[method-assign]


# Discord's pace for IDENTIFY: one per rate-limit bucket every 5 seconds. Turns are taken a
# little further apart than that: two processes' IDENTIFYs travel by different connections,
# and one that arrives a few milliseconds early is refused (op 9) and costs 5 s more.
IDENTIFY_SPACING = dt.timedelta(seconds=5)
IDENTIFY_MARGIN = dt.timedelta(milliseconds=500)
# The buttons' custom_id kinds (`lwa:<kind>:…`), for the operator's metrics.
BUTTON_KINDS = (
    "t",
    "report",
    "details",
    "quote",
    "fact",
    "sources",
    "reportform",
    "resolve",
    "again",
    "half",
    "d",
    "dplay",
    "dshare",
)
HEALTH_DATABASE_SECONDS = 1.5  # within /healthz's own 2 s


class LoveWinsAllBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        dataset: Dataset,
        store: Store,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        # No time limit on a shard's first connection: `retry_gateway_until_ready` keeps trying
        # while Discord is unreachable, and a limit would end that with a traceback.
        super().__init__(
            **client_options(),
            **shard_options(settings),
            tree_cls=BotTree,
            shard_connect_timeout=None,
        )
        self.settings = settings
        self.dataset = dataset
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.metrics = metrics or Metrics()
        self.metrics.refresh = self._refresh_metrics
        store.on_error = self.metrics.store_error
        # What the bot does, shared by the cogs and the scheduler (bot/services).
        self.content = ContentService(dataset, store, self.clock, self.rng)
        # What Discord's global rate limit counts, paced together at POST_RATE_PER_SECOND (the
        # ceiling is for all processes: each paces at its shards' share): scheduled posts, and
        # the reveals of the daily questions they posted, which all close together an hour
        # later. Fans' interactions are answered outside it (Discord does not count them).
        self.channel_writes = TokenBucket(
            settings.post_rate_per_second * settings.shards.share, SystemClock()
        )
        self.games = TriviaRunner(
            store=store,
            dataset=dataset,
            content=self.content,
            clock=self.clock,
            rng=self.rng,
            channel=DiscordTriviaChannel(self),
            grace=dt.timedelta(minutes=settings.schedule_grace_minutes),
            shards=settings.shards,
            pace=self.channel_writes,
        )
        self.dispatcher: Dispatcher | None = None  # scheduled posts (SPEC §6)
        self.schedules = ScheduleService(store, self.clock, wake=self._wake_dispatcher)
        self.scores = Scores(store, self.content, self.clock)
        self.daily = DailyChallenge(store, dataset, self.clock)
        self.servers = ServerSettings(store)
        self._behind: set[asyncio.Task[None]] = set()  # a fan's news, told behind an answer
        self._max_concurrency: int | None = None  # Discord's, for IDENTIFY turns
        # Start-up work left for when the bot is connected (the database did not answer).
        self._start_up_left: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        self._closed = asyncio.Event()
        retry_gateway_until_ready(self)
        spread_ratelimit_cleanup(self.http)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Take a turn to IDENTIFY (SPEC §8). Discord allows one IDENTIFY per bucket
        (`shard_id % max_concurrency`) every 5 seconds, counted over every process of the
        bot. With PostgreSQL the processes share the turns through the database; alone on
        SQLite, discord.py's own pacing is enough: 5 s before every IDENTIFY but the first
        (another shard's, or again after a session was invalidated), here on the bot's clock
        like every other wait of the bot."""
        if self.settings.database_url is None:
            if not initial:
                log.info("shard %s identifies in %s (Discord's pace)", shard_id, IDENTIFY_SPACING)
                await self.clock.sleep(IDENTIFY_SPACING.total_seconds())
            return
        if self._max_concurrency is None:
            _shards, _url, limits = await self.http.get_bot_gateway()
            self._max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
        bucket = (shard_id or 0) % self._max_concurrency
        asked = self.clock.now()
        spacing = IDENTIFY_SPACING + IDENTIFY_MARGIN
        turn = await self.store.claim_identify_slot(bucket, asked, spacing)
        if turn > self.clock.now():
            log.info(
                "shard %s waits %s for its turn to identify", shard_id, turn - self.clock.now()
            )
        await sleep_until(self.clock, turn)
        self.metrics.identify_wait((self.clock.now() - asked).total_seconds())

    async def setup_hook(self) -> None:
        if self.settings.gateway_url != DEFAULT_GATEWAY_URL:
            use_gateway(self, self.settings.gateway_url)
        await self.tree.set_translator(CommandTranslator())  # Korean for Discord's `ko` locale
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(DetailsButton)  # under the replies of several cogs
        for command in self.tree.walk_commands():
            self.metrics.register_command(command.qualified_name)
        for kind in BUTTON_KINDS:
            self.metrics.register_command(f"button:{kind}")
        for what, step in (
            ("recover the trivia games a restart interrupted", self.games.recover),
            ("sync the slash commands", self.sync_commands_if_changed),
        ):
            try:
                await step()
            except StoreUnavailable as error:
                log.warning("could not %s (%s); trying again once connected", what, error)
                self._start_up_left.append((what, step))
        self.dispatcher = Dispatcher(
            store=self.store,
            clock=self.clock,
            poster=ScheduledPosts(self),
            grace=dt.timedelta(minutes=self.settings.schedule_grace_minutes),
            rate=self.channel_writes.rate,
            shards=self.settings.shards,
            bucket=self.channel_writes,  # Discord's rate limit counts real seconds
            observe=self.metrics.post,  # type: ignore[arg-type]
        )
        self.dispatcher.start(before=self._start_up)

    async def _start_up(self) -> None:
        """Once ready: the start-up work the database did not let `setup_hook` do, each step
        tried again (1 s doubling to a minute) until the database answers. The scheduler
        starts after it."""
        await self.wait_until_ready()
        for what, step in self._start_up_left:
            backoff = Backoff()
            while True:
                try:
                    await step()
                    break
                except StoreUnavailable as error:
                    delay = backoff.next()
                    log.warning("could not %s (%s); trying again in %g s", what, error, delay)
                    await self.wait_closed(delay)
                    if self.closing:
                        return

    async def on_app_command_completion(
        self, interaction: discord.Interaction[Any], command: object
    ) -> None:
        done(interaction)

    def _refresh_metrics(self) -> None:
        """The gauges read at scrape time."""
        self.metrics.store_health(self.store.healthy)
        self.metrics.live_games(len(self.games.live))
        shards = list(self.shards.values())
        self.metrics.shards(sum(not s.is_closed() for s in shards), len(shards))

    async def health(self) -> tuple[bool, list[str]]:
        """For `/healthz`: the gateway connected and the database answering (SPEC §2)."""
        reasons: list[str] = []
        shards = list(self.shards.values())
        closed = [s.id for s in shards if s.is_closed()]
        if not self.is_ready() or self.is_closed() or not shards:
            reasons.append("gateway: not connected")
        elif closed:
            reasons.append(f"gateway: shard(s) {describe_shards(closed)} not connected")
        try:
            await asyncio.wait_for(self.store.schema_version(), HEALTH_DATABASE_SECONDS)
        except TimeoutError:
            reasons.append(f"database: no answer within {HEALTH_DATABASE_SECONDS:g} s")
        except Exception as error:
            reasons.append(f"database: {type(error).__name__}")
        return not reasons, reasons

    def _wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def scope(self, interaction: discord.Interaction[Any]) -> BagScope:
        """Whose shuffle bag an interaction draws from (SPEC §4): the channel's, in a server
        that installed the bot (only this process, which runs the server's shard, serves it);
        the fan's own everywhere else (DMs, group DMs, servers where only the fan installed
        it), so repeats stay away there too, whichever process answers the fan."""
        if interaction.guild_id is not None and interaction.is_guild_integration():
            return BagScope(interaction.channel_id or interaction.guild_id, exclusive=True)
        # Also whoever clicks a button under a fan's reply.
        return BagScope(interaction.user.id, exclusive=False)

    @property
    def closing(self) -> bool:
        """Whether `close()` was called (it has work to do before `is_closed()` says so)."""
        return self._closed.is_set() or self.is_closed()

    async def wait_closed(self, seconds: float) -> None:
        """Sleep `seconds` of the bot's clock, or less if the bot is closed meanwhile."""
        await wait_or_timeout(self.clock, self._closed, seconds)

    def answered(self, interaction: discord.Interaction[Any]) -> None:
        """An interaction was answered (`errors.done`): what became of the user's trivia
        reports follows behind the answer, never before it (no task for a fan found without
        news lately)."""
        if self.scores.may_have_news(interaction.user.id):
            task = asyncio.get_running_loop().create_task(tell_news(interaction))
            self._behind.add(task)
            task.add_done_callback(self._behind.discard)

    async def close(self) -> None:
        self._closed.set()
        for task in list(self._behind):
            task.cancel()
        if self.dispatcher is not None:  # stop posting before the connection closes
            await self.dispatcher.stop()
        # Games stop where they are, while the store is still open; they are closed cleanly
        # (or re-armed, for daily questions) at the next start.
        await self.games.shutdown()
        await super().close()

    async def command_tree_hash(self) -> str:
        """A digest of what a sync sends: every command as Discord gets it, translations
        included (a changed Korean description is a change to sync)."""
        guild = self._sync_guild()
        translator = self.tree.translator
        commands_json = [
            await c.get_translated_payload(self.tree, translator)
            if translator is not None
            else c.to_dict(self.tree)
            for c in self.tree.get_commands()
        ]
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

    def _sync_scope(self) -> str:
        dev = self.settings.dev_guild_id
        return str(dev) if dev else GLOBAL_SCOPE

    async def _last_sync(self, digest: str) -> tuple[str | None, str | None]:
        """(scope, hash) of this application's last sync from this database; (None, None)
        when unknown, e.g. another application's token used the database."""
        raw = await self.store.get_meta(SYNC_KEY)
        if raw is None:
            # A database from before the scope was kept: a matching hash (which covers the
            # application and the server) proves the scope, so it is recorded from now on;
            # anything else is unknown, and an unknown scope is never cleared.
            if await self.store.get_meta(LEGACY_SYNC_HASH_KEY) == digest:
                await self._record_sync(self._sync_scope(), digest)
                return self._sync_scope(), digest
            return None, None
        try:
            last = json.loads(raw)
            scope, last_hash = str(last["scope"]), str(last["hash"])
        except (ValueError, KeyError, TypeError):
            return None, None
        if last.get("application") != self.application_id:
            return None, None
        if scope != GLOBAL_SCOPE and not scope.isdigit():
            return None, None
        return scope, last_hash

    async def _record_sync(self, scope: str, digest: str) -> None:
        await self.store.set_meta(
            SYNC_KEY,
            json.dumps({"application": self.application_id, "scope": scope, "hash": digest}),
        )

    async def sync_commands_if_changed(self) -> bool:
        digest = await self.command_tree_hash()
        scope = self._sync_scope()
        last_scope, last_hash = await self._last_sync(digest)
        if last_scope == scope and last_hash == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        if last_scope is not None and last_scope != scope:
            # Only a scope this database's bot synced to is cleared, never one it did not.
            await self._remove_commands(last_scope)
        guild = self._sync_guild()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        await self._record_sync(scope, digest)
        log.info("synced %d slash commands %s", len(synced), _where(scope))
        return True

    async def _remove_commands(self, scope: str) -> None:
        """Bulk-overwrite `scope` with no commands, so none shows twice after a switch."""
        assert self.application_id is not None  # set at login, before setup_hook
        try:
            if scope == GLOBAL_SCOPE:
                await self.http.bulk_upsert_global_commands(self.application_id, payload=[])
            else:
                await self.http.bulk_upsert_guild_commands(
                    self.application_id, int(scope), payload=[]
                )
        except (discord.Forbidden, discord.NotFound) as error:
            # E.g. the bot left that server: nothing the bot can do there any more.
            log.warning(
                "could not remove the slash commands %s, where they were synced last (%s)",
                _where(scope),
                error.text or error.status,
            )
            return
        log.info("removed the slash commands %s, where they were synced last", _where(scope))

    async def on_ready(self) -> None:
        count = self.shard_count or 1
        mine = self.shard_ids if self.shard_ids is not None else range(count)
        log.info(
            "ready as %s in %d servers (shards %s of %d)",
            self.user,
            len(self.guilds),
            describe_shards(mine),
            count,
        )


def _where(scope: str) -> str:
    return "globally" if scope == GLOBAL_SCOPE else f"in server {scope}"
