"""A local Discord API v10 emulator (REST + gateway) for end-to-end tests of discord.py bots."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import fnmatch
import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import gateway as gw
from . import permissions as P
from .interactions import CallbackResponse, Interaction
from .models import (
    DM,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    TEXT,
    Channel,
    Guild,
    Member,
    Message,
    Role,
    User,
    snowflake,
)
from .permissions import Overwrite
from .schema import DiscordSchema, load_schema
from .validation import (
    FieldError,
    errors_to_discord,
    validate_autocomplete,
    validate_command,
    validate_command_list,
    validate_message,
    validate_modal,
)

log = logging.getLogger("fakediscord")

API_PREFIX = "/api/v10"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON response with exactly ``Content-Type: application/json`` (discord.py compares
    the header verbatim; aiohttp's json_response would append a charset)."""
    out = dict(headers or {})
    out["Content-Type"] = "application/json"
    return web.Response(body=gw.dumps(data).encode(), status=status, headers=out)


def _unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


@dataclass
class Violation:
    """Something the bot sent that Discord would have rejected."""

    method: str
    path: str
    errors: list[FieldError]
    payload: Any

    def __str__(self) -> str:
        errs = "; ".join(str(e) for e in self.errors)
        body = json.dumps(self.payload, ensure_ascii=False, default=str)
        if len(body) > 20000:
            body = body[:20000] + "...<truncated>"
        return f"{self.method} {self.path}: {errs}\n  payload={body}"


@dataclass
class UnknownRoute:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class _Injection:
    method: str
    pattern: str
    remaining: int
    status: int
    retry_after: float = 0.0
    is_global: bool = False


@dataclass
class _Bucket:
    limit: int
    window: float
    reset_at: float = 0.0
    used: int = 0


@dataclass
class _Request:
    method: str
    path: str
    template: str
    params: dict[str, str]
    query: dict[str, str]
    payload: Any
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    raw: web.Request | None = None


Handler = Callable[[_Request], Awaitable[Any]]


def _route_regex(template: str) -> re.Pattern[str]:
    out = ""
    for part in re.split(r"(\{[a-z_]+\})", template):
        if part.startswith("{"):
            out += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


class Emulator:
    """Discord REST + gateway emulator. Create, ``await start()``, build a world, run a bot."""

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
        replay_limit: int = 5000,
        command_wait: float = 10.0,
        privileged_intents: bool = True,
        bot_name: str = "LWA Bot",
    ) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.webhook_ttl = webhook_ttl
        self.global_rate_limit = global_rate_limit
        self.bucket_limit = bucket_limit
        self.bucket_window = bucket_window
        self.shard_count = shard_count
        self.replay_limit = replay_limit
        self.command_wait = command_wait
        self.privileged_intents = privileged_intents
        # Guilds one shard may hold; past it IDENTIFY is closed with 4011 (None: no limit).
        self.max_guilds_per_shard: int | None = None

        self.bot_user = User(snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.owner_user = User(snowflake(), "app-owner")
        token_head = base64.b64encode(str(self.bot_user.id).encode()).decode().rstrip("=")
        self.token = f"{token_head}.fake.{secrets.token_urlsafe(24)}"

        # world
        self.guilds: list[Guild] = []
        self._guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.messages: dict[int, Message] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._dm_channels: dict[int, Channel] = {}

        # application commands
        self.global_commands: dict[int, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[int, dict[str, Any]]] = {}

        # interactions
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        self.latencies: list[float] = []
        self.late_callbacks: list[Interaction] = []

        # gateway
        self.sessions: dict[str, gw.Session] = {}
        self._shard_sessions: dict[int, gw.Session] = {}
        self.connections: set[gw.GatewayConnection] = set()
        self.identify_count = 0
        self.ready_count = 0
        self.resume_count = 0
        self.gateway_log: list[tuple[str, Any]] = []

        # checks and stats
        self.violations: list[Violation] = []
        self.unknown_routes: list[UnknownRoute] = []
        self.expect_violations = False
        self.expect_unknown_routes = False
        self.expect_late_callbacks = False
        # Discord's OpenAPI request schemas (../shared); None in a clone without them.
        self.schema: DiscordSchema | None = load_schema()
        self.stats: Counter[str] = Counter()
        self.request_log: deque[tuple[float, str, str, int]] = deque(maxlen=5000)
        self._injections: list[_Injection] = []
        self._global_window: deque[float] = deque()
        self._buckets: dict[str, _Bucket] = {}

        self._changed: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._routes: list[tuple[str, str, re.Pattern[str], Handler, bool]] = []
        self._register_routes()

    # ======================================================================
    # lifecycle
    # ======================================================================
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` (env DISCORD_API_BASE)."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (env DISCORD_GATEWAY_URL)."""
        return f"ws://{self.host}:{self.port}/"

    def bot_env(self) -> dict[str, str]:
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    async def start(self) -> Emulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("emulator listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ======================================================================
    # waiting
    # ======================================================================
    def _notify(self) -> None:
        fut = self._changed
        self._changed = None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait (event driven) until ``predicate()`` is true; AssertionError on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            if self._changed is None or self._changed.done():
                self._changed = loop.create_future()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._changed), remaining)

    async def wait_for_ready(self, after: int = 0, timeout: float = 30.0) -> None:
        """Wait until more than ``after`` READY+GUILD_CREATE sequences completed (per shard)."""
        await self.wait_until(
            lambda: self.ready_count >= after + 1 and self._all_shards_ready(),
            timeout,
            "the bot to IDENTIFY and receive all GUILD_CREATEs",
        )

    def _all_shards_ready(self) -> bool:
        sessions = list(self._shard_sessions.values())
        if not sessions:
            return False
        count = sessions[0].shard_count
        return len(sessions) >= count and all(s.ready for s in sessions)

    async def wait_for_resume(self, after: int, timeout: float = 15.0) -> None:
        await self.wait_until(lambda: self.resume_count > after, timeout, "the bot to RESUME")

    async def wait_for_commands(
        self, *names: str, guild: Guild | None = None, timeout: float = 10.0
    ) -> None:
        await self.wait_until(
            lambda: all(self._find_command(n, guild) is not None for n in names),
            timeout,
            f"application commands {names} to be registered",
        )

    def channel_messages(
        self, channel: Channel | int, *, include_ephemeral: bool = False
    ) -> list[Message]:
        cid = channel if isinstance(channel, int) else channel.id
        msgs = [self.messages[m] for m in self._channel_messages.get(cid, [])]
        out = [m for m in msgs if not m.deleted]
        if include_ephemeral:
            out += [
                m
                for m in self.messages.values()
                if m.channel_id == cid and m.is_ephemeral and not m.deleted
            ]
            out.sort(key=lambda m: m.id)
        return out

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 10.0,
        *,
        include_interactions: bool = False,
        after: int = 0,
    ) -> Message:
        """Wait for a (non-deleted) message the bot posted in ``channel``.

        By default only plain channel messages (POST /channels/{id}/messages) count.
        ``after``: only messages with an id greater than this one.
        """
        cid = channel if isinstance(channel, int) else channel.id
        found: list[Message] = []

        def check() -> bool:
            for m in self.channel_messages(cid):
                if m.id <= after or (m.interaction_id is not None and not include_interactions):
                    continue
                if predicate is None or predicate(m):
                    found.append(m)
                    return True
            return False

        await self.wait_until(check, timeout, f"a bot message in channel {cid}")
        return found[0]

    async def wait_for_edit(
        self,
        message: Message | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 10.0,
        *,
        after_version: int = 0,
    ) -> Message:
        """Wait until the message was edited (version > after_version) and predicate holds."""
        mid = message if isinstance(message, int) else message.id

        def check() -> bool:
            m = self.messages.get(mid)
            return (
                m is not None and m.version > after_version and (predicate is None or predicate(m))
            )

        await self.wait_until(check, timeout, f"an edit of message {mid}")
        return self.messages[mid]

    # ======================================================================
    # world building
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
        return self._guilds[guild_id]

    def add_guild(
        self,
        name: str = "Test Guild",
        owner: User | None = None,
        *,
        everyone_permissions: int = P.DEFAULT_EVERYONE,
        bot_permissions: int = P.DEFAULT_BOT,
        locale: str = "en-US",
        channel_name: str | None = "general",
    ) -> Guild:
        owner = owner or self.add_user(f"{name}-owner")
        self.users.setdefault(owner.id, owner)
        gid = snowflake()
        guild = Guild(gid, name, owner.id, preferred_locale=locale, bot_user_id=self.bot_user.id)
        guild.roles[gid] = Role(gid, gid, "@everyone", everyone_permissions, position=0)
        bot_role = Role(
            snowflake(),
            gid,
            self.bot_user.username,
            bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = Member(owner, gid)
        guild.members[self.bot_user.id] = Member(self.bot_user, gid, roles=[bot_role.id])
        self.guilds.append(guild)
        self._guilds[gid] = guild
        if channel_name:
            self._make_channel(guild, channel_name, TEXT, [])
        session = self._session_for_guild(gid)
        if session is not None and session.wants(gw.INTENT_GUILDS):
            session.dispatch("GUILD_CREATE", guild.to_create_payload())
        self._notify()
        return guild

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from the guild (GUILD_DELETE)."""
        self.guilds.remove(guild)
        del self._guilds[guild.id]
        for ch in guild.channels.values():
            ch.deleted = True
        self._guild_event(guild, "GUILD_DELETE", {"id": str(guild.id)}, gw.INTENT_GUILDS)

    def _make_channel(
        self, guild: Guild, name: str, type: int, overwrites: Iterable[Overwrite], **kw: Any
    ) -> Channel:
        ch = Channel(snowflake(), guild.id, name, type=type, position=len(guild.channels), **kw)
        for ow in overwrites:
            ch.overwrites[ow.id] = ow
        guild.channels[ch.id] = ch
        self.channels[ch.id] = ch
        return ch

    def add_channel(
        self,
        guild: Guild,
        name: str,
        type: int = TEXT,
        overwrites: Iterable[Overwrite] = (),
        **kw: Any,
    ) -> Channel:
        ch = self._make_channel(guild, name, type, overwrites, **kw)
        self._guild_event(guild, "CHANNEL_CREATE", ch.to_payload(), gw.INTENT_GUILDS)
        return ch

    def update_channel(self, channel: Channel, **changes: Any) -> Channel:
        for k, v in changes.items():
            setattr(channel, k, v)
        self._guild_event(
            self._guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )
        return channel

    def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        guild = self._guild_of(channel)
        self._guild_event(guild, "CHANNEL_DELETE", channel.to_payload(), gw.INTENT_GUILDS)

    def set_overwrite(
        self, channel: Channel, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        kind = P.ROLE_OVERWRITE if isinstance(target, Role) else P.MEMBER_OVERWRITE
        ow = Overwrite(target.id, kind, allow, deny)
        channel.overwrites[target.id] = ow
        self._guild_event(
            self._guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )
        return ow

    def remove_overwrite(self, channel: Channel, target: Role | Member | User) -> None:
        channel.overwrites.pop(target.id, None)
        self._guild_event(
            self._guild_of(channel), "CHANNEL_UPDATE", channel.to_payload(), gw.INTENT_GUILDS
        )

    def add_role(self, guild: Guild, name: str, permissions: int = 0, **kw: Any) -> Role:
        role = Role(snowflake(), guild.id, name, permissions, position=len(guild.roles), **kw)
        guild.roles[role.id] = role
        self._guild_event(
            guild,
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.to_payload()},
            gw.INTENT_GUILDS,
        )
        return role

    def update_role(self, role: Role, **changes: Any) -> Role:
        for k, v in changes.items():
            setattr(role, k, v)
        guild = self._guilds[role.guild_id]
        self._guild_event(
            guild,
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(guild.id), "role": role.to_payload()},
            gw.INTENT_GUILDS,
        )
        return role

    def delete_role(self, role: Role) -> None:
        guild = self._guilds[role.guild_id]
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
        guild = self._guilds[member.guild_id]
        intent = gw.INTENT_GUILDS if member.id == self.bot_user.id else gw.INTENT_GUILD_MEMBERS
        self._guild_event(
            guild, "GUILD_MEMBER_UPDATE", {**member.to_payload(), "guild_id": str(guild.id)}, intent
        )
        return member

    def add_member_role(self, member: Member, role: Role) -> Member:
        guild = self._guilds[member.guild_id]
        return self.update_member(member, roles=[*(guild.roles[r] for r in member.roles), role])

    def remove_member_role(self, member: Member, role: Role) -> Member:
        guild = self._guilds[member.guild_id]
        return self.update_member(
            member, roles=[guild.roles[r] for r in member.roles if r != role.id]
        )

    def remove_member(self, member: Member) -> None:
        guild = self._guilds[member.guild_id]
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
        return next(r for r in guild.roles.values() if r.bot_id == self.bot_user.id)

    def permissions_for(self, member: Member, channel: Channel) -> int:
        return self._guild_of(channel).permissions_in(member, channel)

    def app_permissions(self, channel: Channel) -> int:
        guild = self._guild_of(channel)
        return guild.permissions_in(guild.me, channel)

    def post_user_message(self, channel: Channel, member: Member, content: str) -> Message:
        """A user posts a message (MESSAGE_CREATE to the bot)."""
        msg = Message(snowflake(), channel.id, channel.guild_id, member.user, content=content)
        self.messages[msg.id] = msg
        self._channel_messages.setdefault(channel.id, []).append(msg.id)
        channel.last_message_id = msg.id
        guild = self._guilds.get(channel.guild_id or 0)
        if guild is not None:
            session = self._session_for_guild(guild.id)
            if session is not None and session.wants(gw.INTENT_GUILD_MESSAGES):
                data = msg.to_payload()
                if not session.wants(gw.INTENT_MESSAGE_CONTENT):
                    data["content"] = ""
                data["member"] = member.to_payload(with_user=False)
                session.dispatch("MESSAGE_CREATE", data)
        self._notify()
        return msg

    def craft_bot_message(self, channel: Channel, custom_ids: list[str]) -> Message:
        """A hostile test's message: it shows as the bot's, in ``channel``, with one button per
        custom_id (say, a copy of another server's game buttons). Clicking one sends the bot
        an interaction it never made that button for."""
        buttons = [
            {"type": 2, "style": 1, "label": f"button {n}", "custom_id": custom_id}
            for n, custom_id in enumerate(custom_ids)
        ]
        rows = [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]
        return self._new_message(channel, {"components": rows}, [])

    def _guild_of(self, channel: Channel) -> Guild:
        assert channel.guild_id is not None, "not a guild channel"
        return self._guilds[channel.guild_id]

    def _guild_event(self, guild: Guild, event: str, data: Any, intent: int) -> None:
        session = self._session_for_guild(guild.id)
        if session is not None and session.wants(intent):
            session.dispatch(event, data)
        self._notify()

    # ======================================================================
    # gateway
    # ======================================================================
    def _session_for_guild(self, guild_id: int | None) -> gw.Session | None:
        if not self._shard_sessions:
            return None
        count = next(iter(self._shard_sessions.values())).shard_count
        shard = 0 if guild_id is None else (guild_id >> 22) % count
        return self._shard_sessions.get(shard)

    @property
    def connected(self) -> bool:
        return any(s.conn is not None and not s.conn.closed for s in self._shard_sessions.values())

    async def close_gateway(self, code: int = 4000, *, invalidate: bool | None = None) -> None:
        """Close every open gateway connection with ``code``.

        The session stays resumable unless ``invalidate`` (default: for codes
        1000, 1001, 4007, 4009, like Discord), in which case a RESUME gets
        INVALID_SESSION(false) and the client must IDENTIFY again.
        """
        if invalidate is None:
            invalidate = code in (1000, 1001, 4007, 4009)
        for conn in list(self.connections):
            if conn.session is not None:
                conn.session.conn = None
                if invalidate:
                    conn.session.invalidated = True
            await conn.close(code)
        self._notify()

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection (the client should resume)."""
        for conn in list(self.connections):
            conn.send_op(gw.RECONNECT, None)

    def invalidate_sessions(self, resumable: bool = False) -> None:
        for conn in list(self.connections):
            if conn.session is not None and not resumable:
                conn.session.invalidated = True
            conn.send_op(gw.INVALID_SESSION, resumable)

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return await self._http_handler(request)
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        # zlib-stream when asked; anything else (e.g. zstd-stream) falls back to plain
        # JSON text frames, which discord.py also accepts.
        compress = request.query.get("compress") == "zlib-stream"
        conn = gw.GatewayConnection(ws, compress=compress)
        self.connections.add(conn)
        self.stats["gateway:connections"] += 1
        if request.query.get("encoding", "json") != "json":
            await conn.close(4002)
            self.connections.discard(conn)
            return ws
        conn.send_op(
            gw.HELLO, {"heartbeat_interval": self.heartbeat_interval, "_trace": ["fakediscord"]}
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        data = json.loads(msg.data)
                    except ValueError:
                        await conn.close(4002)
                        break
                    await self._on_gateway_message(conn, data)
                elif msg.type == WSMsgType.BINARY:
                    await conn.close(4002)
                    break
                else:
                    break
                if conn.closed:
                    break
        finally:
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            await conn.shutdown()
            self.connections.discard(conn)
            self._notify()
        return ws

    async def _on_gateway_message(self, conn: gw.GatewayConnection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        d = msg.get("d")
        self.gateway_log.append(("recv", op if op != gw.IDENTIFY else "IDENTIFY"))
        if op == gw.HEARTBEAT:
            self.stats["gateway:heartbeats"] += 1
            conn.send_op(gw.HEARTBEAT_ACK, None)
        elif op == gw.IDENTIFY:
            await self._identify(conn, d or {})
        elif op == gw.RESUME:
            await self._resume(conn, d or {})
        elif op in (gw.PRESENCE_UPDATE, gw.VOICE_STATE_UPDATE, gw.REQUEST_GUILD_MEMBERS):
            if conn.session is None:
                await conn.close(4003)
            elif op == gw.REQUEST_GUILD_MEMBERS:
                self._members_chunk(conn.session, d or {})
        else:
            await conn.close(4001)

    async def _identify(self, conn: gw.GatewayConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005)
            return
        refusal = gw.identify_refusal(
            d,
            token=self.token,
            privileged_intents=self.privileged_intents,
            guild_ids=self._guilds,
            max_guilds_per_shard=self.max_guilds_per_shard,
        )
        if refusal is not None:
            await conn.close(refusal)
            return
        shard = d.get("shard") or [0, 1]
        shard_id, shard_count = int(shard[0]), int(shard[1])
        intents = int(d.get("intents", 0))
        self.identify_count += 1
        self.stats["gateway:identify"] += 1
        old = self._shard_sessions.get(shard_id)
        if old is not None:
            old.invalidated = True
        session = gw.Session(
            secrets.token_hex(16), shard_id, shard_count, intents, self.replay_limit
        )
        self.sessions[session.id] = session
        self._shard_sessions[shard_id] = session
        session.conn = conn
        conn.session = session
        guilds = [g for g in self.guilds if (g.id >> 22) % shard_count == shard_id]
        ready = {
            "v": 10,
            "user": {
                **self.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east"],
            "session_type": "normal",
            "auth": {},
            "_trace": ["fakediscord"],
        }
        session.dispatch("READY", ready)
        self._spawn(self._stream_guilds(session, conn, guilds))

    async def _stream_guilds(
        self, session: gw.Session, conn: gw.GatewayConnection, guilds: list[Guild]
    ) -> None:
        include_members = bool(session.intents & gw.INTENT_GUILD_MEMBERS) or len(guilds) < 100
        for i, guild in enumerate(guilds):
            if session.invalidated:
                return
            if guild.id in self._guilds:
                session.dispatch(
                    "GUILD_CREATE", guild.to_create_payload(include_members=include_members)
                )
            if i % 50 == 49:
                await conn.drain()
        await conn.drain()
        session.ready = True
        self.ready_count += 1
        self._notify()

    def _members_chunk(self, session: gw.Session, d: dict[str, Any]) -> None:
        guild = self._guilds.get(int(d.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        if d.get("user_ids"):
            ids = {
                int(x)
                for x in (d["user_ids"] if isinstance(d["user_ids"], list) else [d["user_ids"]])
            }
            members = [m for m in members if m.id in ids]
        elif d.get("query"):
            q = str(d["query"]).lower()
            members = [m for m in members if m.name.lower().startswith(q)]
        limit = int(d.get("limit") or 0)
        if limit:
            members = members[:limit]
        session.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": [m.to_payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
                "nonce": d.get("nonce"),
            },
        )

    async def _resume(self, conn: gw.GatewayConnection, d: dict[str, Any]) -> None:
        session = self.sessions.get(str(d.get("session_id")))
        ok = (
            session is not None
            and not session.invalidated
            and d.get("token") == self.token
            and self._shard_sessions.get(session.shard_id) is session
        )
        frames = (
            session.replay_after(int(d.get("seq") or 0)) if session is not None and ok else None
        )
        if session is None or frames is None:
            self.stats["gateway:resume_rejected"] += 1
            conn.send_op(gw.INVALID_SESSION, False)
            return
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            session.conn = None
            await old.close(4000)
        session.conn = conn
        conn.session = session
        for text in frames:
            conn.send(text)
        session.dispatch("RESUMED", {"_trace": ["fakediscord"]})
        self.resume_count += 1
        self.stats["gateway:resume"] += 1
        await conn.drain()
        self._notify()

    # ======================================================================
    # REST plumbing
    # ======================================================================
    def _register_routes(self) -> None:
        bot = True
        hook = False
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/users/@me", self._r_me, bot),
            ("GET", "/users/{user_id}", self._r_user, bot),
            ("POST", "/users/@me/channels", self._r_create_dm, bot),
            ("GET", "/gateway", self._r_gateway, hook),
            ("GET", "/gateway/bot", self._r_gateway_bot, bot),
            ("GET", "/oauth2/applications/@me", self._r_appinfo, bot),
            ("GET", "/applications/@me", self._r_appinfo, bot),
            ("GET", "/applications/{application_id}/commands", self._r_list_commands, bot),
            ("PUT", "/applications/{application_id}/commands", self._r_put_commands, bot),
            ("POST", "/applications/{application_id}/commands", self._r_post_command, bot),
            (
                "GET",
                "/applications/{application_id}/commands/{command_id}",
                self._r_get_command,
                bot,
            ),
            (
                "PATCH",
                "/applications/{application_id}/commands/{command_id}",
                self._r_patch_command,
                bot,
            ),
            (
                "DELETE",
                "/applications/{application_id}/commands/{command_id}",
                self._r_delete_command,
                bot,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/permissions",
                self._r_command_permissions,
                bot,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._r_list_commands,
                bot,
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._r_put_commands,
                bot,
            ),
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._r_post_command,
                bot,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._r_get_command,
                bot,
            ),
            (
                "PATCH",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._r_patch_command,
                bot,
            ),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._r_delete_command,
                bot,
            ),
            (
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                self._r_callback,
                hook,
            ),
            ("POST", "/webhooks/{application_id}/{interaction_token}", self._r_followup, hook),
            (
                "GET",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self._r_webhook_get,
                hook,
            ),
            (
                "PATCH",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self._r_webhook_edit,
                hook,
            ),
            (
                "DELETE",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self._r_webhook_delete,
                hook,
            ),
            ("GET", "/channels/{channel_id}", self._r_get_channel, bot),
            ("GET", "/channels/{channel_id}/messages", self._r_list_messages, bot),
            ("POST", "/channels/{channel_id}/messages", self._r_create_message, bot),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._r_get_message, bot),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._r_edit_message, bot),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._r_delete_message, bot),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._r_react,
                bot,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._r_unreact,
                bot,
            ),
            ("POST", "/channels/{channel_id}/typing", self._r_typing, bot),
            ("GET", "/guilds/{guild_id}", self._r_get_guild, bot),
            ("GET", "/guilds/{guild_id}/channels", self._r_guild_channels, bot),
            ("GET", "/guilds/{guild_id}/roles", self._r_guild_roles, bot),
            ("GET", "/guilds/{guild_id}/members", self._r_guild_members, bot),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._r_guild_member, bot),
        ]
        self._routes = [(m, t, _route_regex(t), h, a) for m, t, h, a in table]

    def _match(self, method: str, path: str) -> tuple[str, Handler, bool, dict[str, str]] | None:
        for m, template, rx, handler, auth in self._routes:
            if m != method:
                continue
            mo = rx.match(path)
            if mo is not None:
                return template, handler, auth, mo.groupdict()
        return None

    def inject_429(
        self,
        method: str,
        route_pattern: str,
        count: int = 1,
        retry_after: float = 0.1,
        *,
        is_global: bool = False,
    ) -> None:
        """The next ``count`` matching requests get a 429. ``route_pattern`` is a route
        template (``/channels/{channel_id}/messages``) or a glob on the real path."""
        self._injections.append(
            _Injection(method.upper(), route_pattern, count, 429, retry_after, is_global)
        )

    def inject_error(
        self, method: str, route_pattern: str, status: int = 500, count: int = 1
    ) -> None:
        """The next ``count`` matching requests get ``status`` (e.g. 500, 502)."""
        self._injections.append(_Injection(method.upper(), route_pattern, count, status))

    def after_handling(
        self,
        method: str,
        template: str,
        then: Callable[[Any], Awaitable[Any]],
        count: int = 1,
    ) -> None:
        """For the next ``count`` requests to the route ``template``: do what Discord does
        (the message exists, fans see it), then ``await then(result)`` before answering. It may
        sleep (a slow Discord) or raise ``ApiError`` (an answer lost after the work was done,
        which only a nonce makes safe to retry); what it returns is the answer."""
        index = next(
            (n for n, route in enumerate(self._routes) if route[:2] == (method, template)), None
        )
        if index is None:
            raise AssertionError(f"the emulator has no route {method} {template}")
        _, _, pattern, handler, auth = self._routes[index]
        left = [count]

        async def handled_then(req: Any) -> Any:
            result = await handler(req)
            if left[0] > 0:
                left[0] -= 1
                return await then(result)
            return result

        self._routes[index] = (method, template, pattern, handled_then, auth)

    def _take_injection(self, method: str, template: str, path: str) -> _Injection | None:
        for inj in self._injections:
            if inj.remaining <= 0 or inj.method not in ("*", method):
                continue
            if inj.pattern == template or fnmatch.fnmatchcase(path, inj.pattern):
                inj.remaining -= 1
                return inj
        return None

    def _ratelimit_429(
        self, retry_after: float, *, scope: str, is_global: bool, bucket: str = ""
    ) -> web.Response:
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": is_global,
            "code": 0,
        }
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.bucket_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        self.stats["429"] += 1
        self.stats["429:global" if is_global else f"429:{scope}"] += 1
        return _json(body, status=429, headers=headers)

    def _bucket_key(self, template: str, params: dict[str, str]) -> tuple[str, str]:
        bucket_hash = hashlib.sha1(template.encode()).hexdigest()[:16]
        major = "+".join(
            params[k] for k in ("channel_id", "guild_id", "interaction_token") if k in params
        )
        if template.startswith("/webhooks/"):
            major = params.get("interaction_token", "")
        return bucket_hash, f"{bucket_hash}:{major}"

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        full = request.path
        if not full.startswith(API_PREFIX + "/"):
            return self._unknown_route(method, full)
        path = full[len(API_PREFIX) :]
        matched = self._match(method, path)
        if matched is None:
            return self._unknown_route(method, path)
        template, handler, needs_auth, params = matched
        route_key = f"{method} {template}"
        self.stats[route_key] += 1
        self.stats["requests"] += 1
        now = time.monotonic()

        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            self.stats["401"] += 1
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)

        # global rate limit (interaction endpoints are exempt, like on Discord)
        if needs_auth and self.global_rate_limit:
            win = self._global_window
            while win and win[0] <= now - 1.0:
                win.popleft()
            if len(win) >= self.global_rate_limit:
                return self._ratelimit_429(
                    win[0] + 1.0 - now + 0.01, scope="global", is_global=True
                )
            win.append(now)

        bucket_hash, bucket_key = self._bucket_key(template, params)
        inj = self._take_injection(method, template, path)
        if inj is not None:
            if inj.status == 429:
                self.stats["429:injected"] += 1
                return self._ratelimit_429(
                    inj.retry_after,
                    scope="shared" if not inj.is_global else "global",
                    is_global=inj.is_global,
                    bucket=bucket_hash,
                )
            self.stats["errors:injected"] += 1
            return _json({"message": f"{inj.status}: injected error", "code": 0}, status=inj.status)

        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            bucket = self._buckets[bucket_key] = _Bucket(self.bucket_limit, self.bucket_window)
        if now >= bucket.reset_at:
            bucket.reset_at = now + bucket.window
            bucket.used = 0
        if bucket.used >= bucket.limit:
            return self._ratelimit_429(
                bucket.reset_at - now, scope="user", is_global=False, bucket=bucket_hash
            )
        bucket.used += 1
        reset_after = max(0.0, bucket.reset_at - now)
        rl_headers = {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(bucket.limit - bucket.used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }

        try:
            payload, files = await self._read_body(request)
            req = _Request(
                method, path, template, params, dict(request.query), payload, files, request
            )
            self._check_schema(req)
            result = await handler(req)
        except ApiError as exc:
            self.stats[str(exc.status)] += 1
            self.request_log.append((time.time(), method, path, exc.status))
            return _json(exc.body(), status=exc.status, headers=rl_headers)
        self.request_log.append((time.time(), method, path, 200 if result is not None else 204))
        if result is None:
            return web.Response(status=204, headers=rl_headers)
        return _json(result, headers=rl_headers)

    def _unknown_route(self, method: str, path: str) -> web.Response:
        self.unknown_routes.append(UnknownRoute(method, path))
        self.stats["unknown_routes"] += 1
        self._notify()
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        files: list[tuple[str, str, bytes]] = []
        if ctype.startswith("multipart/"):
            payload: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not hasattr(part, "read"):
                    continue
                name = getattr(part, "name", None) or ""
                data = await part.read(decode=False)  # type: ignore[union-attr]
                if name == "payload_json":
                    payload = json.loads(bytes(data).decode())
                else:
                    files.append((name, getattr(part, "filename", None) or name, bytes(data)))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError as exc:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc

    def _violation(self, req: _Request, errors: list[FieldError], payload: Any = None) -> ApiError:
        v = Violation(req.method, req.path, errors, req.payload if payload is None else payload)
        self.violations.append(v)
        self.stats["violations"] += 1
        log.warning("violation: %s", v)
        self._notify()
        return ApiError(400, 50035, "Invalid Form Body", errors_to_discord(errors))

    def _check(self, req: _Request, errors: list[FieldError], payload: Any = None) -> None:
        if errors:
            raise self._violation(req, errors, payload)

    def _check_schema(self, req: _Request) -> None:
        """The body (a multipart's ``payload_json``) against Discord's OpenAPI schema, before
        the handler's own checks; a request without a body has nothing to check."""
        if self.schema is not None and req.payload is not None:
            errors = self.schema.check(req.method, req.template, req.params, req.payload)
            self._check(req, list[FieldError](errors))

    # ======================================================================
    # REST: users, gateway, application
    # ======================================================================
    async def _r_me(self, req: _Request) -> Any:
        return {
            **self.bot_user.to_payload(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
        }

    async def _r_user(self, req: _Request) -> Any:
        user = (
            self.users.get(int(req.params["user_id"])) if req.params["user_id"].isdigit() else None
        )
        if user is None:
            raise _unknown("User", 10013)
        return user.to_payload()

    async def _r_create_dm(self, req: _Request) -> Any:
        rid = int((req.payload or {}).get("recipient_id", 0))
        user = self.users.get(rid)
        if user is None:
            raise _unknown("User", 10013)
        ch = self._dm_channels.get(rid)
        if ch is None:
            ch = Channel(snowflake(), None, "", type=DM, recipients=[user])
            self._dm_channels[rid] = ch
            self.channels[ch.id] = ch
        return ch.to_payload()

    def dm_channel(self, user: User | Member) -> Channel | None:
        """The DM channel the bot opened with ``user`` (if any)."""
        return self._dm_channels.get(user.id)

    async def _r_gateway(self, req: _Request) -> Any:
        return {"url": self.gateway_url}

    async def _r_gateway_bot(self, req: _Request) -> Any:
        return {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    async def _r_appinfo(self, req: _Request) -> Any:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.owner_user.to_payload(),
            "team": None,
            "bot": self.bot_user.to_payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "install_params": None,
            "custom_install_url": None,
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "guild_id": None,
            "primary_sku_id": None,
            "slug": None,
            "cover_image": None,
        }

    # ======================================================================
    # REST: application commands
    # ======================================================================
    def _command_store(self, req: _Request) -> tuple[dict[int, dict[str, Any]], int | None]:
        if int(req.params["application_id"]) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        gid = req.params.get("guild_id")
        if gid is None:
            return self.global_commands, None
        if not gid.isdigit() or int(gid) not in self._guilds:
            raise ApiError(403, 50001, "Missing Access")
        return self.guild_commands.setdefault(int(gid), {}), int(gid)

    def _store_command(
        self, cmd: dict[str, Any], guild_id: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        stored = copy.deepcopy(cmd)
        stored.setdefault("type", 1)
        stored["id"] = existing["id"] if existing else str(snowflake())
        stored["application_id"] = str(self.application_id)
        stored["version"] = str(snowflake())
        stored.setdefault("description", "")
        stored.setdefault("default_member_permissions", None)
        stored.setdefault("nsfw", False)
        stored.setdefault("options", [])
        stored.setdefault("name_localizations", None)
        stored.setdefault("description_localizations", None)
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        else:
            stored.setdefault("integration_types", [0])
            stored.setdefault("contexts", None)
            stored.setdefault("dm_permission", True)
        return stored

    async def _r_list_commands(self, req: _Request) -> Any:
        store, _ = self._command_store(req)
        return list(store.values())

    async def _r_put_commands(self, req: _Request) -> Any:
        store, gid = self._command_store(req)
        self._check(req, validate_command_list(req.payload, guild=gid is not None))
        by_key = {(c.get("type", 1), c["name"]): c for c in store.values()}
        new: dict[int, dict[str, Any]] = {}
        for cmd in req.payload:
            stored = self._store_command(cmd, gid, by_key.get((cmd.get("type", 1), cmd["name"])))
            new[int(stored["id"])] = stored
        store.clear()
        store.update(new)
        self.stats["commands:bulk_overwrite"] += 1
        self._notify()
        return list(store.values())

    async def _r_post_command(self, req: _Request) -> Any:
        store, gid = self._command_store(req)
        self._check(req, validate_command(req.payload))
        key = (req.payload.get("type", 1), req.payload["name"])
        existing = next((c for c in store.values() if (c.get("type", 1), c["name"]) == key), None)
        errors = validate_command_list(
            [*(c for c in store.values() if c is not existing), req.payload], guild=gid is not None
        )
        self._check(req, errors)
        stored = self._store_command(req.payload, gid, existing)
        store[int(stored["id"])] = stored
        self._notify()
        return stored

    def _get_stored_command(
        self, req: _Request
    ) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        store, _ = self._command_store(req)
        cid = req.params["command_id"]
        cmd = store.get(int(cid)) if cid.isdigit() else None
        if cmd is None:
            raise _unknown("application command", 10063)
        return store, cmd

    async def _r_get_command(self, req: _Request) -> Any:
        return self._get_stored_command(req)[1]

    async def _r_patch_command(self, req: _Request) -> Any:
        store, cmd = self._get_stored_command(req)
        merged = {**cmd, **(req.payload or {})}
        self._check(req, validate_command(merged))
        merged["version"] = str(snowflake())
        store[int(cmd["id"])] = merged
        self._notify()
        return merged

    async def _r_delete_command(self, req: _Request) -> Any:
        store, cmd = self._get_stored_command(req)
        del store[int(cmd["id"])]
        self._notify()
        return None

    async def _r_command_permissions(self, req: _Request) -> Any:
        self._command_store(req)
        return []

    def _find_command(
        self, name: str, guild: Guild | None, ctype: int = 1
    ) -> dict[str, Any] | None:
        stores: list[dict[int, dict[str, Any]]] = []
        if guild is not None:
            stores.append(self.guild_commands.get(guild.id, {}))
        stores.append(self.global_commands)
        for store in stores:
            for cmd in store.values():
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd
        return None

    @property
    def commands(self) -> dict[str, dict[str, Any]]:
        """Registered global commands by name."""
        return {c["name"]: c for c in self.global_commands.values()}

    # ======================================================================
    # REST: channels and messages
    # ======================================================================
    def _channel(self, req: _Request) -> Channel:
        cid = req.params["channel_id"]
        ch = self.channels.get(int(cid)) if cid.isdigit() else None
        if ch is None or ch.deleted:
            raise _unknown("Channel", 10003)
        return ch

    def _require(self, ch: Channel, *bits: int) -> None:
        if ch.guild_id is None:
            return
        perms = self.app_permissions(ch)
        if not perms & P.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        for bit in bits:
            if not perms & bit:
                raise ApiError(403, 50013, "Missing Permissions")

    def _message_in(self, ch: Channel, req: _Request) -> Message:
        mid = req.params["message_id"]
        msg = self.messages.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg.deleted or msg.channel_id != ch.id or msg.is_ephemeral:
            raise _unknown("Message", 10008)
        return msg

    async def _r_get_channel(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        return ch.to_payload()

    async def _r_typing(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.SEND_MESSAGES)
        return None

    async def _r_list_messages(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.READ_MESSAGE_HISTORY)
        msgs = sorted(self.channel_messages(ch), key=lambda m: m.id, reverse=True)
        q = req.query
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])]
        limit = max(1, min(100, int(q.get("limit", 50))))
        return [m.to_payload() for m in msgs[:limit]]

    async def _r_get_message(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.READ_MESSAGE_HISTORY)
        return self._message_in(ch, req).to_payload()

    def _apply_attachments(
        self,
        msg: Message,
        payload: dict[str, Any],
        files: list[tuple[str, str, bytes]],
        *,
        edit: bool,
    ) -> None:
        if not files and "attachments" not in payload:
            return
        keep: list[dict[str, Any]] = []
        if edit:
            wanted = {str(a.get("id")) for a in payload.get("attachments") or []}
            keep = [a for a in msg.attachments if a["id"] in wanted]
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
                    "url": f"{self.base_url}/attachments/{msg.channel_id}/{aid}/{fname}",
                    "proxy_url": f"{self.base_url}/attachments/{msg.channel_id}/{aid}/{fname}",
                    "content_type": "application/octet-stream",
                }
            )
        msg.attachments = keep

    def _new_message(
        self, ch: Channel, payload: dict[str, Any], files: list[tuple[str, str, bytes]], **kw: Any
    ) -> Message:
        msg = Message(
            snowflake(),
            ch.id,
            ch.guild_id,
            self.bot_user,
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
            self._channel_messages.setdefault(ch.id, []).append(msg.id)
            ch.last_message_id = msg.id
            self._message_event("MESSAGE_CREATE", msg)
        self._notify()
        return msg

    def _edit(
        self, msg: Message, payload: dict[str, Any], files: list[tuple[str, str, bytes]]
    ) -> Message:
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
        self._notify()
        return msg

    def _delete(self, msg: Message) -> None:
        msg.deleted = True
        if not msg.is_ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self._message_event("MESSAGE_DELETE", msg, data)
        self._notify()

    def _message_event(self, event: str, msg: Message, data: dict[str, Any] | None = None) -> None:
        session = self._session_for_guild(msg.guild_id)
        intent = gw.INTENT_GUILD_MESSAGES if msg.guild_id else gw.INTENT_DIRECT_MESSAGES
        if session is not None and session.wants(intent):
            session.dispatch(event, data if data is not None else msg.to_payload())

    def _drop_embeds_without_permission(self, ch: Channel, payload: dict[str, Any]) -> None:
        if (
            ch.guild_id is not None
            and payload.get("embeds")
            and not self.app_permissions(ch) & P.EMBED_LINKS
        ):
            payload["embeds"] = []
            self.stats["embeds_dropped"] += 1

    async def _r_create_message(self, req: _Request) -> Any:
        ch = self._channel(req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        errors = validate_message(payload)
        if req.files:
            errors = [e for e in errors if e.code != "MESSAGE_EMPTY"]
        if len(errors) == 1 and errors[0].code == "MESSAGE_EMPTY":
            self.violations.append(Violation(req.method, req.path, errors, payload))
            raise ApiError(400, 50006, "Cannot send an empty message")
        self._check(req, errors, payload)
        self._require(ch, P.SEND_MESSAGES)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            key = (ch.id, str(nonce))
            prev = self._nonces.get(key)
            if prev is not None and time.monotonic() - prev[1] < 300:
                self.stats["nonce:deduplicated"] += 1
                return self.messages[prev[0]].to_payload()
        payload = dict(payload)
        self._drop_embeds_without_permission(ch, payload)
        msg = self._new_message(ch, payload, req.files)
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[(ch.id, str(nonce))] = (msg.id, time.monotonic())
        return msg.to_payload()

    async def _r_edit_message(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        if msg.author.id != self.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload = req.payload if isinstance(req.payload, dict) else {}
        self._check(req, validate_message(payload, edit=True), payload)
        payload = dict(payload)
        self._drop_embeds_without_permission(ch, payload)
        return self._edit(msg, payload, req.files).to_payload()

    async def _r_delete_message(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        if msg.author.id != self.bot_user.id:
            self._require(ch, P.MANAGE_MESSAGES)
        self._delete(msg)
        return None

    async def _r_react(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch, P.READ_MESSAGE_HISTORY, P.ADD_REACTIONS)
        msg = self._message_in(ch, req)
        from urllib.parse import unquote

        msg.reactions.setdefault(unquote(req.params["emoji"]), set()).add(self.bot_user.id)
        self._notify()
        return None

    async def _r_unreact(self, req: _Request) -> Any:
        ch = self._channel(req)
        self._require(ch)
        msg = self._message_in(ch, req)
        from urllib.parse import unquote

        msg.reactions.get(unquote(req.params["emoji"]), set()).discard(self.bot_user.id)
        self._notify()
        return None

    # ======================================================================
    # REST: guilds
    # ======================================================================
    def _guild(self, req: _Request) -> Guild:
        gid = req.params["guild_id"]
        guild = self._guilds.get(int(gid)) if gid.isdigit() else None
        if guild is None:
            raise _unknown("Guild", 10004)
        return guild

    async def _r_get_guild(self, req: _Request) -> Any:
        guild = self._guild(req)
        data = guild.to_payload()
        if req.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    async def _r_guild_channels(self, req: _Request) -> Any:
        guild = self._guild(req)
        return [c.to_payload() for c in guild.channels.values() if not c.deleted]

    async def _r_guild_roles(self, req: _Request) -> Any:
        return [r.to_payload() for r in self._guild(req).roles.values()]

    async def _r_guild_members(self, req: _Request) -> Any:
        guild = self._guild(req)
        limit = max(1, min(1000, int(req.query.get("limit", 1))))
        after = int(req.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return [m.to_payload() for m in members[:limit]]

    async def _r_guild_member(self, req: _Request) -> Any:
        guild = self._guild(req)
        uid = req.params["user_id"]
        member = guild.members.get(int(uid)) if uid.isdigit() else None
        if member is None:
            raise _unknown("Member", 10007)
        return member.to_payload()

    # ======================================================================
    # REST: interaction callbacks and webhooks
    # ======================================================================
    async def _r_callback(self, req: _Request) -> Any:
        iid = req.params["interaction_id"]
        inter = self.interactions.get(int(iid)) if iid.isdigit() else None
        if inter is None or inter.token != req.params["interaction_token"]:
            raise _unknown("interaction", 10062)
        self.stats["callbacks"] += 1
        elapsed = time.monotonic() - inter.dispatched_at
        if inter.callback is not None:
            inter.rejected.append({"status": 400, "code": 40060, "payload": req.payload})
            self.stats["callbacks:double"] += 1
            self._notify()
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.interaction_deadline:
            inter.rejected.append(
                {"status": 404, "code": 10062, "payload": req.payload, "elapsed": elapsed}
            )
            self.late_callbacks.append(inter)
            self.stats["callbacks:late"] += 1
            self._notify()
            raise _unknown("interaction", 10062)
        body = req.payload if isinstance(req.payload, dict) else {}
        ctype = body.get("type")
        data = body.get("data") or {}
        allowed = {
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6, 7},
        }.get(inter.type, set())
        if ctype not in allowed:
            raise self._violation(
                req,
                [
                    FieldError(
                        ("type",),
                        "INTERACTION_CALLBACK_TYPE_INVALID",
                        f"Callback type {ctype!r} is not valid for interaction type {inter.type}",
                    )
                ],
            )
        if ctype in (4, 7):
            self._check(req, validate_message(data, interaction=True, edit=ctype == 7), body)
        elif ctype == 5 and data.get("flags") and data["flags"] & ~FLAG_EPHEMERAL:
            raise self._violation(
                req, [FieldError(("data", "flags"), "MESSAGE_FLAGS_INVALID", "Invalid flags")]
            )
        elif ctype == 8:
            self._check(req, validate_autocomplete(data), body)
            self._check_choice_types(req, inter, data, body)
        elif ctype == 9:
            self._check(req, validate_modal(data), body)

        message: Message | None = None
        if ctype in (4, 5):
            flags = int(data.get("flags") or 0)
            payload = (
                dict(data) if ctype == 4 else {"flags": (flags & FLAG_EPHEMERAL) | FLAG_LOADING}
            )
            if ctype == 4:
                payload["flags"] = flags
            message = self._new_message(
                inter.channel,
                payload,
                req.files if ctype == 4 else [],
                interaction_id=inter.id,
                interaction_user=inter.user.user if isinstance(inter.user, Member) else inter.user,
                interaction_name=inter.command_name,
                interaction_type=inter.type,
                webhook_id=self.application_id,
            )
            inter.original_id = message.id
        elif ctype in (6, 7):
            inter.original_id = inter.source_message_id
            if ctype == 7:
                src = self.messages.get(inter.source_message_id or 0)
                if src is None or src.deleted:
                    raise _unknown("Message", 10008)
                message = self._edit(src, data, req.files)
        latency = time.monotonic() - inter.dispatched_at
        inter.callback = CallbackResponse(int(ctype), copy.deepcopy(data), latency, message)
        self.latencies.append(latency)
        self._notify()
        if req.query.get("with_response") not in ("1", "true", "True"):
            return None
        result: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(message and message.is_ephemeral),
            }
        }
        if message is not None:
            result["resource"] = {"type": ctype, "message": message.to_payload()}
        elif ctype != 6:
            result["resource"] = {"type": ctype}
        return result

    def _check_choice_types(
        self, req: _Request, inter: Interaction, data: dict[str, Any], body: Any
    ) -> None:
        focused = inter.focused_type
        errors = []
        for i, ch in enumerate(data.get("choices") or []):
            val = ch.get("value")
            if focused == 3 and not isinstance(val, str):
                errors.append(
                    FieldError(
                        ("data", "choices", i, "value"),
                        "STRING_TYPE_CONVERT",
                        "Choice value must be a string for a string option",
                    )
                )
            if focused == 4 and (not isinstance(val, int) or isinstance(val, bool)):
                errors.append(
                    FieldError(
                        ("data", "choices", i, "value"),
                        "NUMBER_TYPE_COERCE",
                        "Choice value must be an integer for an integer option",
                    )
                )
        self._check(req, errors, body)

    def _webhook_interaction(self, req: _Request) -> Interaction:
        inter = self._by_token.get(req.params["interaction_token"])
        if inter is None or req.params["application_id"] != str(self.application_id):
            raise _unknown("Webhook", 10015)
        if time.monotonic() - inter.dispatched_at > self.webhook_ttl:
            self.stats["webhooks:expired"] += 1
            raise _unknown("Webhook", 10015)
        if inter.callback is None:
            raise _unknown("Webhook", 10015)
        return inter

    def _webhook_message(self, inter: Interaction, req: _Request) -> Message:
        mid = req.params["message_id"]
        if mid == "@original":
            if inter.original_id is None:
                raise _unknown("Message", 10008)
            msg = self.messages.get(inter.original_id)
        else:
            msg = self.messages.get(int(mid)) if mid.isdigit() else None
            if msg is not None and msg.id not in (inter.original_id, *inter.followup_ids):
                msg = None
        if msg is None or msg.deleted:
            raise _unknown("Message", 10008)
        return msg

    async def _r_followup(self, req: _Request) -> Any:
        inter = self._webhook_interaction(req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        self._check(req, validate_message(payload, interaction=True), payload)
        self.stats["followups"] += 1
        original = inter.original_message
        if (
            original is not None
            and original.is_loading
            and inter.callback
            and inter.callback.type == 5
        ):
            # The first followup after a deferred response replaces the "thinking" message.
            msg = self._edit(
                original, {k: v for k, v in payload.items() if k != "flags"}, req.files
            )
        else:
            msg = self._new_message(
                inter.channel,
                payload,
                req.files,
                interaction_id=inter.id,
                interaction_user=inter.user.user if isinstance(inter.user, Member) else inter.user,
                interaction_name=inter.command_name,
                interaction_type=inter.type,
                webhook_id=self.application_id,
            )
            inter.followup_ids.append(msg.id)
        self._notify()
        if req.query.get("wait") in ("1", "true", "True"):
            return msg.to_payload()
        return None

    async def _r_webhook_get(self, req: _Request) -> Any:
        inter = self._webhook_interaction(req)
        return self._webhook_message(inter, req).to_payload()

    async def _r_webhook_edit(self, req: _Request) -> Any:
        inter = self._webhook_interaction(req)
        msg = self._webhook_message(inter, req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        self._check(req, validate_message(payload, interaction=True, edit=True), payload)
        return self._edit(msg, payload, req.files).to_payload()

    async def _r_webhook_delete(self, req: _Request) -> Any:
        inter = self._webhook_interaction(req)
        self._delete(self._webhook_message(inter, req))
        return None

    # ======================================================================
    # driver: acting as Discord users
    # ======================================================================
    def _new_interaction(
        self,
        itype: int,
        guild: Guild | None,
        channel: Channel,
        user: Member | User,
        data: dict[str, Any],
        *,
        message: Message | None = None,
        locale: str = "en-US",
        name: str = "",
    ) -> Interaction:
        session = self._session_for_guild(guild.id if guild else None)
        if session is None:
            raise AssertionError("the bot is not connected to the emulator's gateway (no session)")
        if channel.deleted:
            raise AssertionError(f"channel {channel.name!r} was deleted")
        iid = snowflake()
        token = f"aW50ZXJhY3Rpb246{iid}:" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
        }
        if guild is not None:
            assert isinstance(user, Member), "guild interactions need a Member"
            if user.id not in guild.members:
                raise AssertionError(f"{user.name!r} is not a member of guild {guild.name!r}")
            member_perms = guild.permissions_in(user, channel)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=user.to_payload(permissions=member_perms),
                app_permissions=str(self.app_permissions(channel)),
                channel={**channel.to_payload(), "permissions": str(member_perms)},
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            u = user.user if isinstance(user, Member) else user
            payload.update(
                user=u.to_payload(),
                app_permissions=str(P.ALL & ~P.ADMINISTRATOR),
                channel=channel.to_payload(),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.to_payload()
        inter = Interaction(
            self, iid, token, itype, payload, guild, channel, user, command_name=name
        )
        if message is not None:
            inter.source_message_id = message.id
        self.interactions[iid] = inter
        self._by_token[token] = inter
        self.stats[f"interactions:type{itype}"] += 1
        inter.dispatched_at = time.monotonic()
        session.dispatch("INTERACTION_CREATE", payload)
        return inter

    def _resolve_command(
        self, guild: Guild | None, full_name: str
    ) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
        parts = full_name.strip().lstrip("/").split()
        cmd = self._find_command(parts[0], guild)
        if cmd is None:
            raise AssertionError(
                f"no registered slash command {parts[0]!r}; registered: "
                f"{sorted({c['name'] for c in self._all_commands(guild)})}"
            )
        options: list[dict[str, Any]] = cmd.get("options") or []
        path: list[str] = []
        for part in parts[1:]:
            sub = next((o for o in options if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                raise AssertionError(
                    f"command {cmd['name']!r} has no subcommand (group) {part!r} at {path}"
                )
            path.append(part)
            options = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            subs = [o["name"] for o in options if o["type"] in (1, 2)]
            raise AssertionError(f"{full_name!r} needs a subcommand: one of {subs}")
        return cmd, path, options

    def _all_commands(self, guild: Guild | None) -> list[dict[str, Any]]:
        out = list(self.global_commands.values())
        if guild is not None:
            out += list(self.guild_commands.get(guild.id, {}).values())
        return out

    def _check_can_use(
        self, cmd: dict[str, Any], guild: Guild | None, channel: Channel, user: Member | User
    ) -> None:
        if guild is None or not isinstance(user, Member):
            return
        perms = guild.permissions_in(user, channel)
        if not perms & P.VIEW_CHANNEL:
            raise AssertionError(f"{user.name!r} cannot see channel {channel.name!r}")
        if not perms & P.USE_APPLICATION_COMMANDS:
            raise AssertionError(
                f"{user.name!r} lacks USE_APPLICATION_COMMANDS in {channel.name!r}"
            )
        required = cmd.get("default_member_permissions")
        if required is not None and not P.has(perms, int(required)):
            raise AssertionError(
                f"{user.name!r} cannot use /{cmd['name']} (default_member_permissions={required}); "
                "Discord would not show the command"
            )

    def _option_value(
        self,
        opt: dict[str, Any],
        value: Any,
        guild: Guild | None,
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        *,
        focused: bool = False,
    ) -> Any:
        t = opt["type"]
        name = opt["name"]
        if focused:
            return str(value)
        if t == 3:
            if not isinstance(value, str):
                raise AssertionError(f"option {name!r} is a string option, got {value!r}")
            lo, hi = opt.get("min_length"), opt.get("max_length")
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
                raise AssertionError(
                    f"option {name!r}: length must be in [{lo}, {hi}], got {len(value)}"
                )
        elif t == 4:
            if not isinstance(value, int) or isinstance(value, bool):
                raise AssertionError(f"option {name!r} is an integer option, got {value!r}")
        elif t == 10:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise AssertionError(f"option {name!r} is a number option, got {value!r}")
        elif t == 5 and not isinstance(value, bool):
            raise AssertionError(f"option {name!r} is a boolean option, got {value!r}")
        if t in (4, 10):
            lo, hi = opt.get("min_value"), opt.get("max_value")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise AssertionError(f"option {name!r}: value must be in [{lo}, {hi}], got {value}")
        if t in (3, 4, 10) and opt.get("choices"):
            allowed = [c["value"] for c in opt["choices"]]
            if value not in allowed:
                raise AssertionError(
                    f"option {name!r}: {value!r} is not one of the choices {allowed}"
                )
        if t in (6, 9) and isinstance(value, Member | User):
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
            member = guild.members.get(user.id) if guild else None
            if member is not None and guild is not None:
                resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                    with_user=False, permissions=guild.permissions_in(member, channel)
                )
            return str(user.id)
        if t in (8, 9) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
            return str(value.id)
        if t == 7 and isinstance(value, Channel):
            types = opt.get("channel_types")
            if types and value.type not in types:
                raise AssertionError(f"option {name!r}: channel type {value.type} not in {types}")
            data = value.to_payload()
            if guild is not None:
                data["permissions"] = str(guild.permissions_in(guild.me, value))
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if t in (6, 7, 8, 9, 11):
            raise AssertionError(
                f"option {name!r} (type {t}) needs a Member/User/Role/Channel object, got {value!r}"
            )
        return value

    def _build_options(
        self,
        leaf_options: list[dict[str, Any]],
        values: dict[str, Any],
        guild: Guild | None,
        channel: Channel,
        *,
        focused: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], int | None]:
        known = {o["name"]: o for o in leaf_options}
        for key in values:
            if key not in known:
                raise AssertionError(f"unknown option {key!r}; the command has {sorted(known)}")
        resolved: dict[str, dict[str, Any]] = {}
        out: list[dict[str, Any]] = []
        focused_type: int | None = None
        for opt in leaf_options:
            name = opt["name"]
            if name not in values:
                if opt.get("required") and focused is None:
                    raise AssertionError(f"required option {name!r} missing")
                continue
            is_focused = name == focused
            if is_focused and not opt.get("autocomplete"):
                raise AssertionError(f"option {name!r} does not have autocomplete enabled")
            item: dict[str, Any] = {
                "name": name,
                "type": opt["type"],
                "value": self._option_value(
                    opt, values[name], guild, resolved, channel, focused=is_focused
                ),
            }
            if is_focused:
                item["focused"] = True
                focused_type = opt["type"]
            out.append(item)
        return out, resolved, focused_type

    def _command_data(
        self,
        cmd: dict[str, Any],
        path: list[str],
        options: list[dict[str, Any]],
        resolved: dict[str, Any],
    ) -> dict[str, Any]:
        nested = options
        for name in reversed(path):
            sub_type = 1 if name == path[-1] else 2
            nested = [{"name": name, "type": sub_type, "options": nested}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": cmd.get("type", 1)}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    async def _await_command(self, guild: Guild | None, name: str) -> None:
        first = name.strip().lstrip("/").split()[0]
        with contextlib.suppress(AssertionError):
            await self.wait_until(
                lambda: self._find_command(first, guild) is not None,
                self.command_wait,
                f"command {first!r}",
            )

    async def slash(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        options: dict[str, Any] | None = None,
        /,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        """Invoke a slash command (``"trivia play"`` for subcommands) as ``member``."""
        await self._await_command(guild, command)
        cmd, path, leaf = self._resolve_command(guild, command)
        self._check_can_use(cmd, guild, channel, member)
        values = {**(options or {}), **kw_options}
        opts, resolved, _ = self._build_options(leaf, values, guild, channel)
        data = self._command_data(cmd, path, opts, resolved)
        return self._new_interaction(2, guild, channel, member, data, locale=locale, name=command)

    async def autocomplete(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        /,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        timeout: float = 5.0,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> list[dict[str, Any]]:
        """Type ``value`` into option ``focused`` and return the bot's choices."""
        inter = await self.autocomplete_interaction(
            guild, channel, member, command, focused, value, options, locale=locale, **kw_options
        )
        resp = await inter.response(timeout)
        return resp.choices

    async def autocomplete_interaction(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        /,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        await self._await_command(guild, command)
        cmd, path, leaf = self._resolve_command(guild, command)
        self._check_can_use(cmd, guild, channel, member)
        values = {**(options or {}), **kw_options, focused: value}
        opts, resolved, ftype = self._build_options(leaf, values, guild, channel, focused=focused)
        data = self._command_data(cmd, path, opts, resolved)
        inter = self._new_interaction(4, guild, channel, member, data, locale=locale, name=command)
        inter.focused_type = ftype
        return inter

    def _as_message(self, message: Message | Interaction | int) -> Message:
        if isinstance(message, Interaction):
            return message.message
        if isinstance(message, int):
            return self.messages[message]
        return self.messages.get(message.id, message)

    def _check_component_access(self, msg: Message, member: Member | User) -> None:
        if msg.deleted:
            raise AssertionError(f"message {msg.id} was deleted")
        if (
            msg.is_ephemeral
            and msg.interaction_user is not None
            and msg.interaction_user.id != member.id
        ):
            raise AssertionError(
                f"message {msg.id} is ephemeral; only {msg.interaction_user.username!r} can use it"
            )

    async def click(
        self,
        message: Message | Interaction | int,
        label_or_custom_id: str,
        member: Member | User,
        channel: Channel | None = None,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Click a button on a message the bot sent."""
        msg = self._as_message(message)
        self._check_component_access(msg, member)
        button = msg.button(label_or_custom_id)
        if button.get("disabled"):
            raise AssertionError(f"button {label_or_custom_id!r} on message {msg.id} is disabled")
        if button.get("style") == 5 or "custom_id" not in button:
            raise AssertionError(
                f"button {label_or_custom_id!r} is a link/premium button; "
                "clicking it sends no interaction"
            )
        channel = channel or self.channels[msg.channel_id]
        guild = self._guilds.get(msg.guild_id) if msg.guild_id else None
        data: dict[str, Any] = {"custom_id": button["custom_id"], "component_type": 2}
        if "id" in button:
            data["id"] = button["id"]
        return self._new_interaction(
            3,
            guild,
            channel,
            member,
            data,
            message=msg,
            locale=locale,
            name=str(button["custom_id"]),
        )

    async def select(
        self,
        message: Message | Interaction | int,
        custom_id: str,
        values: list[Any],
        member: Member | User,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Pick ``values`` in a select menu (by custom_id or placeholder)."""
        msg = self._as_message(message)
        self._check_component_access(msg, member)
        sel = next(
            (
                c
                for c in msg.all_components
                if c.get("type") in (3, 5, 6, 7, 8)
                and custom_id in (c.get("custom_id"), c.get("placeholder"))
            ),
            None,
        )
        if sel is None:
            raise AssertionError(f"message {msg.id} has no select {custom_id!r}")
        if sel.get("disabled"):
            raise AssertionError(f"select {custom_id!r} is disabled")
        lo, hi = sel.get("min_values", 1), sel.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
        channel = self.channels[msg.channel_id]
        guild = self._guilds.get(msg.guild_id) if msg.guild_id else None
        resolved: dict[str, dict[str, Any]] = {}
        str_values: list[str] = []
        if sel["type"] == 3:
            allowed = [o["value"] for o in sel.get("options", [])]
            for v in values:
                if v not in allowed:
                    raise AssertionError(
                        f"{v!r} is not an option of select {custom_id!r}: {allowed}"
                    )
            str_values = [str(v) for v in values]
        else:
            fake_opt_type = {5: 6, 6: 8, 7: 9, 8: 7}[sel["type"]]
            for v in values:
                str_values.append(
                    self._option_value(
                        {"type": fake_opt_type, "name": custom_id}, v, guild, resolved, channel
                    )
                )
        data: dict[str, Any] = {
            "custom_id": sel["custom_id"],
            "component_type": sel["type"],
            "values": str_values,
        }
        if resolved:
            data["resolved"] = resolved
        return self._new_interaction(
            3, guild, channel, member, data, message=msg, locale=locale, name=str(sel["custom_id"])
        )

    async def submit_modal(
        self,
        opened_by: Interaction,
        values: dict[str, str],
        member: Member | User | None = None,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Fill in and submit the modal the bot opened in response to ``opened_by``."""
        cb = opened_by.callback
        if cb is None or cb.type != 9:
            raise AssertionError(
                f"{opened_by!r} did not open a modal (response: {cb and cb.type_name})"
            )
        member = member or opened_by.user
        modal = cb.data
        remaining = dict(values)
        out: list[dict[str, Any]] = []

        def fill(comp: dict[str, Any], label: str | None) -> dict[str, Any]:
            cid = comp.get("custom_id")
            key = cid if cid in remaining else (label if label in remaining else None)
            if comp.get("type") == 4:
                value = remaining.pop(key) if key is not None else str(comp.get("value") or "")
                if comp.get("required", True) and not value:
                    raise AssertionError(f"required text input {label or cid!r} left empty")
                lo, hi = comp.get("min_length"), comp.get("max_length")
                if value and (
                    (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)
                ):
                    raise AssertionError(
                        f"text input {label or cid!r}: length must be in [{lo}, {hi}]"
                    )
                res = {"type": 4, "custom_id": cid, "value": value}
            else:
                chosen = remaining.pop(key) if key is not None else []
                res = {
                    "type": comp.get("type"),
                    "custom_id": cid,
                    "values": chosen if isinstance(chosen, list) else [chosen],
                }
            if "id" in comp:
                res["id"] = comp["id"]
            return res

        for row in modal.get("components", []):
            if row.get("type") == 1:
                inner = [fill(c, c.get("label")) for c in row.get("components", [])]
                out.append(
                    {"type": 1, **({"id": row["id"]} if "id" in row else {}), "components": inner}
                )
            elif row.get("type") == 18:
                out.append(
                    {
                        "type": 18,
                        **({"id": row["id"]} if "id" in row else {}),
                        "component": fill(row["component"], row.get("label")),
                    }
                )
            elif row.get("type") == 10:
                out.append({"type": 10, **({"id": row["id"]} if "id" in row else {})})
        if remaining:
            raise AssertionError(
                f"modal {modal.get('custom_id')!r} has no fields {sorted(remaining)}"
            )
        data = {"custom_id": modal["custom_id"], "components": out}
        src = self.messages.get(opened_by.source_message_id or 0)
        inter = self._new_interaction(
            5,
            opened_by.guild,
            opened_by.channel,
            member,
            data,
            message=src,
            locale=locale,
            name=str(modal["custom_id"]),
        )
        return inter
