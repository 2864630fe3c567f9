"""`lwa-bot` as operators run it: check, preview, reports, and the exit codes of SPEC §2.

The CLI runs in-process through `bot.__main__.main(argv)`: the environment is set with
monkeypatch, the working directory is an empty folder (so no `.env` is read), and the output
is captured. Where a real process is the point (signals, `run` against the emulator), the tests
are in tests/faults/test_startup.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot import i18n
from bot.__main__ import main
from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.language import Language
from bot.domain.records import ReportStatus
from bot.store import Store, open_store
from bot.store.sqlite import SQLiteStore
from tests.dataset_factory import VALID, write_dataset
from tests.fakediscord.emulator import Emulator
from tests.readonly import assert_read_only, permission_bits_apply
from tests.shared import closed_port
from tests.store.postgres import fresh_database

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-cli-tests"
SETTINGS_PREFIXES = (
    "DISCORD_",
    "DATABASE_",
    "DATA_DIR",
    "DEV_GUILD",
    "LOG_LEVEL",
    "SCHEDULE_",
    "POST_RATE",
    "SHARD_",
    "METRICS_",
    "LOCALES_DIR",
)
TOKEN_REFUSED = "DISCORD_TOKEN was refused by Discord: check the token in .env (see .env.example)"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one line on stderr (and assert there is exactly one)."""
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


Cli = Callable[..., Result]


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[Cli]:
    """`cli("check", DISCORD_TOKEN=...)` runs `main(["check"])` with exactly those settings."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # no .env here
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES):
            monkeypatch.delenv(name)
    # `run` points discord.py at DISCORD_API_BASE; put it back afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # main() installs its own handler

    def run(*argv: str, **env: str) -> Result:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        assert env.get("DISCORD_TOKEN", TOKEN) not in out + err  # never printed
        return Result(code, out, err)

    try:
        yield run
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


_NOWHERE = closed_port()
# Settings for `run` tests that must end before any network: Discord "is" a closed port.
OFFLINE = {
    "DISCORD_TOKEN": TOKEN,
    "DISCORD_API_BASE": f"http://127.0.0.1:{_NOWHERE}/api/v10",
    "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{_NOWHERE}/",
}


def test_check_prints_a_summary_of_the_shipped_dataset(cli: Cli, tmp_path: Path) -> None:
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "db" / "lwa.sqlite3"))
    assert result.code == 0, result.err
    assert "configuration OK" in result.out
    assert "quotes" in result.out and "questions" in result.out
    assert "schema version" in result.out


def test_check_prints_how_much_is_in_korean(cli: Cli, tmp_path: Path) -> None:
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "lwa.sqlite3"))
    assert result.code == 0, result.err
    coverage = re.search(r"^Korean: (.*) \(English: all\)$", result.out, re.MULTILINE)
    assert coverage is not None, result.out
    counts = re.findall(r"(\d+)/(\d+) (\w+)", coverage[1])
    assert [kind for _, _, kind in counts] == ["quotes", "facts", "questions", "events", "people"]
    assert all(have == total != "0" for have, total, _ in counts)  # the loader requires it all
    messages = re.search(r"^messages: (\d+) in English, (\d+) of them in Korean", result.out, re.M)
    assert messages is not None and messages[1] == messages[2]


def test_a_translation_being_tried_is_used_and_its_gaps_are_counted(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "_chosen", None)  # main() installs the folder's catalogue
    folder = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, folder)
    korean = folder / "ko" / "core.po"
    text = korean.read_text(encoding="utf-8")
    korean.write_text(text.replace('msgid "error.server_only"', 'msgid "error.gone"'), "utf-8")
    result = cli(
        "check",
        DISCORD_TOKEN=TOKEN,
        DATABASE_PATH=str(tmp_path / "lwa.sqlite3"),
        LOCALES_DIR=str(folder),
    )
    assert result.code == 0, result.err
    messages = re.search(r"^messages: (\d+) in English, (\d+) of them in Korean", result.out, re.M)
    assert messages is not None and int(messages[1]) == int(messages[2]) + 1
    assert "from LOCALES_DIR" in result.out
    assert i18n.render("error.server_only", Language.KO) == i18n.render(
        "error.server_only", Language.EN
    )  # the gap falls back to English


def test_a_translation_that_cannot_be_read_is_one_line_and_exit_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "_chosen", None)
    folder = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, folder)
    with (folder / "ko" / "core.po").open("a", encoding="utf-8") as po:
        po.write('\nm\nmsgid "x"\nmsgstr "y"\n')  # a stray line
    result = cli("check", DISCORD_TOKEN=TOKEN, LOCALES_DIR=str(folder))
    assert result.code == 2
    assert result.line.startswith("LOCALES_DIR: ") and "core.po" in result.line


def test_check_says_the_token_itself_was_not_checked(cli: Cli, tmp_path: Path) -> None:
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "lwa.sqlite3"))
    assert result.code == 0, result.err
    assert (
        "DISCORD_TOKEN: its form looks right, but the token itself was not checked "
        "(`lwa-bot check --online` asks Discord)"
    ) in result.out.splitlines()


def test_a_missing_token_is_one_line_and_exit_2(cli: Cli) -> None:
    result = cli("check")
    assert result.code == 2
    assert result.line.startswith("DISCORD_TOKEN") and ".env.example" in result.line


def test_a_malformed_variable_is_named(cli: Cli) -> None:
    result = cli("check", DISCORD_TOKEN=TOKEN, POST_RATE_PER_SECOND="lots")
    assert result.code == 2
    assert result.line.startswith("POST_RATE_PER_SECOND")


@pytest.mark.parametrize(
    ("token", "line"),
    [
        (
            f"Bot {TOKEN}",
            'DISCORD_TOKEN starts with "Bot ": drop the `Bot ` prefix and keep only the token '
            "(see .env.example)",
        ),
        (
            f"{TOKEN[:10]}\x1b{TOKEN[10:]}",
            "DISCORD_TOKEN contains a character that cannot be sent to Discord (U+001B at "
            "position 11): copy the token again from the Developer Portal (see .env.example)",
        ),
        (
            f"{TOKEN[:10]}\u200b{TOKEN[10:]}",  # a zero-width space, pasted from a chat
            "DISCORD_TOKEN contains a character that cannot be sent to Discord (U+200B at "
            "position 11): copy the token again from the Developer Portal (see .env.example)",
        ),
        (
            f"{TOKEN[:10]} {TOKEN[10:]}",
            "DISCORD_TOKEN contains a space: copy the token again from the Developer Portal "
            "(see .env.example)",
        ),
    ],
    ids=["bot-prefix", "control-character", "zero-width-space", "space"],
)
@pytest.mark.timeout(60)
def test_a_token_that_cannot_be_sent_is_refused_in_one_line(
    cli: Cli, tmp_path: Path, token: str, line: str
) -> None:
    for command in ("check", "run"):
        env = {**OFFLINE, "DISCORD_TOKEN": token, "DATABASE_PATH": str(tmp_path / "x.sqlite3")}
        result = cli(command, **env)
        assert (result.code, result.line) == (2, line)


def test_a_missing_data_dir_is_named(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = cli("check", DISCORD_TOKEN=TOKEN, DATA_DIR=str(missing))
    assert result.code == 2
    assert result.line == (
        f"DATA_DIR points at {missing}, which does not exist: set it to the dataset folder, "
        "or leave it unset for the repository's data/ (see .env.example)"
    )


def test_a_data_dir_that_is_a_file_is_named(cli: Cli, tmp_path: Path) -> None:
    a_file = tmp_path / "quotes.toml"
    a_file.write_text("")
    for command in ("check", "preview"):
        args = (command, "quote") if command == "preview" else (command,)
        result = cli(*args, DISCORD_TOKEN=TOKEN, DATA_DIR=str(a_file))
        assert result.code == 2
        assert result.line == (
            f"DATA_DIR points at {a_file}, which is not a folder: set it to the dataset "
            "folder, or leave it unset for the repository's data/ (see .env.example)"
        )


def test_an_invalid_dataset_lists_every_problem_and_exits_3(cli: Cli, tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('topic = "song"', 'topic = "nope"')
    quotes = VALID["quotes.toml"].replace('speaker = "v"', 'speaker = "nobody"')
    folder = write_dataset(tmp_path / "data", facts=facts, quotes=quotes)
    result = cli(
        "check",
        DISCORD_TOKEN=TOKEN,
        DATA_DIR=str(folder),
        DATABASE_PATH=str(tmp_path / "x.sqlite3"),
    )
    assert result.code == 3
    assert "facts.toml: f-one: topic:" in result.err
    assert "quotes.toml: q-jam: speaker:" in result.err


def test_a_database_path_under_a_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(blocker / "lwa.sqlite3"))
    assert result.code == 2
    assert result.line == (
        f"DATABASE_PATH: cannot create the folder {blocker} for the database: a file is in the "
        "way (see .env.example)"
    )


# Passwords pasted into DATABASE_URL without percent-encoding: never shown, not even in part.
UNENCODED_PASSWORDS = ["Xq7S3/abcK", "Lm#9Qz8vTr", "Rt5?Wn6Yb2", "Hk2@Ps9Vd4", "a/Zb#Yc?Xd@W"]


def _leaks(secret: str, text: str) -> list[str]:
    return [secret[i : i + 3] for i in range(len(secret) - 2) if secret[i : i + 3] in text]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:p@127.0.0.1:99999/db", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u:p@[bad/db", "has a `[` that does not open an IPv6 address"),
        ("postgresql://u:p@127.0.0.1:5432", "names no database"),
    ],
    ids=["port-99999", "stray-bracket", "no-database"],
)
def test_a_database_url_that_cannot_be_used_is_one_line_and_exit_2(
    cli: Cli, tmp_path: Path, url: str, problem: str
) -> None:
    for command in ("check", "run"):
        result = cli(command, **OFFLINE, DATABASE_URL=url)
        assert result.code == 2, result.err
        assert result.line.startswith(f"DATABASE_URL {problem}") and result.out == ""
        assert result.line.endswith("(see .env.example)")


@pytest.mark.parametrize("password", UNENCODED_PASSWORDS)
def test_an_unencoded_password_is_never_printed(cli: Cli, password: str) -> None:
    url = f"postgresql://lwa:{password}@127.0.0.1:{closed_port()}/lwa"
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
    assert result.code == 2
    assert "must be percent-encoded: `/` as %2F, `#` as %23, `?` as %3F, `@` as %40" in result.line
    assert _leaks(password, result.out + result.err) == []


@pytest.mark.timeout(20)
def test_a_shard_range_beyond_the_count_is_one_line_and_exit_2(cli: Cli) -> None:
    """It used to build three billion numbers (0.5 GB a second) before looking at the count."""
    result = cli("check", DISCORD_TOKEN=TOKEN, SHARD_COUNT="4", SHARD_IDS="0-3000000000")
    assert result.code == 2
    assert result.line == (
        "SHARD_IDS shard 4 is outside 0-3 (there are 4) (got '0-3000000000', SHARD_COUNT=4) "
        "(see .env.example)"
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"METRICS_PORT": "99999"}, "METRICS_PORT"), ({"METRICS_HOST": "0.0.0.0:9"}, "METRICS_HOST")],
)
def test_a_bad_metrics_setting_is_one_line_and_exit_2(
    cli: Cli, env: dict[str, str], variable: str
) -> None:
    result = cli("check", DISCORD_TOKEN=TOKEN, **env)
    assert result.code == 2 and result.line.startswith(f"{variable} must be")


def _existing_database(path: Path) -> None:
    async def create() -> None:
        store = SQLiteStore(path)
        await store.open()
        await store.close()

    asyncio.run(create())


# `run` would go on to connect: if the database check broke, the test fails fast on the
# closed port's retries (the timeout) instead of reaching out to Discord.
@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_read_only_database_file_is_refused_before_anything_runs(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    database = tmp_path / "db" / "lwa.sqlite3"
    _existing_database(database)
    database.chmod(0o444)
    # As root, the mode bits alone change nothing: see tests/readonly.py.
    with permission_bits_apply():
        assert_read_only(database)
        result = cli(command, DATABASE_PATH=str(database), **OFFLINE)
    assert result.code == 2
    assert result.line == (
        f"DATABASE_PATH: cannot write to {database}: the database file is read-only for the "
        "bot; give the bot's user write permission on it (and its -wal and -shm files) "
        "(see .env.example)"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("exists", [True, False], ids=["existing-database", "new-database"])
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_read_only_database_folder_is_refused_before_anything_runs(
    cli: Cli, tmp_path: Path, command: str, exists: bool
) -> None:
    folder = tmp_path / "db"
    database = folder / "lwa.sqlite3"
    if exists:
        _existing_database(database)
    else:
        folder.mkdir()
    folder.chmod(0o555)
    try:
        with permission_bits_apply():
            assert_read_only(folder)
            result = cli(command, DATABASE_PATH=str(database), **OFFLINE)
    finally:
        folder.chmod(0o755)  # so that pytest can clean up
    assert result.code == 2
    assert result.line == (
        f"DATABASE_PATH: cannot write to {database}: its folder {folder} is read-only for the "
        "bot, which must create files there (the database and its -wal and -shm files); give "
        "the bot's user write permission on the folder (see .env.example)"
    )


# --- check leaves nothing behind ---------------------------------------------------------

FIRST_RUN = "does not exist yet: the bot will create it at its first run"


def test_check_in_a_fresh_folder_leaves_no_database_behind(cli: Cli) -> None:
    """An operator's first `check` in a fresh clone: the default DATABASE_PATH, lwa.sqlite3,
    relative to the folder they are in. It is tried, and gone again."""
    result = cli("check", DISCORD_TOKEN=TOKEN)
    assert result.code == 0, result.err
    assert sorted(os.listdir(".")) == []  # no lwa.sqlite3, no -wal, no -shm, no -journal
    [line] = [line for line in result.out.splitlines() if line.startswith("database:")]
    assert line.startswith(f"database: SQLite file lwa.sqlite3 {FIRST_RUN} (check created it")
    assert "schema version" in line and line.endswith("then removed it)")


def test_check_removes_the_folders_it_made_for_a_new_database(cli: Cli, tmp_path: Path) -> None:
    database = tmp_path / "state" / "bot" / "lwa.sqlite3"
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(database))
    assert result.code == 0, result.err
    assert not (tmp_path / "state").exists()
    assert f"SQLite file {database} {FIRST_RUN}" in result.out
    assert "then removed it and the folders it made)" in result.out


def test_check_keeps_an_existing_database_byte_for_byte(cli: Cli, tmp_path: Path) -> None:
    database = tmp_path / "lwa.sqlite3"
    _existing_database(database)
    before = database.read_bytes()
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(database))
    assert result.code == 0, result.err
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "lwa.sqlite3"]
    assert f"database: SQLite file {database}, schema version " in result.out
    assert FIRST_RUN not in result.out


def test_check_keeps_what_was_beside_a_new_database(cli: Cli, tmp_path: Path) -> None:
    """Only what the check made goes: a folder it did not make, and a file someone else
    put in a folder it made meanwhile, stay."""
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(folder / "lwa.sqlite3"))
    assert result.code == 0, result.err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_check_leaves_a_new_database_another_program_opened_meanwhile(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot starting for the first time on the same file while `check` runs keeps it."""
    database = tmp_path / "lwa.sqlite3"
    others: list[sqlite3.Connection] = []
    real_open_store = open_store

    async def open_while_another_program_opens_it(
        settings: Settings, clock: Clock | None = None, *, writable: bool = True
    ) -> Store:
        store = await real_open_store(settings, clock, writable=writable)
        other = sqlite3.connect(settings.database_path)
        other.execute("SELECT count(*) FROM sqlite_master").fetchall()
        others.append(other)
        return store

    monkeypatch.setattr("bot.__main__.open_store", open_while_another_program_opens_it)
    try:
        result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(database))
        assert database.exists()
    finally:
        for other in others:
            other.close()
    assert result.code == 0, result.err
    assert "another program opened it meanwhile, so it was left in place" in result.out
    assert FIRST_RUN not in result.out


def test_check_that_fails_on_a_new_database_removes_the_folder_it_made(
    cli: Cli, tmp_path: Path
) -> None:
    database = tmp_path / "new" / f"{'x' * 300}.sqlite3"  # a name no file system takes
    result = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(database))
    assert result.code == 2
    assert result.line.startswith(f"DATABASE_PATH: cannot open the database at {database}")
    assert not (tmp_path / "new").exists()


@pytest.mark.timeout(60)
async def test_check_on_postgresql_touches_no_sqlite_file(cli: Cli) -> None:
    async with fresh_database() as url:
        result = await asyncio.to_thread(cli, "check", DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
    assert result.code == 0, result.err
    assert sorted(os.listdir(".")) == []
    [line] = [line for line in result.out.splitlines() if line.startswith("database:")]
    assert line.startswith("database: PostgreSQL database lwa_t") and FIRST_RUN not in line


@pytest.mark.parametrize("kind", ["quote", "fact", "trivia", "onthisday"])
def test_preview_prints_plain_text_without_a_token(cli: Cli, kind: str) -> None:
    result = cli("preview", kind)
    assert result.code == 0, result.err
    assert result.out.strip()
    assert "<@" not in result.out  # plain text, not Discord markup
    assert not re.search(r"\b(topic|date|quote|fact)\.[a-z_-]+\b", result.out)  # words, not ids


def test_reports_lists_every_servers_reports(cli: Cli, tmp_path: Path) -> None:
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
        await store.resolve_reports(
            guild_id=2,
            question_id="t-nope",
            up_to=2,
            status=ReportStatus.DISMISSED,
            resolved_by=77,
            resolved_at=dt.datetime(2024, 2, 2, tzinfo=dt.UTC),
        )
        await store.close()

    asyncio.run(add())
    result = cli("reports", DATABASE_PATH=str(path))
    assert result.code == 0, result.err
    assert "Wrong answer in server 1" in result.out
    assert "Wrong answer in server 2" in result.out
    assert "Outcome: dismissed by moderator 77 2024-02-02 00:00 UTC; reporter not told yet" in (
        result.out
    )
    assert "Outcome: open" in result.out
    path.chmod(0o444)  # reports only reads: a read-only copy will do
    with permission_bits_apply():
        assert_read_only(path)
        assert cli("reports", DATABASE_PATH=str(path)).out == result.out


# --- check --online: one request to Discord ------------------------------------------------


async def test_check_online_names_the_bot_the_token_belongs_to(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        cli,
        "check",
        "--online",
        DISCORD_TOKEN=emulator.token,
        DISCORD_API_BASE=emulator.api_base,
        DATABASE_PATH=str(tmp_path / "lwa.sqlite3"),
    )
    assert result.code == 0, result.err
    me = emulator.bot_user
    assert f"DISCORD_TOKEN: accepted by Discord, for the bot {me.username} ({me.id})" in (
        result.out.splitlines()
    )
    assert emulator.stats["GET /users/@me"] == 1
    assert emulator.stats["requests"] == 1  # nothing else


async def test_check_online_with_a_token_discord_refuses_is_exit_2(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        cli,
        "check",
        "--online",
        DISCORD_TOKEN=TOKEN,  # well formed, made up
        DISCORD_API_BASE=emulator.api_base,
        DATABASE_PATH=str(tmp_path / "lwa.sqlite3"),
    )
    assert (result.code, result.line) == (2, TOKEN_REFUSED)
    assert result.out == ""


def test_check_online_with_discord_unreachable_is_exit_1(cli: Cli, tmp_path: Path) -> None:
    port = closed_port()
    api = f"http://127.0.0.1:{port}/api/v10"
    result = cli(
        "check",
        "--online",
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=api,
        DATABASE_PATH=str(tmp_path / "lwa.sqlite3"),
    )
    assert result.code == 1
    assert result.line == (
        f"cannot reach Discord at {api}: cannot connect to 127.0.0.1:{port} (Connection "
        "refused): the token was not checked; try again later"
    )


async def test_check_online_against_something_else_than_discords_api_is_exit_1(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.expect_unknown_routes = True  # /elsewhere/users/@me is nothing it knows
    api = f"{emulator.base_url}/elsewhere"
    result = await asyncio.to_thread(
        cli,
        "check",
        "--online",
        DISCORD_TOKEN=emulator.token,
        DISCORD_API_BASE=api,
        DATABASE_PATH=str(tmp_path / "lwa.sqlite3"),
    )
    assert result.code == 1
    assert result.line == (
        f"{api} answered HTTP 404 to GET /users/@me: the token was not checked; check "
        "DISCORD_API_BASE"
    )
