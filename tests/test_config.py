"""Settings come from the environment only, and bad values get one clear line (SPEC §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR, ConfigError, load_settings

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
