"""The gateway protocol (server side): opcodes, intents, IDENTIFY refusals, connections,
sessions and the registry of the shards' sessions. The websocket handler is gateway_server.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections import deque
from collections.abc import Iterable
from typing import Any

from aiohttp import web

DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
# Every intent bit Discord defines (0-16, 20, 21, 24, 25); IDENTIFY with another is closed 4013.
KNOWN_INTENTS = sum(1 << bit for bit in (*range(17), 20, 21, 24, 25))


def identify_refusal(
    d: dict[str, Any],
    *,
    token: str,
    privileged_intents: bool,
    guild_ids: Iterable[int],
    max_guilds_per_shard: int | None,
) -> int | None:
    """The close code Discord answers this IDENTIFY with, or None if it accepts it.

    4004 bad token, 4010 invalid shard, 4011 sharding required (the shard would hold more than
    ``max_guilds_per_shard`` guilds; None: no limit), 4013 invalid intents (a bit Discord does
    not define), 4014 disallowed intents (privileged ones the application may not use)."""
    if d.get("token") != token:
        return 4004
    shard = d.get("shard") or [0, 1]
    shard_id, shard_count = int(shard[0]), int(shard[1])
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        return 4010
    if max_guilds_per_shard is not None:
        on_shard = sum(1 for g in guild_ids if (g >> 22) % shard_count == shard_id)
        if on_shard > max_guilds_per_shard:
            return 4011
    intents = int(d.get("intents", 0))
    if intents & ~KNOWN_INTENTS:
        return 4013
    if intents & PRIVILEGED_INTENTS and not privileged_intents:
        return 4014
    return None


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class GatewayConnection:
    """One websocket. Outgoing frames go through a queue drained by a single writer
    task, so zlib-stream compression stays in order and senders never block."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if compress else None
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.session: Session | None = None
        self.closed = False
        self.writer = asyncio.create_task(self._write_loop())

    def send(self, text: str) -> None:
        if not self.closed:
            self.queue.put_nowait(text)

    def send_op(self, op: int, d: Any) -> None:
        self.send(dumps({"op": op, "d": d, "s": None, "t": None}))

    async def _write_loop(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                try:
                    if self.compressor is not None:
                        data = self.compressor.compress(text.encode())
                        data += self.compressor.flush(zlib.Z_SYNC_FLUSH)
                        await self.ws.send_bytes(data)
                    else:
                        await self.ws.send_str(text)
                finally:
                    self.queue.task_done()
        except (ConnectionError, RuntimeError):
            self.closed = True

    async def drain(self) -> None:
        if not self.closed and not self.writer.done():
            await self.queue.join()

    async def close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.writer
        with contextlib.suppress(Exception):
            await self.ws.close(code=code)

    async def shutdown(self) -> None:
        self.closed = True
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.writer


class Session:
    """A gateway session; survives its connection so it can be resumed."""

    def __init__(
        self, session_id: str, shard_id: int, shard_count: int, intents: int, replay_limit: int
    ) -> None:
        self.id = session_id
        self.shard_id = shard_id
        self.shard_count = shard_count
        self.intents = intents
        self.seq = 0
        self.buffer: deque[tuple[int, str]] = deque(maxlen=replay_limit)
        self.conn: GatewayConnection | None = None
        self.invalidated = False
        self.ready = False
        self.ready_seq = 0  # the gateway's ready count when its GUILD_CREATEs were all sent
        self.identified_events = 0

    def dispatch(self, event: str, data: Any) -> int:
        self.seq += 1
        text = dumps({"op": DISPATCH, "t": event, "s": self.seq, "d": data})
        self.buffer.append((self.seq, text))
        if self.conn is not None:
            self.conn.send(text)
        return self.seq

    def replay_after(self, seq: int) -> list[str] | None:
        """Frames after ``seq``, or None if some were already dropped from the buffer."""
        if seq >= self.seq:
            return []
        if not self.buffer or self.buffer[0][0] > seq + 1:
            return None
        return [text for s, text in self.buffer if s > seq]

    def wants(self, intent: int) -> bool:
        return bool(self.intents & intent)

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.closed

    def receives(self, guild_id: int | None) -> bool:
        """Whether this session gets ``guild_id``'s events (DMs, ``None``: shard 0's)."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


class Shards:
    """The bot's gateway sessions: every one by id (a RESUME names one), and the live ones, in
    IDENTIFY order. Discord routes a guild's events to every session whose ``[shard_id,
    num_shards]`` gets it by ``(guild_id >> 22) % num_shards``; events without a guild (DMs) to
    shard 0. Sessions may share a shard or use different counts: each is routed by its own.

    Also what ``GET /gateway/bot`` answers (``shard_count``, ``max_concurrency``) and when each
    IDENTIFY rate-limit bucket (``shard_id % max_concurrency``) last started a session."""

    def __init__(self, *, shard_count: int = 1, max_concurrency: int = 1) -> None:
        self.sessions: dict[str, Session] = {}
        self.live: list[Session] = []
        # what GET /gateway/bot says: the recommended shards and IDENTIFYs per 5 s
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        # bucket -> (monotonic time, session) of the bucket's last accepted IDENTIFY
        self.bucket_starts: dict[int, tuple[float, Session]] = {}

    def add(self, session: Session) -> None:
        """A session IDENTIFY started. An earlier session of the same ``[shard_id, num_shards]``
        whose connection is gone is dropped (it stands for Discord's resume timeout, so a
        restarted bot's events do not pile up in its predecessor's buffer); one that is still
        connected stays live beside it, as Discord allows."""
        for old in self.live:
            same = (old.shard_id, old.shard_count) == (session.shard_id, session.shard_count)
            if same and not old.connected:
                old.invalidated = True
        self.sessions[session.id] = session
        self.live = [*self._current(), session]

    def _current(self) -> list[Session]:
        if any(s.invalidated for s in self.live):
            self.live = [s for s in self.live if not s.invalidated]
        return self.live

    def for_guild(self, guild_id: int | None) -> list[Session]:
        """Every live session that receives ``guild_id``'s events (shard 0's for DMs)."""
        return [s for s in self._current() if s.receives(guild_id)]

    def for_interaction(self, guild_id: int | None) -> Session | None:
        """The one session an INTERACTION_CREATE goes to: of those that receive ``guild_id``'s
        events, the newest connected one (else the newest, which buffers it for a RESUME)."""
        sessions = self.for_guild(guild_id)
        connected = [s for s in sessions if s.connected]
        pick = connected or sessions
        return pick[-1] if pick else None

    def all_ready(self, shard_ids: Iterable[int] | None = None, *, after: int = 0) -> bool:
        """Each of ``shard_ids`` (default: every shard of the newest session's count) has a live
        session that got all its GUILD_CREATEs as the gateway's ready number ``after + 1`` or
        later (so that a restarted bot's predecessors do not count)."""
        sessions = self._current()
        if not sessions:
            return False
        if shard_ids is None:
            count = sessions[-1].shard_count
            wanted = set(range(count))
            sessions = [s for s in sessions if s.shard_count == count]
        else:
            wanted = set(shard_ids)
        ready = {s.shard_id for s in sessions if s.ready and s.ready_seq > after}
        return wanted <= ready

    @property
    def connected(self) -> bool:
        return any(s.connected for s in self._current())
