"""The gateway's websocket endpoint: HELLO, heartbeats, IDENTIFY (READY and streamed
GUILD_CREATEs), RESUME with replay, REQUEST_GUILD_MEMBERS, and the faults a test injects
(closing connections, RECONNECT, INVALID_SESSION). The protocol pieces are in gateway.py."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import WSMsgType, web

from . import gateway as gw
from .context import Context
from .gateway import GatewayConnection, Session, Shards
from .models import Guild
from .rest import Checks, Violation
from .validation import FieldError
from .world import World

IdentifyHandler = Callable[[GatewayConnection, dict[str, Any]], Awaitable[None]]


class GatewayServer:
    def __init__(
        self,
        ctx: Context,
        world: World,
        shards: Shards,
        checks: Checks,
        *,
        heartbeat_interval: int,
        replay_limit: int,
        privileged_intents: bool,
    ) -> None:
        self.ctx = ctx
        self.world = world
        self.shards = shards
        self.checks = checks
        self.heartbeat_interval = heartbeat_interval
        self.replay_limit = replay_limit
        self.privileged_intents = privileged_intents
        # Guilds one shard may hold; past it IDENTIFY is closed with 4011 (None: no limit).
        self.max_guilds_per_shard: int | None = None
        # Discord's IDENTIFY window: one per rate-limit bucket (shard_id % max_concurrency)
        # per this many seconds; tests shrink it
        self.identify_spacing = 5.0
        self.connections: set[GatewayConnection] = set()
        self.identify_count = 0
        self.ready_count = 0
        self.resume_count = 0
        self.gateway_log: list[tuple[str, Any]] = []
        # What an IDENTIFY runs: the facade points it at its own ``_identify`` (a subclass may
        # wrap that), which calls :meth:`identify`.
        self.on_identify: IdentifyHandler = self.identify
        self._tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ======================================================================
    # waiting
    # ======================================================================
    async def wait_for_ready(
        self, after: int = 0, timeout: float = 30.0, *, shard_ids: Iterable[int] | None = None
    ) -> None:
        """Wait until more than ``after`` READY+GUILD_CREATE sequences completed and every shard
        (or each of ``shard_ids``, for a bot that runs some of them) has a connected session
        that got its GUILD_CREATEs."""
        wanted = None if shard_ids is None else frozenset(shard_ids)
        await self.ctx.wait_until(
            lambda: self.ready_count >= after + 1 and self.shards.all_ready(wanted, after=after),
            timeout,
            "the bot to IDENTIFY and receive all GUILD_CREATEs"
            + (f" (shards {sorted(wanted)})" if wanted is not None else ""),
        )

    async def wait_for_resume(self, after: int, timeout: float = 15.0) -> None:
        await self.ctx.wait_until(lambda: self.resume_count > after, timeout, "the bot to RESUME")

    # ======================================================================
    # faults
    # ======================================================================
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
        self.ctx.notify()

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection (the client should resume)."""
        for conn in list(self.connections):
            conn.send_op(gw.RECONNECT, None)

    def invalidate_sessions(self, resumable: bool = False) -> None:
        for conn in list(self.connections):
            if conn.session is not None and not resumable:
                conn.session.invalidated = True
            conn.send_op(gw.INVALID_SESSION, resumable)

    # ======================================================================
    # the websocket
    # ======================================================================
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        # zlib-stream when asked; anything else (e.g. zstd-stream) falls back to plain
        # JSON text frames, which discord.py also accepts.
        compress = request.query.get("compress") == "zlib-stream"
        conn = GatewayConnection(ws, compress=compress)
        self.connections.add(conn)
        self.ctx.stats["gateway:connections"] += 1
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
                    await self._on_message(conn, data)
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
            self.ctx.notify()
        return ws

    async def _on_message(self, conn: GatewayConnection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        d = msg.get("d")
        self.gateway_log.append(("recv", op if op != gw.IDENTIFY else "IDENTIFY"))
        if op == gw.HEARTBEAT:
            self.ctx.stats["gateway:heartbeats"] += 1
            conn.send_op(gw.HEARTBEAT_ACK, None)
        elif op == gw.IDENTIFY:
            await self.on_identify(conn, d or {})
        elif op == gw.RESUME:
            await self._resume(conn, d or {})
        elif op in (gw.PRESENCE_UPDATE, gw.VOICE_STATE_UPDATE, gw.REQUEST_GUILD_MEMBERS):
            if conn.session is None:
                await conn.close(4003)
            elif op == gw.REQUEST_GUILD_MEMBERS:
                self._members_chunk(conn.session, d or {})
        else:
            await conn.close(4001)

    # ======================================================================
    # IDENTIFY, RESUME, REQUEST_GUILD_MEMBERS
    # ======================================================================
    async def identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005)
            return
        refusal = gw.identify_refusal(
            d,
            token=self.ctx.token,
            privileged_intents=self.privileged_intents,
            guild_ids=self.world.guild_by_id,
            max_guilds_per_shard=self.max_guilds_per_shard,
        )
        if refusal is not None:
            await conn.close(refusal)
            return
        shard = d.get("shard") or [0, 1]
        shard_id, shard_count = int(shard[0]), int(shard[1])
        if self._too_soon(conn, d, shard_id, shard_count):
            return
        intents = int(d.get("intents", 0))
        self.identify_count += 1
        self.ctx.stats["gateway:identify"] += 1
        session = Session(secrets.token_hex(16), shard_id, shard_count, intents, self.replay_limit)
        session.conn = conn
        conn.session = session
        self.shards.add(session)
        bucket = shard_id % max(1, self.shards.max_concurrency)
        self.shards.bucket_starts[bucket] = (time.monotonic(), session)
        guilds = [g for g in self.world.guilds if (g.id >> 22) % shard_count == shard_id]
        ready = {
            "v": 10,
            "user": {
                **self.ctx.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.ctx.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.ctx.application_id), "flags": 0},
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

    def _too_soon(
        self, conn: GatewayConnection, d: dict[str, Any], shard_id: int, shard_count: int
    ) -> bool:
        """Discord's ``max_concurrency``: one IDENTIFY per rate-limit bucket (``shard_id %
        max_concurrency``) per ``identify_spacing`` seconds; one too soon is answered with
        INVALID_SESSION (op 9, not resumable) and recorded in ``violations``. The window is
        held against the bucket's last session while it is still connected: a bot that
        restarts after its connection is gone is not held to it (see README)."""
        bucket = shard_id % max(1, self.shards.max_concurrency)
        now = time.monotonic()
        last = self.shards.bucket_starts.get(bucket)
        if last is None or now - last[0] >= self.identify_spacing or not last[1].connected:
            return False
        waited = now - last[0]
        shown = {k: v for k, v in d.items() if k != "token"}
        self.checks.violations.append(
            Violation(
                "GATEWAY",
                f"IDENTIFY shard [{shard_id}, {shard_count}]",
                [
                    FieldError(
                        ("shard",),
                        "IDENTIFY_RATE_LIMITED",
                        f"IDENTIFY {waited:.2f}s after shard {last[1].shard_id}'s in rate-limit "
                        f"bucket {bucket} (max_concurrency={self.shards.max_concurrency}); "
                        f"Discord allows one per bucket per {self.identify_spacing:g}s and "
                        "answers INVALID_SESSION",
                    )
                ],
                shown,
            )
        )
        self.ctx.stats["violations"] += 1
        self.ctx.stats["gateway:identify_too_soon"] += 1
        conn.send_op(gw.INVALID_SESSION, False)
        self.ctx.notify()
        return True

    async def _stream_guilds(
        self, session: Session, conn: GatewayConnection, guilds: list[Guild]
    ) -> None:
        include_members = bool(session.intents & gw.INTENT_GUILD_MEMBERS) or len(guilds) < 100
        for i, guild in enumerate(guilds):
            if session.invalidated:
                return
            if guild.id in self.world.guild_by_id:
                session.dispatch(
                    "GUILD_CREATE", guild.to_create_payload(include_members=include_members)
                )
            if i % 50 == 49:
                await conn.drain()
        await conn.drain()
        session.ready = True
        self.ready_count += 1
        session.ready_seq = self.ready_count
        self.ctx.notify()

    def _members_chunk(self, session: Session, d: dict[str, Any]) -> None:
        guild = self.world.guild_by_id.get(int(d.get("guild_id", 0)))
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

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = self.shards.sessions.get(str(d.get("session_id")))
        ok = (
            session is not None
            and not session.invalidated
            and d.get("token") == self.ctx.token
            and session in self.shards.live
        )
        frames = (
            session.replay_after(int(d.get("seq") or 0)) if session is not None and ok else None
        )
        if session is None or frames is None:
            self.ctx.stats["gateway:resume_rejected"] += 1
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
        self.ctx.stats["gateway:resume"] += 1
        await conn.drain()
        self.ctx.notify()
