"""A local Discord API v10 emulator (REST + gateway) for end-to-end tests of discord.py bots.

:class:`Emulator` is what tests use: a facade that assembles the parts (README.md, "Layout")

- ``context.py``: the application, the address, ``stats`` and the change signal
- ``world.py``: users, guilds, channels, roles, members, messages, commands, interactions
- ``gateway_server.py`` (protocol pieces in ``gateway.py``): the websocket and the sessions
- ``rest.py``: the router and ``@route``, auth, rate limits, injected faults, checks
- ``routes/``: the REST handlers, one class per resource
- ``driver.py``: acting as Discord users, and waiting for the bot

and gives their attributes and methods the names tests use."""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from aiohttp import web

from .context import Context
from .driver import Driver
from .gateway import GatewayConnection, Session, Shards
from .gateway_server import GatewayServer
from .interactions import Interaction
from .models import Channel, Guild, Message, User
from .rest import (
    ApiError,
    Checks,
    Handler,
    Request,
    RestApi,
    Router,
    UnknownRoute,
    Violation,
)
from .routes import (
    ApplicationRoutes,
    ChannelRoutes,
    CommandRoutes,
    GuildRoutes,
    InteractionRoutes,
)
from .schema import DiscordSchema, load_schema
from .world import World

__all__ = ["ApiError", "Emulator", "UnknownRoute", "Violation", "_Request"]

log = logging.getLogger("fakediscord")

# The name benchmarks/common.py imports the REST request under.
_Request = Request

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class _Attr(Generic[T]):
    """An attribute of the facade that lives on one of its parts (``part``, the facade's
    attribute holding it; ``attr``, its name there if not the same): reading or assigning it
    on the Emulator reads or assigns the part's."""

    def __init__(self, part: str, attr: str = "") -> None:
        self._part = part
        self._attr = attr

    def __set_name__(self, owner: type[object], name: str) -> None:
        self._attr = self._attr or name

    @overload
    def __get__(self, obj: None, owner: type[object]) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: type[object] | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type[object] | None = None) -> Self | T:
        if obj is None:
            return self
        value: T = getattr(getattr(obj, self._part), self._attr)
        return value

    def __set__(self, obj: object, value: T) -> None:
        setattr(getattr(obj, self._part), self._attr, value)


class _Method(Generic[P, R]):
    """A method of the facade that is ``method`` of one of its parts (same signature and
    docstring). Like a method, a subclass may override it and call ``super()``'s, and a test
    may replace it on an instance."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self._part = part
        self._name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type[object]) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: type[object] | None = None) -> Callable[P, R]: ...
    def __get__(
        self, obj: object | None, owner: type[object] | None = None
    ) -> Self | Callable[P, R]:
        if obj is None:
            return self
        bound: Callable[P, R] = getattr(getattr(obj, self._part), self._name)
        return bound


class Emulator:
    """Discord REST + gateway emulator. Create, ``await start()``, build a world, run a bot."""

    # -- settings: each lives on the part that reads it; assigning one here changes it there --
    heartbeat_interval = _Attr[int]("_gateway")
    replay_limit = _Attr[int]("_gateway")
    privileged_intents = _Attr[bool]("_gateway")
    # Guilds one shard may hold; past it IDENTIFY is closed with 4011 (None: no limit).
    max_guilds_per_shard = _Attr[int | None]("_gateway")
    # Seconds between two IDENTIFYs of one rate-limit bucket (Discord: 5); tests shrink it.
    identify_spacing = _Attr[float]("_gateway")
    global_rate_limit = _Attr[int]("_rest")
    bucket_limit = _Attr[int]("_rest")
    bucket_window = _Attr[float]("_rest")
    interaction_deadline = _Attr[float]("_interaction_routes")
    webhook_ttl = _Attr[float]("_interaction_routes")
    # What GET /gateway/bot says: the recommended shards, and IDENTIFYs per 5 s (its buckets:
    # shard_id % max_concurrency).
    shard_count = _Attr[int]("_shards")
    max_concurrency = _Attr[int]("_shards")
    command_wait = _Attr[float]("_driver")
    # Discord's OpenAPI request schemas (../shared); None in a clone without them.
    schema = _Attr[DiscordSchema | None]("_checks")

    # -- the application and where the emulator listens --
    bot_user = _Attr[User]("_ctx")
    application_id = _Attr[int]("_ctx")
    owner_user = _Attr[User]("_ctx")
    token = _Attr[str]("_ctx")
    host = _Attr[str]("_ctx")
    port = _Attr[int]("_ctx")

    # -- the world --
    guilds = _Attr[list[Guild]]("_world")
    _guilds = _Attr[dict[int, Guild]]("_world", "guild_by_id")
    other_guilds = _Attr[dict[int, Guild]]("_world")
    user_installs = _Attr[set[int]]("_world")
    channels = _Attr[dict[int, Channel]]("_world")
    users = _Attr[dict[int, User]]("_world")
    messages = _Attr[dict[int, Message]]("_world")
    global_commands = _Attr[dict[int, dict[str, Any]]]("_world")
    guild_commands = _Attr[dict[int, dict[int, dict[str, Any]]]]("_world")
    interactions = _Attr[dict[int, Interaction]]("_world")

    # -- the gateway --
    sessions = _Attr[dict[str, Session]]("_shards")
    live_sessions = _Attr[list[Session]]("_shards", "live")
    connections = _Attr[set[GatewayConnection]]("_gateway")
    identify_count = _Attr[int]("_gateway")
    ready_count = _Attr[int]("_gateway")
    resume_count = _Attr[int]("_gateway")
    gateway_log = _Attr[list[tuple[str, Any]]]("_gateway")

    # -- what the bot did --
    stats = _Attr[Counter[str]]("_ctx")
    violations = _Attr[list[Violation]]("_checks")
    unknown_routes = _Attr[list[UnknownRoute]]("_rest")
    request_log = _Attr[deque[tuple[float, str, str, int]]]("_rest")
    latencies = _Attr[list[float]]("_interaction_routes")
    late_callbacks = _Attr[list[Interaction]]("_interaction_routes")

    # -- world building (sync; each change is dispatched to a connected bot) --
    add_user = _Method("_world", World.add_user)
    get_guild = _Method("_world", World.get_guild)
    find_guild = _Method("_world", World.find_guild)
    add_guild = _Method("_world", World.add_guild)
    remove_guild = _Method("_world", World.remove_guild)
    add_channel = _Method("_world", World.add_channel)
    update_channel = _Method("_world", World.update_channel)
    delete_channel = _Method("_world", World.delete_channel)
    set_overwrite = _Method("_world", World.set_overwrite)
    remove_overwrite = _Method("_world", World.remove_overwrite)
    add_role = _Method("_world", World.add_role)
    update_role = _Method("_world", World.update_role)
    delete_role = _Method("_world", World.delete_role)
    add_member = _Method("_world", World.add_member)
    update_member = _Method("_world", World.update_member)
    add_member_role = _Method("_world", World.add_member_role)
    remove_member_role = _Method("_world", World.remove_member_role)
    remove_member = _Method("_world", World.remove_member)
    post_user_message = _Method("_world", World.post_user_message)
    bot_member = _Method("_world", World.bot_member)
    bot_role = _Method("_world", World.bot_role)
    permissions_for = _Method("_world", World.permissions_for)
    app_permissions = _Method("_world", World.app_permissions)
    dm_channel = _Method("_world", World.dm_channel)
    bot_dm = _Method("_world", World.bot_dm)
    group_dm = _Method("_world", World.group_dm)
    user_dm = _Method("_world", World.user_dm)
    install_for_user = _Method("_world", World.install_for_user)
    uninstall_for_user = _Method("_world", World.uninstall_for_user)
    channel_messages = _Method("_world", World.channel_messages)

    # -- the driver: acting as users, and waiting for the bot --
    slash = _Method("_driver", Driver.slash)
    slash_dm = _Method("_driver", Driver.slash_dm)
    slash_private = _Method("_driver", Driver.slash_private)
    slash_user_install = _Method("_driver", Driver.slash_user_install)
    autocomplete = _Method("_driver", Driver.autocomplete)
    autocomplete_interaction = _Method("_driver", Driver.autocomplete_interaction)
    click = _Method("_driver", Driver.click)
    select = _Method("_driver", Driver.select)
    submit_modal = _Method("_driver", Driver.submit_modal)
    craft_bot_message = _Method("_driver", Driver.craft_bot_message)
    wait_until = _Method("_ctx", Context.wait_until)
    wait_for_message = _Method("_driver", Driver.wait_for_message)
    wait_for_edit = _Method("_driver", Driver.wait_for_edit)
    wait_for_commands = _Method("_driver", Driver.wait_for_commands)
    wait_for_ready = _Method("_gateway", GatewayServer.wait_for_ready)
    wait_for_resume = _Method("_gateway", GatewayServer.wait_for_resume)

    # -- faults --
    close_gateway = _Method("_gateway", GatewayServer.close_gateway)
    send_reconnect = _Method("_gateway", GatewayServer.send_reconnect)
    invalidate_sessions = _Method("_gateway", GatewayServer.invalidate_sessions)
    inject_429 = _Method("_rest", RestApi.inject_429)
    inject_error = _Method("_rest", RestApi.inject_error)
    after_handling = _Method("_rest", RestApi.after_handling)
    forget_nonces = _Method("_channel_routes", ChannelRoutes.forget_nonces)

    # -- hooks: the parts call these through the facade, so that a subclass's override
    # (benchmarks/common.py's BenchEmulator wraps the first four) or a test's monkeypatch
    # applies --
    _identify = _Method("_gateway", GatewayServer.identify)
    _new_interaction = _Method("_driver", Driver.new_interaction)
    _r_callback = _Method("_interaction_routes", InteractionRoutes.callback)
    _r_create_message = _Method("_channel_routes", ChannelRoutes.create_message)
    _check_can_use = _Method("_driver", Driver.check_can_use)

    def __init__(
        self,
        *,
        heartbeat_interval: int = 41250,
        interaction_deadline: float = 3.0,
        webhook_ttl: float = 15 * 60.0,
        global_rate_limit: int = 50,
        bucket_limit: int = 50,
        bucket_window: float = 1.0,
        shard_count: int = 1,
        max_concurrency: int = 1,
        identify_spacing: float = 5.0,
        replay_limit: int = 5000,
        command_wait: float = 10.0,
        privileged_intents: bool = True,
        bot_name: str = "LWA Bot",
    ) -> None:
        ctx = self._ctx = Context(bot_name)
        shards = self._shards = Shards(shard_count=shard_count, max_concurrency=max_concurrency)
        world = self._world = World(ctx, shards)
        checks = self._checks = Checks(ctx, load_schema())
        self._gateway = GatewayServer(
            ctx,
            world,
            shards,
            checks,
            heartbeat_interval=heartbeat_interval,
            replay_limit=replay_limit,
            privileged_intents=privileged_intents,
        )
        self._gateway.identify_spacing = identify_spacing
        self._application_routes = ApplicationRoutes(ctx, world, shards)
        self._command_routes = CommandRoutes(ctx, world, checks)
        self._channel_routes = ChannelRoutes(ctx, world, checks)
        self._guild_routes = GuildRoutes(world)
        self._interaction_routes = InteractionRoutes(
            ctx,
            world,
            checks,
            interaction_deadline=interaction_deadline,
            webhook_ttl=webhook_ttl,
        )
        router = Router()
        router.include(
            self._application_routes,
            self._command_routes,
            self._channel_routes,
            self._guild_routes,
            self._interaction_routes,
        )
        self._rest = RestApi(
            ctx,
            router,
            checks,
            global_rate_limit=global_rate_limit,
            bucket_limit=bucket_limit,
            bucket_window=bucket_window,
        )
        self._driver = Driver(self, ctx, world, command_wait=command_wait)
        # The hooks (the driver looks its two up on the facade each time).
        self._gateway.on_identify = self._identify
        router.rebind(self._interaction_routes.callback, self._r_callback)
        router.rebind(self._channel_routes.create_message, self._r_create_message)

        # Set by a test that provokes these on purpose (the fixtures fail a test on them).
        self.expect_violations = False
        self.expect_unknown_routes = False
        self.expect_late_callbacks = False
        self._runner: web.AppRunner | None = None

    # ======================================================================
    # lifecycle
    # ======================================================================
    @property
    def base_url(self) -> str:
        return self._ctx.base_url

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` (env DISCORD_API_BASE)."""
        return self._ctx.api_base

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (env DISCORD_GATEWAY_URL)."""
        return self._ctx.gateway_url

    def bot_env(self) -> dict[str, str]:
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    async def start(self) -> Emulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/", self._serve_root)
        app.router.add_route("*", "/{tail:.*}", self._rest.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._ctx.host, 0)
        await site.start()
        self._ctx.port = int(self._runner.addresses[0][1])
        log.info("emulator listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        await self._gateway.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve_root(self, request: web.Request) -> web.StreamResponse:
        """``GET /`` is the gateway's websocket; without an Upgrade, it is a REST request."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return await self._rest.handle(request)
        return await self._gateway.handle(request)

    # ======================================================================
    # views
    # ======================================================================
    @property
    def guild(self) -> Guild:
        """The first guild (the one the ``bot`` fixture creates)."""
        return self._world.guild

    @property
    def commands(self) -> dict[str, dict[str, Any]]:
        """Registered global commands by name."""
        return self._world.commands

    @property
    def connected(self) -> bool:
        return self._shards.connected

    @property
    def _routes(self) -> list[tuple[str, str, Any, Handler, bool]]:
        """(method, template, pattern, handler, needs auth) of every REST route."""
        return [
            (r.method, r.template, r.pattern, r.handler, r.auth) for r in self._rest.router.routes
        ]
