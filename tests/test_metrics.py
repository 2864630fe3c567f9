"""An operator scrapes /metrics and probes /healthz over real HTTP (SPEC §2, METRICS_PORT)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import aiohttp
import pytest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import (
    HEALTH_TIMEOUT_SECONDS,
    SAMPLE_SCRAPE_CONFIG,
    HealthCheck,
    Metrics,
    MetricsServer,
    MetricsServerError,
    PostOutcome,
    no_answer_reason,
)

HOST = "127.0.0.1"
COMMANDS = ("trivia play", "quote", "button:answer")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def healthy_after(ok: bool, reasons: Sequence[str] = (), *, delay: float = 0.0) -> HealthCheck:
    async def check() -> tuple[bool, Sequence[str]]:
        await asyncio.sleep(delay)
        return ok, list(reasons)

    return check


@pytest.fixture
async def started() -> AsyncIterator[MetricsServer]:
    server = MetricsServer(Metrics(COMMANDS, version="1.2.3"), HOST, 0, healthy_after(True))
    await server.start()
    yield server
    await server.stop()


async def get(server: MetricsServer, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{HOST}:{server.port}{path}") as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


async def scrape(server: MetricsServer) -> Samples:
    status, content_type, text = await get(server, "/metrics")
    assert status == 200
    assert content_type == CONTENT_TYPE_LATEST
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_metrics_lists_interactions_by_command_and_outcome(
    started: MetricsServer,
) -> None:
    metrics = started.metrics
    metrics.interaction("trivia play", "ok")
    metrics.interaction("trivia play", "ok")
    metrics.interaction("trivia play", "refused_store")
    metrics.interaction("button:answer", "user_error")
    metrics.register_command("facts random")
    metrics.interaction("facts random", "internal_error")

    samples = await scrape(started)
    total = "lwa_interactions_total"
    assert value(samples, total, command="trivia play", outcome="ok") == 2
    assert value(samples, total, command="trivia play", outcome="refused_store") == 1
    assert value(samples, total, command="button:answer", outcome="user_error") == 1
    assert value(samples, total, command="facts random", outcome="internal_error") == 1
    # Known commands exist at 0 before their first use; nothing was recorded as `other`.
    assert value(samples, total, command="quote", outcome="ok") == 0
    assert value(samples, total, command="other", outcome="ok") == 0


async def test_an_unknown_command_is_counted_as_other(started: MetricsServer) -> None:
    started.metrics.interaction("what a user typed 123456789012345678", "user_error")
    started.metrics.acked("another stray name", 0.1, deferred=True)

    samples = await scrape(started)
    assert value(samples, "lwa_interactions_total", command="other", outcome="user_error") == 1
    assert value(samples, "lwa_interactions_deferred_total", command="other") == 1
    labels = {v for (_, pairs) in samples for (_, v) in pairs}
    assert not any("123456789012345678" in v or "stray" in v for v in labels)


async def test_an_outcome_outside_the_fixed_set_is_refused() -> None:
    metrics = Metrics(COMMANDS)
    with pytest.raises(ValueError, match="deferred"):
        metrics.interaction("quote", "deferred")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="posted"):
        metrics.post("posted")  # type: ignore[arg-type]


async def test_acknowledgements_fill_the_latency_buckets_and_count_deferrals(
    started: MetricsServer,
) -> None:
    metrics = started.metrics
    metrics.acked("quote", 0.3, deferred=False)
    metrics.acked("trivia play", 2.7, deferred=True)
    metrics.acked("trivia play", -0.02, deferred=False)  # clocks a little apart: counts as 0

    samples = await scrape(started)
    bucket = "lwa_interaction_ack_seconds_bucket"
    assert value(samples, bucket, le="0.05") == 1
    assert value(samples, bucket, le="0.25") == 1
    assert value(samples, bucket, le="0.5") == 2
    assert value(samples, bucket, le="2.5") == 2
    assert value(samples, bucket, le="3.0") == 3
    assert value(samples, "lwa_interaction_ack_seconds_count") == 3
    assert value(samples, "lwa_interaction_ack_seconds_sum") == pytest.approx(3.0)
    assert value(samples, "lwa_interactions_deferred_total", command="trivia play") == 1
    assert value(samples, "lwa_interactions_deferred_total", command="quote") == 0


async def test_posts_store_shards_identify_games_and_build(started: MetricsServer) -> None:
    metrics = started.metrics
    # A late post is recorded as sent and as late; a recheck that found the post sends nothing.
    outcomes: list[PostOutcome] = [
        "sent",
        "sent",
        "late",
        "failed",
        "rechecked",
        "rechecked",
        "found",
    ]
    for outcome in outcomes:
        metrics.post(outcome)
    metrics.store_error("locked")
    metrics.store_error("lost_connection")
    metrics.store_error("something new")
    metrics.store_health(False)
    metrics.shards(connected=3, total=4)
    metrics.identify_wait(7.5)
    metrics.live_games(2)

    samples = await scrape(started)
    posts = "lwa_scheduled_posts_total"
    assert value(samples, posts, outcome="sent") == 2
    assert value(samples, posts, outcome="late") == 1
    assert value(samples, posts, outcome="failed") == 1
    assert value(samples, posts, outcome="skipped") == 0
    assert value(samples, posts, outcome="rechecked") == 2
    assert value(samples, posts, outcome="found") == 1
    errors = "lwa_store_errors_total"
    assert value(samples, errors, kind="locked") == 1
    assert value(samples, errors, kind="lost_connection") == 1
    assert value(samples, errors, kind="other") == 1
    assert value(samples, errors, kind="full") == 0
    assert value(samples, "lwa_store_healthy") == 0
    assert value(samples, "lwa_shards_connected") == 3
    assert value(samples, "lwa_shards") == 4
    assert value(samples, "lwa_identify_wait_seconds_bucket", le="5.0") == 0
    assert value(samples, "lwa_identify_wait_seconds_bucket", le="10.0") == 1
    assert value(samples, "lwa_live_trivia_games") == 2
    assert value(samples, "lwa_build_info", version="1.2.3") == 1

    metrics.store_health(True)
    metrics.live_games(0)
    samples = await scrape(started)
    assert value(samples, "lwa_store_healthy") == 1
    assert value(samples, "lwa_live_trivia_games") == 0


async def test_a_stalled_event_loop_is_measured(started: MetricsServer) -> None:
    """The server watches its own event loop: a callback that holds it for 0.3 s shows as a
    stall of about that long."""
    await asyncio.sleep(0.15)  # the watcher's timer is armed
    time.sleep(0.3)  # noqa: ASYNC251 - the stall being measured
    await asyncio.sleep(0.05)  # the timer fires late, and is measured
    samples = await scrape(started)
    longest = value(samples, "lwa_event_loop_lag_max_seconds")
    assert longest is not None and longest > 0.15  # (more on a busy machine)
    assert value(samples, "lwa_event_loop_lag_seconds_bucket", le="0.1") is not None
    slow = value(samples, "lwa_event_loop_lag_seconds_count") or 0
    fast = value(samples, "lwa_event_loop_lag_seconds_bucket", le="0.1") or 0
    assert slow - fast >= 1  # the stall is in a bucket above 0.1 s


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(COMMANDS), Metrics(COMMANDS)
    first.interaction("quote", "ok")
    assert b'command="quote",outcome="ok"} 1.0' in first.render()
    assert b'command="quote",outcome="ok"} 0.0' in second.render()
    assert b"lwa_" not in generate_latest(REGISTRY)


async def test_healthz_is_ok_when_the_bot_is_healthy(started: MetricsServer) -> None:
    assert await get(started, "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")


async def test_healthz_is_503_with_one_reason_per_line() -> None:
    reasons = ["gateway: not connected", "database: locked"]
    async with MetricsServer(Metrics(), HOST, 0, healthy_after(False, reasons)) as server:
        status, content_type, text = await get(server, "/healthz")
    assert status == 503
    assert content_type.startswith("text/plain")
    assert text == "gateway: not connected\ndatabase: locked\n"


async def test_a_failing_health_check_is_503() -> None:
    async def broken() -> tuple[bool, Sequence[str]]:
        raise ConnectionResetError

    async with MetricsServer(Metrics(), HOST, 0, broken) as server:
        status, _, text = await get(server, "/healthz")
    assert (status, text) == (503, "health check failed: ConnectionResetError\n")


async def test_a_hung_health_check_is_503_within_the_timeout() -> None:
    hung = healthy_after(True, delay=10.0)
    async with MetricsServer(Metrics(), HOST, 0, hung, health_timeout=0.2) as server:
        began = time.monotonic()
        status, _, text = await get(server, "/healthz")
        took = time.monotonic() - began
    assert (status, text) == (503, "database: no answer within 0.2 s\n")
    assert 0.2 <= took < 1.5


def test_the_default_health_timeout_is_two_seconds() -> None:
    server = MetricsServer(Metrics(), HOST, 0, healthy_after(True))
    assert server.health_timeout == HEALTH_TIMEOUT_SECONDS == 2.0
    assert no_answer_reason(HEALTH_TIMEOUT_SECONDS) == "database: no answer within 2 s"


async def test_any_other_path_is_404(started: MetricsServer) -> None:
    for path in ("/", "/metrics/extra", "/health"):
        status, _, _ = await get(started, path)
        assert status == 404, path


async def test_a_taken_port_fails_with_a_clear_message(started: MetricsServer) -> None:
    second = MetricsServer(Metrics(), HOST, started.port, healthy_after(True))
    with pytest.raises(MetricsServerError) as failure:
        await second.start()
    message = str(failure.value)
    assert str(started.port) in message
    assert "METRICS_PORT" in message
    assert "already in use" in message
    await second.stop()
    # The first server is unharmed.
    assert (await get(started, "/healthz"))[0] == 200


async def test_a_stopped_server_no_longer_listens() -> None:
    server = MetricsServer(Metrics(), HOST, 0, healthy_after(True))
    await server.start()
    port = server.port
    assert port != 0
    await server.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection(HOST, port)


def test_the_sample_scrape_config_targets_the_default_address() -> None:
    assert "job_name: lwa-bot" in SAMPLE_SCRAPE_CONFIG
    assert '"127.0.0.1:9464"' in SAMPLE_SCRAPE_CONFIG
