"""`lwa-bot` as operators run it: check, preview, reports, and the exit codes of SPEC §2."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.store.sqlite import SQLiteStore
from tests.dataset_factory import VALID, write_dataset

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-cli-tests"


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DATABASE_", "DATA_DIR", "DEV_GUILD", "LOG_LEVEL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_check_prints_a_summary_of_the_shipped_dataset(tmp_path: Path) -> None:
    result = run_cli(
        "check", env={"DISCORD_TOKEN": TOKEN, "DATABASE_PATH": str(tmp_path / "db" / "lwa.sqlite3")}
    )
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "quotes" in result.stdout and "questions" in result.stdout
    assert "schema version" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_a_missing_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("check", cwd=tmp_path)  # no .env there either
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DISCORD_TOKEN") and ".env.example" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_malformed_variable_is_named(tmp_path: Path) -> None:
    result = run_cli("check", env={"DISCORD_TOKEN": TOKEN, "POST_RATE_PER_SECOND": "lots"})
    assert result.returncode == 2
    assert result.stderr.startswith("POST_RATE_PER_SECOND")
    assert "Traceback" not in result.stderr


def test_an_invalid_dataset_lists_every_problem_and_exits_3(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('topic = "song"', 'topic = "nope"')
    quotes = VALID["quotes.toml"].replace('speaker = "v"', 'speaker = "nobody"')
    folder = write_dataset(tmp_path / "data", facts=facts, quotes=quotes)
    result = run_cli(
        "check",
        env={
            "DISCORD_TOKEN": TOKEN,
            "DATA_DIR": str(folder),
            "DATABASE_PATH": str(tmp_path / "x.sqlite3"),
        },
    )
    assert result.returncode == 3
    assert "facts.toml: f-one: topic:" in result.stderr
    assert "quotes.toml: q-jam: speaker:" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unusable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli(
        "check", env={"DISCORD_TOKEN": TOKEN, "DATABASE_PATH": str(blocker / "lwa.sqlite3")}
    )
    assert result.returncode == 2
    assert result.stderr.startswith("DATABASE_PATH")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["quote", "fact", "trivia", "onthisday"])
def test_preview_prints_plain_text_without_a_token(kind: str) -> None:
    result = run_cli("preview", kind)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "<@" not in result.stdout  # plain text, not Discord markup


def test_reports_lists_every_servers_reports(tmp_path: Path) -> None:
    path = tmp_path / "lwa.sqlite3"

    async def add() -> None:
        store = SQLiteStore(path)
        await store.open()
        for guild in (1, 2):
            await store.add_report(
                guild_id=guild,
                channel_id=3,
                question_id="t-nope",
                reporter_id=4,
                reason=f"Wrong answer in server {guild}",
                created_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
            )
        await store.close()

    asyncio.run(add())
    result = run_cli("reports", env={"DATABASE_PATH": str(path)})
    assert result.returncode == 0, result.stderr
    assert "Wrong answer in server 1" in result.stdout
    assert "Wrong answer in server 2" in result.stdout
