"""What every part of the emulator shares: who the application is, where the emulator listens,
its counters, and the signal that wakes tests waiting for something to happen."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections import Counter
from collections.abc import Callable

from .models import User, snowflake

API_PREFIX = "/api/v10"


class Context:
    """The application (its bot user, owner and token), the address, ``stats`` and the
    change signal: every change a test could wait for calls :meth:`notify`, and
    :meth:`wait_until` re-checks its predicate then (event driven, no polling)."""

    def __init__(self, bot_name: str) -> None:
        self.bot_user = User(snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.owner_user = User(snowflake(), "app-owner")
        token_head = base64.b64encode(str(self.bot_user.id).encode()).decode().rstrip("=")
        self.token = f"{token_head}.fake.{secrets.token_urlsafe(24)}"
        self.host = "127.0.0.1"
        self.port = 0
        self.stats: Counter[str] = Counter()
        self._changed: asyncio.Future[None] | None = None

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

    def notify(self) -> None:
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
