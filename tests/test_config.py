"""Settings come from the environment only, and bad values get one clear line (SPEC §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR, ConfigError, check_database_url, load_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-tests"


def test_defaults() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN})
    assert settings.database_path == Path("lwa.sqlite3")
    assert settings.data_dir == DEFAULT_DATA_DIR
    assert settings.log_level == "INFO"
    assert settings.dev_guild_id is None
    assert settings.api_base == "https://discord.com/api/v10"
    assert settings.gateway_url == "wss://gateway.discord.gg/"
    assert settings.schedule_grace_minutes == 60
    assert settings.post_rate_per_second == 40
    assert settings.metrics_port is None  # no metrics server unless asked for
    assert settings.metrics_host == "127.0.0.1"


def test_every_variable_is_read(tmp_path: Path) -> None:
    (tmp_path / "mydata").mkdir()
    settings = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_PATH": "state/bot.db",
            "DATA_DIR": str(tmp_path / "mydata"),
            "LOG_LEVEL": "debug",
            "DEV_GUILD_ID": "123456789012345678",
            "DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8080/",
            "SCHEDULE_GRACE_MINUTES": "15",
            "POST_RATE_PER_SECOND": "12.5",
            "METRICS_PORT": "9108",
            "METRICS_HOST": "0.0.0.0",
        }
    )
    assert settings.database_path == Path("state/bot.db")
    assert settings.data_dir == tmp_path / "mydata"
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id == 123456789012345678
    assert settings.api_base == "http://127.0.0.1:8080/api/v10"
    assert settings.gateway_url == "ws://127.0.0.1:8080/"
    assert settings.schedule_grace_minutes == 15
    assert settings.post_rate_per_second == 12.5
    assert settings.metrics_port == 9108
    assert settings.metrics_host == "0.0.0.0"


def test_the_token_is_never_in_the_repr() -> None:
    assert TOKEN not in repr(load_settings({"DISCORD_TOKEN": TOKEN}))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "short"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"Bot {TOKEN}"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"bot {TOKEN}"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"{TOKEN}\x00"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"{TOKEN[:5]}\r\n{TOKEN[5:]}"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"{TOKEN}é"}, "DISCORD_TOKEN"),
        ({"DATA_DIR": "/nonexistent/lwa-data"}, "DATA_DIR"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DEV_GUILD_ID": "my-server"}, "DEV_GUILD_ID"),
        ({"DISCORD_API_BASE": "discord.com/api"}, "DISCORD_API_BASE"),
        ({"DISCORD_GATEWAY_URL": "http://gateway"}, "DISCORD_GATEWAY_URL"),
        ({"SCHEDULE_GRACE_MINUTES": "an hour"}, "SCHEDULE_GRACE_MINUTES"),
        ({"SCHEDULE_GRACE_MINUTES": "-5"}, "SCHEDULE_GRACE_MINUTES"),
        ({"POST_RATE_PER_SECOND": "fast"}, "POST_RATE_PER_SECOND"),
        ({"POST_RATE_PER_SECOND": "80"}, "POST_RATE_PER_SECOND"),
        ({"DATABASE_URL": "mysql://db/lwa"}, "DATABASE_URL"),
        ({"DATABASE_URL": "lwa.sqlite3"}, "DATABASE_URL"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS"),  # without SHARD_COUNT
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0-2"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,2"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "first"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-3000000000"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "3000000000", "SHARD_IDS": "0-2999999999"}, "SHARD_COUNT"),
        ({"DATABASE_URL": "postgresql://u:p@127.0.0.1:99999/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@[bad/db"}, "DATABASE_URL"),
        ({"METRICS_PORT": "0"}, "METRICS_PORT"),
        ({"METRICS_PORT": "65536"}, "METRICS_PORT"),
        ({"METRICS_PORT": "metrics"}, "METRICS_PORT"),
        ({"METRICS_PORT": "9108.5"}, "METRICS_PORT"),
        ({"METRICS_PORT": "-1"}, "METRICS_PORT"),
        ({"METRICS_HOST": "http://0.0.0.0"}, "METRICS_HOST"),
        ({"METRICS_HOST": "my host"}, "METRICS_HOST"),
        ({"METRICS_HOST": "[::1]"}, "METRICS_HOST"),
        ({"METRICS_HOST": "0.0.0.0:9108"}, "METRICS_HOST"),
        ({"METRICS_HOST": "-bad-.example"}, "METRICS_HOST"),
        ({"LOCALES_DIR": "no-such-folder"}, "LOCALES_DIR"),
    ],
)
def test_a_bad_variable_is_named(env: dict[str, str], variable: str) -> None:
    full = {"DISCORD_TOKEN": TOKEN, **env} if variable != "DISCORD_TOKEN" else env
    with pytest.raises(ConfigError) as caught:
        load_settings(full)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)
    assert ".env.example" in str(caught.value)


def test_the_real_environment_wins_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\nLOG_LEVEL=WARNING\nDATABASE_PATH=from-file.db\n")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.delenv("DATABASE_PATH", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    settings = load_settings(env_file=env_file)
    assert settings.log_level == "ERROR"
    assert settings.database_path == Path("from-file.db")
    assert settings.token == TOKEN


def test_a_bot_prefix_gets_the_hint_to_drop_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": f"Bot {TOKEN}"})
    assert "drop the `Bot ` prefix" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_control_character_is_named_but_not_the_token() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": f"{TOKEN[:3]}\x07{TOKEN[3:]}"})
    assert str(caught.value) == (
        "DISCORD_TOKEN contains a character that cannot be sent to Discord (U+0007 at position "
        "4): copy the token again from the Developer Portal (see .env.example)"
    )


def test_data_dir_must_be_a_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "facts.toml"
    a_file.write_text("")
    for path, what in (
        (tmp_path / "missing", "which does not exist"),
        (a_file, "which is not a folder"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_settings({"DISCORD_TOKEN": TOKEN, "DATA_DIR": str(path)})
        assert str(caught.value) == (
            f"DATA_DIR points at {path}, {what}: set it to the dataset folder, or leave it unset "
            "for the repository's data/ (see .env.example)"
        )
    assert load_settings({"DISCORD_TOKEN": TOKEN, "DATA_DIR": str(tmp_path)}).data_dir == tmp_path


def test_shards_and_the_database_url() -> None:
    url = "postgresql://lwa:secret@127.0.0.1:5432/lwa"
    settings = load_settings(
        {"DISCORD_TOKEN": TOKEN, "DATABASE_URL": url, "SHARD_COUNT": "8", "SHARD_IDS": "0-2, 6"}
    )
    assert settings.database_url == url
    assert "secret" not in repr(settings)  # the URL may hold a password
    assert settings.shard_count == 8 and settings.shard_ids == frozenset({0, 1, 2, 6})
    assert settings.shards.share == 0.5
    alone = load_settings({"DISCORD_TOKEN": TOKEN})
    assert alone.database_url is None and alone.shards.everything and alone.shards.share == 1.0
    every = load_settings({"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "3"})
    assert every.shard_ids is None and every.shards.everything


@pytest.mark.timeout(10)
def test_a_shard_range_beyond_the_count_is_refused_before_anything_is_built() -> None:
    """`0-3000000000` used to become three billion numbers before the range was checked."""
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "4", "SHARD_IDS": "0-3000000000"})
    assert str(caught.value) == (
        "SHARD_IDS shard 4 is outside 0-3 (there are 4) (got '0-3000000000', SHARD_COUNT=4) "
        "(see .env.example)"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "3000000000", "SHARD_IDS": "0-2999999999"}
        )
    assert str(caught.value) == (
        "SHARD_COUNT must be at most 100000, got 3000000000 (see .env.example)"
    )
    top = load_settings({"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "100000", "SHARD_IDS": "99999"})
    assert top.shard_ids == frozenset({99999})


# --- DATABASE_URL ----------------------------------------------------------------------------

ENCODE = (
    "such characters in a password (or user name) must be percent-encoded: "
    "`/` as %2F, `#` as %23, `?` as %3F, `@` as %40, `%` as %25, `[` as %5B, `]` as %5D"
)
# Passwords an operator may paste without encoding them; none may be echoed, even in part.
PASSWORDS = [
    "Xq7S3/kZwv",
    "Lm#9Qz8vTr",
    "Rt5?Wn6Yb",
    "Hk2@Ps9Vd",
    "a/Zb#Yc?Xd@W",
    "Xq7S3/a:99",
    "Vb[7Kw]Qe",
    "Pr%zz9Lx",
]


def leaks(secret: str, text: str) -> list[str]:
    """The pieces of `secret` longer than 2 characters that `text` contains."""
    return [secret[i : i + 3] for i in range(len(secret) - 2) if secret[i : i + 3] in text]


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("host", ["127.0.0.1", "db.example.org:5432", "[::1]:6543"])
def test_a_password_needing_encoding_is_explained_never_echoed(password: str, host: str) -> None:
    url = f"postgresql://lwa:{password}@{host}/lwa"
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": url})
    message = str(caught.value)
    assert message.startswith("DATABASE_URL ") and ENCODE in message, message
    assert leaks(password, message) == [], message
    assert "\n" not in message
    encoded = "".join(f"%{ord(c):02X}" if c in "/#?@:[]%" else c for c in password)
    fixed = f"postgresql://lwa:{encoded}@{host}/lwa"
    assert load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": fixed}).database_url == fixed


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "mysql://lwa@db/lwa",
            "must be a PostgreSQL URL (postgresql://user:password@host:5432/name), not mysql://",
        ),
        (
            "lwa.sqlite3",
            "must be a PostgreSQL URL (postgresql://user:password@host:5432/name), "
            "starting with postgresql://",
        ),
        ("postgresql://u:p@127.0.0.1:99999/db", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u:p@127.0.0.1:0/db", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u:p@127.0.0.1:54x2/db", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u@h/db?port=70000", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u:p@[bad/db", "has a `[` that does not open an IPv6 address"),
        ("postgresql://u:p@[::1/db", "has a `[` that does not open an IPv6 address"),
        ("postgresql://u:p@[nothex]:5432/db", "has a `[` that does not open an IPv6 address"),
        ("postgresql://u:p@/db", "names no host"),
        ("postgresql://u:p@h1,,h2/db", "names no host"),
        ("postgresql://u:p@my host/db", "has a host that cannot be read"),
        ("postgresql://u:p@127.0.0.1:5432", "names no database"),
        ("postgresql://u:p@127.0.0.1:5432/", "names no database"),
        ("postgresql://u:p@127.0.0.1/db/extra", "has a `/` in the database name"),
        ("postgresql://u:p@127.0.0.1/db?sslmode", "has options after `?` that cannot be read"),
        ("postgresql://", "names no host"),
    ],
)
def test_a_database_url_is_checked_where_it_is_read(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": url})
    assert caught.value.variable == "DATABASE_URL"
    assert str(caught.value).startswith(f"DATABASE_URL {problem}"), str(caught.value)
    assert str(caught.value).endswith("(see .env.example)")
    assert caught.value.problem in str(caught.value)
    with pytest.raises(ConfigError) as again:  # the same check, for `migrate --to`
        check_database_url(url, "--to")
    # (only DATABASE_URL can be left unset for the SQLite file: --to has no such hint)
    assert again.value.variable == "--to" and caught.value.problem.startswith(again.value.problem)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://lwa:secret@127.0.0.1:5432/lwa",
        "postgres://lwa@db.example.org/lwa?sslmode=require",
        "postgresql://lwa@[::1]:5432/lwa",
        "postgresql://lwa@[fe80::1%25eth0]/lwa",
        "postgresql://lwa@primary:5432,standby:5433/lwa?target_session_attrs=read-write",
        "postgresql://lwa@/lwa?host=/sockets/pg",
        "postgresql://lwa@localhost/?dbname=lwa",
        "postgresql://lwa:p%2Fw%23x%3Fy%40z@127.0.0.1:1/lwa",
        "postgresql://lwa@127.0.0.1:65535/l%2Fwa",
        "PostgreSQL://lwa@127.0.0.1/lwa",
    ],
)
def test_urls_postgresql_accepts_are_accepted(url: str) -> None:
    assert load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": url}).database_url == url
    assert check_database_url(f"  {url} ", "--to") == url


def test_metrics_settings() -> None:
    on = load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_PORT": " 9108 ", "METRICS_HOST": "::"})
    assert on.metrics_port == 9108 and on.metrics_host == "::"
    for host in ("localhost", "metrics.internal.example", "10.0.0.7", "::1", "0.0.0.0"):
        assert load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_HOST": host}).metrics_host == host
    blank = load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_PORT": "", "METRICS_HOST": " "})
    assert blank.metrics_port is None and blank.metrics_host == "127.0.0.1"
    edges = [load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_PORT": p}) for p in ("1", "65535")]
    assert [s.metrics_port for s in edges] == [1, 65535]
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_PORT": "99999"})
    assert str(caught.value) == (
        "METRICS_PORT must be a port number from 1 to 65535, got '99999'; leave it unset to "
        "turn the metrics server off (see .env.example)"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, "METRICS_HOST": "http://0.0.0.0"})
    assert str(caught.value) == (
        "METRICS_HOST must be a host name or IP address to listen on, such as 127.0.0.1 (this "
        "machine only) or 0.0.0.0 (every interface), got 'http://0.0.0.0' (see .env.example)"
    )


def _as_asyncpg_reads_it(url: str) -> tuple[object, ...]:
    """What the driver makes of `url`: (user, password, database, [(host, port)])."""
    from asyncpg import connect_utils

    # Every argument but the URL left to it, as asyncpg.connect(url) does.
    others = "host port user password passfile database ssl service servicefile direct_tls"
    others += " server_settings target_session_attrs krbsrvname gsslib"
    addresses, params = connect_utils._parse_connect_dsn_and_args(
        dsn=url, **dict.fromkeys(others.split())
    )
    return params.user, params.password, params.database, addresses


def test_a_url_accepted_is_one_the_driver_reads_as_meant() -> None:
    """Any character in a password, at its start, middle or end: either the URL is refused
    (and nothing of the password shown), or PostgreSQL's driver reads the very user, password,
    host, port and database. (One test over the 294 cases: each is a microsecond.)"""
    wrong = []
    for char in [chr(c) for c in range(32, 127)] + ["é", "한", "\u00a0"]:
        for password in (f"{char}QzWk", f"Qz{char}Wk", f"QzWk{char}"):
            url = f"postgresql://lwa:{password}@127.0.0.1:5433/lwa"
            try:
                check_database_url(url)
            except ConfigError as error:
                if leaks(password, str(error)):
                    wrong.append(f"{password!r}: refused, showing {leaks(password, str(error))}")
                continue
            read = _as_asyncpg_reads_it(url)
            if read != ("lwa", password, "lwa", [("127.0.0.1", 5433)]):
                wrong.append(f"{password!r}: accepted, but the driver reads {read}")
    assert wrong == []
