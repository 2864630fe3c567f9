"""The store contract, against every backend, for the shared methods the other contract tests do
not reach (a daily question found by its run, the open question's message, a run's record as
sent or skipped); and the shared statements as each database receives them (`bot.store.sql`)."""

from __future__ import annotations

import datetime as dt
import re

from bot.domain.shards import Shards
from bot.domain.trivia import GameKind, GameState
from bot.store import sql
from bot.store.base import Store
from tests.store.conftest import Backend
from tests.store.test_schedules_store import GRACE, NOW, add

RUN_KEY = "7:2024-01-24T09:00:00+00:00"


async def test_a_daily_question_is_found_by_its_run_whatever_its_state(store: Store) -> None:
    game = await store.create_game(
        guild_id=1,
        channel_id=2,
        starter_id=3,
        kind=GameKind.DAILY,
        difficulty="mixed",
        seconds=60,
        question_ids=["t-a"],
        choices=[["A", "B"]],
        started_at=NOW,
        run_key=RUN_KEY,
    )
    assert game.run_key == RUN_KEY and await store.game_for_run(RUN_KEY) == game
    await store.end_game(game.id, GameState.FINISHED, NOW)
    found = await store.game_for_run(RUN_KEY)
    assert found is not None and found.id == game.id and found.state == GameState.FINISHED
    assert await store.game_for_run("7:another-run") is None


async def test_the_open_questions_message_is_recorded_once_known(store: Store) -> None:
    game = await store.create_game(
        guild_id=1,
        channel_id=2,
        starter_id=3,
        kind=GameKind.GAME,
        difficulty="mixed",
        seconds=20,
        question_ids=["t-a"],
        choices=[["A", "B"]],
        started_at=NOW,
    )
    await store.open_question(game.id, 0, NOW, message_id=None)  # posted after it opened
    await store.set_question_message(game.id, 4321)
    reloaded = await store.game(game.id)
    assert reloaded is not None and reloaded.current_message == 4321
    assert reloaded.opened_at == (NOW,)


async def test_a_run_is_known_as_sent_only_once_recorded_sent(backend: Backend) -> None:
    store = await backend.open()
    try:
        sent_one, skipped_one = await add(store), await add(store)
        later = NOW + dt.timedelta(minutes=1)
        runs = await store.claim_due_runs(later, grace=GRACE, limit=10)
        assert sorted(r.schedule.id for r in runs) == [sent_one.id, skipped_one.id]
        assert await store.sent_run(sent_one.id, NOW) is None  # claimed, not sent yet

        sent_at = NOW + dt.timedelta(seconds=3)
        await store.mark_run_sent(sent_one.id, NOW, 999, sent_at)
        assert await store.sent_run(sent_one.id, NOW) == (999, sent_at)
        await store.mark_run_skipped(sent_one.id, NOW, "too late")  # a sent run stays sent
        assert await store.sent_run(sent_one.id, NOW) == (999, sent_at)

        await store.mark_run_skipped(skipped_one.id, NOW, "the channel is gone")
        assert await store.sent_run(skipped_one.id, NOW) is None
        rows = await backend.execute(
            "SELECT schedule_id, state, error FROM schedule_runs ORDER BY schedule_id"
        )
        assert [tuple(r) for r in rows] == [
            (sent_one.id, "sent", None),
            (skipped_one.id, "skipped", "the channel is gone"),
        ]
        assert await store.unfinished_runs() == []
    finally:
        await store.close()


def shared_statements() -> list[tuple[str, sql.Sql]]:
    found: list[tuple[str, sql.Sql]] = []
    for name, value in vars(sql).items():
        if isinstance(value, sql.Sql):
            found.append((name, value))
        elif isinstance(value, sql.ShardSql):
            found += [(name, value.everything), (f"{name} (3 shards)", value.some.sized(3))]
        elif isinstance(value, sql.ListSql):
            found.append((f"{name} (2 ids)", value.sized(2)))
    return found


def test_each_shared_statement_is_rendered_whole_for_each_database() -> None:
    """No dialect field left unfilled; SQLite gets `?`, PostgreSQL `$1`, `$2`, … in order."""
    statements = shared_statements()
    assert len(statements) > 40
    for name, statement in statements:
        for text in (statement.sqlite, statement.postgres):
            assert "{" not in text and "}" not in text, name
        assert "$" not in statement.sqlite, name
        assert "?" not in statement.postgres.replace("?::", ""), name  # none left unnumbered
        numbers = [int(n) for n in re.findall(r"\$(\d+)", statement.postgres)]
        assert numbers == list(range(1, len(numbers) + 1)), name
        assert len(numbers) == statement.sqlite.count("?") or "ANY(" in statement.postgres, name


def test_a_list_in_a_query_is_one_array_on_postgres_and_rendered_once_per_length_on_sqlite() -> (
    None
):
    two, three = sql.DAILY_STREAKS.sized(2), sql.DAILY_STREAKS.sized(3)
    assert two.sqlite.endswith("user_id IN (?, ?)") and three.sqlite.endswith("IN (?, ?, ?)")
    assert two.postgres == three.postgres
    assert two.postgres.endswith("user_id = ANY($2::bigint[])")
    assert sql.DAILY_STREAKS.sized(2) is two  # made once


def test_the_shard_filter_is_left_out_for_a_process_serving_every_server() -> None:
    class Probe(sql.SqlStore):
        _dialect = sql.POSTGRES

        async def _transaction(self, work):
            raise AssertionError

        async def _take_turn(self, tx, turn, key):
            raise AssertionError

    probe = Probe()
    for everything in (None, Shards(1), Shards(4, frozenset({0, 1, 2, 3}))):
        assert probe._in_shards(sql.NEXT_DUE_AT, everything) == (sql.NEXT_DUE_AT.everything, ())
    statement, args = probe._in_shards(sql.NEXT_DUE_AT, Shards(4, frozenset({3, 1})))
    assert statement.postgres.endswith("((guild_id >> 22) % $1) = ANY($2::bigint[])")
    assert args == (4, [1, 3])
