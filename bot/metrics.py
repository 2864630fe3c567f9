"""Prometheus metrics and a health check for operators (SPEC §2, `METRICS_PORT`).

Off unless `METRICS_PORT` is set. Then `MetricsServer` listens on `METRICS_HOST` (default
`127.0.0.1`) and serves, as plain HTTP inside the bot's own event loop:

- `GET /metrics`: the Prometheus text exposition of one `Metrics` object, all names `lwa_…`:
  interactions by command and outcome, how fast they are acknowledged and how many deferred,
  scheduled posts (sent, failed, skipped, late, rechecked, found), store errors by kind and
  the store's health, shards connected, IDENTIFY waits, live trivia games, how late the event
  loop runs (its stalls: every 0.1 s, how late a timer fired), the build version.
- `GET /healthz`: `200 ok` when the bot says it is healthy (the gateway connected, the database
  answering), else `503` with one reason per line. A check that does not answer within
  `HEALTH_TIMEOUT_SECONDS` is a 503 too, so a hung database never hangs the check.

No label carries a user's data: no token, no id of a user, server or channel, no message text.
Every label value comes from a small fixed set: command names only from an allow-list given by
the bot (anything else is counted as `other`), outcomes and kinds from the tuples below.

A Prometheus scrape job for the default address is `SAMPLE_SCRAPE_CONFIG`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Final, Literal, get_args

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot import __version__

log = logging.getLogger(__name__)

SAMPLE_SCRAPE_CONFIG: Final = """\
scrape_configs:
  - job_name: lwa-bot
    scrape_interval: 15s
    static_configs:
      - targets: ["127.0.0.1:9464"]
"""

InteractionOutcome = Literal["ok", "user_error", "refused_store", "internal_error"]
PostOutcome = Literal["sent", "failed", "skipped", "late", "rechecked", "found"]
StoreErrorKind = Literal[
    "unavailable", "timeout", "lost_connection", "locked", "full", "read_only", "other"
]

INTERACTION_OUTCOMES: Final[tuple[str, ...]] = get_args(InteractionOutcome)
POST_OUTCOMES: Final[tuple[str, ...]] = get_args(PostOutcome)
STORE_ERROR_KINDS: Final[tuple[str, ...]] = get_args(StoreErrorKind)

OTHER_COMMAND: Final = "other"
"""The `command` label of every interaction whose name is not on the allow-list."""

# Discord drops an interaction not answered within 3 s: the buckets are dense up to there.
ACK_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0)
# Shards IDENTIFY one bucket (of max_concurrency shards) every 5 s, so waits grow with the
# number of shards: from nothing up to minutes for a large bot.
IDENTIFY_BUCKETS: Final = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

# How late the event loop runs a timer: a stall delays every interaction, post and game at once.
LOOP_LAG_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LOOP_WATCH_SECONDS: Final = 0.1  # the watcher's timer

HEALTH_TIMEOUT_SECONDS: Final = 2.0


def no_answer_reason(seconds: float) -> str:
    """The `/healthz` line for a health check that did not answer within `seconds`."""
    return f"database: no answer within {seconds:g} s"


class Metrics:
    """The bot's metrics in a registry of their own (never prometheus_client's global one).

    `command` names are counted under their own label only when on the allow-list (`commands`
    here, or `register_command`); others are counted as `other`, so the number of series
    stays bounded whatever arrives.
    """

    def __init__(self, commands: Iterable[str] = (), *, version: str = __version__) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._commands: set[str] = set()
        registry = self.registry
        self._interactions = Counter(
            "lwa_interactions_total",
            "Interactions handled, by command (or button kind) and outcome.",
            ("command", "outcome"),
            registry=registry,
        )
        self._ack_seconds = Histogram(
            "lwa_interaction_ack_seconds",
            "Seconds from Discord's creation of an interaction to the bot's first response "
            "or deferral (Discord gives up after 3).",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self._deferred = Counter(
            "lwa_interactions_deferred_total",
            "Interactions acknowledged by deferring rather than answering at once.",
            ("command",),
            registry=registry,
        )
        self._posts = Counter(
            "lwa_scheduled_posts_total",
            "Scheduled posts by outcome (a late post counts as sent and as late; rechecked: "
            "the channel was searched for an earlier attempt; found: that search found it).",
            ("outcome",),
            registry=registry,
        )
        self._store_errors = Counter(
            "lwa_store_errors_total",
            "Database errors by kind.",
            ("kind",),
            registry=registry,
        )
        self._store_healthy = Gauge(
            "lwa_store_healthy",
            "1 when the database answered its last use, 0 when it did not.",
            registry=registry,
        )
        self._shards_connected = Gauge(
            "lwa_shards_connected",
            "Shards of this process connected to the gateway.",
            registry=registry,
        )
        self._shards = Gauge(
            "lwa_shards",
            "Shards this process runs.",
            registry=registry,
        )
        self._identify_wait = Histogram(
            "lwa_identify_wait_seconds",
            "Seconds a shard waited for its turn to IDENTIFY.",
            buckets=IDENTIFY_BUCKETS,
            registry=registry,
        )
        self._live_games = Gauge(
            "lwa_live_trivia_games",
            "Trivia games running now.",
            registry=registry,
        )
        self._loop_lag = Histogram(
            "lwa_event_loop_lag_seconds",
            f"How late the event loop ran a {LOOP_WATCH_SECONDS:g} s timer, measured every "
            f"{LOOP_WATCH_SECONDS:g} s while metrics are served (a stall delays everything).",
            buckets=LOOP_LAG_BUCKETS,
            registry=registry,
        )
        self._loop_lag_max = Gauge(
            "lwa_event_loop_lag_max_seconds",
            "The longest event loop stall measured since the bot started.",
            registry=registry,
        )
        self._longest_stall = 0.0
        self._build_info = Gauge(
            "lwa_build_info",
            "The running version of the bot (always 1).",
            ("version",),
            registry=registry,
        )
        self._build_info.labels(version).set(1)
        # Called before each rendering: gauges read from the bot at scrape time.
        self.refresh: Callable[[], None] | None = None
        # Series of the fixed sets exist from the start at 0, so rate() sees the first event.
        for outcome in POST_OUTCOMES:
            self._posts.labels(outcome)
        for kind in STORE_ERROR_KINDS:
            self._store_errors.labels(kind)
        for command in (OTHER_COMMAND, *commands):
            self.register_command(command)

    def register_command(self, name: str) -> None:
        """Allow `name` (a qualified command name like `trivia play`, or a button kind like
        `button:answer`) as a `command` label value."""
        if name in self._commands:
            return
        self._commands.add(name)
        for outcome in INTERACTION_OUTCOMES:
            self._interactions.labels(name, outcome)
        self._deferred.labels(name)

    def _command_label(self, command: str) -> str:
        return command if command in self._commands else OTHER_COMMAND

    def interaction(self, command: str, outcome: InteractionOutcome) -> None:
        """One interaction finished with `outcome` (deferring is not an outcome: `acked`)."""
        _check(outcome, INTERACTION_OUTCOMES, "interaction outcome")
        self._interactions.labels(self._command_label(command), outcome).inc()

    def acked(self, command: str, seconds: float, deferred: bool) -> None:
        """The bot first answered (or deferred) an interaction `seconds` after Discord made it.

        Clocks differ a little between Discord and this machine: a negative delay counts as 0.
        """
        self._ack_seconds.observe(max(0.0, seconds))
        if deferred:
            self._deferred.labels(self._command_label(command)).inc()

    def post(self, outcome: PostOutcome) -> None:
        """A scheduled post went this way. A late post is recorded twice: `sent` and `late`."""
        _check(outcome, POST_OUTCOMES, "post outcome")
        self._posts.labels(outcome).inc()

    def store_error(self, kind: StoreErrorKind | str) -> None:
        """The database failed this way; an unknown kind is counted as `other`."""
        self._store_errors.labels(kind if kind in STORE_ERROR_KINDS else "other").inc()

    def store_health(self, healthy: bool) -> None:
        self._store_healthy.set(1 if healthy else 0)

    def shards(self, connected: int, total: int) -> None:
        self._shards_connected.set(connected)
        self._shards.set(total)

    def identify_wait(self, seconds: float) -> None:
        self._identify_wait.observe(max(0.0, seconds))

    def live_games(self, n: int) -> None:
        self._live_games.set(n)

    def loop_lag(self, seconds: float) -> None:
        lag = max(0.0, seconds)
        self._loop_lag.observe(lag)
        if lag > self._longest_stall:
            self._longest_stall = lag
            self._loop_lag_max.set(lag)

    async def watch_loop(self, interval: float = LOOP_WATCH_SECONDS) -> None:
        """Measure, until cancelled, how late the running event loop fires a timer of
        `interval` seconds (real time: a stall is real, whatever the bot's clock says)."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self.loop_lag(loop.time() - before - interval)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric above."""
        if self.refresh is not None:
            self.refresh()
        return generate_latest(self.registry)


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


HealthCheck = Callable[[], Awaitable[tuple[bool, Sequence[str]]]]
"""Says whether the bot is healthy and, when not, why: one short reason per item."""


class MetricsServerError(Exception):
    """The metrics server cannot listen; the message names the port and METRICS_PORT."""


class MetricsServer:
    """`/metrics` and `/healthz` over HTTP, served by aiohttp in the running event loop."""

    def __init__(
        self,
        metrics: Metrics,
        host: str,
        port: int,
        health: HealthCheck,
        *,
        health_timeout: float = HEALTH_TIMEOUT_SECONDS,
    ) -> None:
        self.metrics = metrics
        self.host = host
        self.health_timeout = health_timeout
        self._port = port
        self._health = health
        self._runner: web.AppRunner | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port listened on: the one bound by the system once started (for port 0)."""
        if self._runner is not None and (addresses := self._runner.addresses):
            return int(addresses[0][1])
        return self._port

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the metrics server is already running")
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/healthz", self._serve_health)
        # No access log: Prometheus scrapes every few seconds. A slow /healthz ends within
        # the health timeout, so stopping never waits long for one.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.health_timeout + 1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._port).start()
        except OSError as error:
            await runner.cleanup()
            raise MetricsServerError(self._bind_failure(error)) from error
        self._runner = runner
        self._watcher = asyncio.get_running_loop().create_task(self.metrics.watch_loop())
        log.info("serving metrics on %s port %d", self.host, self.port)

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> MetricsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _bind_failure(self, error: OSError) -> str:
        where = f"{self.host} port {self._port}"
        if error.errno == errno.EADDRINUSE:
            return (
                f"cannot serve metrics: {where} is already in use "
                f"(set METRICS_PORT to a free port, or stop the program using {self._port})"
            )
        reason = error.strerror or str(error)
        return (
            f"cannot serve metrics on {where}: {reason} "
            f"(check METRICS_PORT={self._port} and METRICS_HOST={self.host})"
        )

    async def _serve_metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _serve_health(self, request: web.Request) -> web.Response:
        try:
            ok, reasons = await asyncio.wait_for(self._health(), self.health_timeout)
        except TimeoutError:
            ok, reasons = False, [no_answer_reason(self.health_timeout)]
        except Exception as error:
            log.exception("the health check failed")
            ok, reasons = False, [f"health check failed: {type(error).__name__}"]
        if ok:
            return web.Response(text="ok\n")
        body = "".join(f"{reason}\n" for reason in reasons) or "unhealthy\n"
        return web.Response(status=503, text=body)
