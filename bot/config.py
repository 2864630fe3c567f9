"""Settings: the only module that reads the environment (SPEC §2).

`.env` is loaded with python-dotenv; the real environment wins over it. A missing or malformed
variable raises `ConfigError`, which the CLI turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.domain.shards import Shards, parse_shard_ids

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"


class ConfigError(Exception):
    """A variable is missing or malformed; the message names it and says what is wrong."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem} (see .env.example)")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)  # never printed: repr hides it, logs never get it
    database_path: Path = Path("lwa.sqlite3")
    data_dir: Path = DEFAULT_DATA_DIR
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY_URL
    schedule_grace_minutes: int = 60
    post_rate_per_second: float = 40.0
    # postgresql://…: PostgreSQL instead of the SQLite file (SPEC §8). Hidden from repr: it
    # may hold a password.
    database_url: str | None = field(default=None, repr=False)
    shard_count: int | None = None  # None: Discord's recommendation
    shard_ids: frozenset[int] | None = None  # None: every shard

    @property
    def shards(self) -> Shards:
        """The servers this process serves (all of them unless SHARD_IDS says otherwise)."""
        if self.shard_count is None:
            return Shards()
        return Shards(self.shard_count, self.shard_ids)


def _load_environment(env_file: Path | None) -> dict[str, str]:
    path = env_file if env_file is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)  # the real environment wins over .env
    return values


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.startswith(schemes) or "://" not in raw or len(raw.split("://", 1)[1]) == 0:
        raise ConfigError(name, f"must be a URL starting with {' or '.join(schemes)}, got {raw!r}")
    return raw


def _check_token_form(token: str) -> None:
    """Only the token's form: whether Discord accepts it is for `check --online` or a run."""
    if token[:4].lower() == "bot ":
        # Refused rather than fixed: `.env` keeps exactly what the Developer Portal gave, and
        # the operator learns the header form is not the token (other tools want it bare too).
        raise ConfigError(
            "DISCORD_TOKEN", 'starts with "Bot ": drop the `Bot ` prefix and keep only the token'
        )
    for position, char in enumerate(token, start=1):
        if not (char.isascii() and char.isprintable()):
            # Such a character cannot go in the Authorization header; name it, not the token.
            raise ConfigError(
                "DISCORD_TOKEN",
                f"contains a character that cannot be sent to Discord (U+{ord(char):04X} at "
                f"position {position}): copy the token again from the Developer Portal",
            )
    if " " in token:
        raise ConfigError(
            "DISCORD_TOKEN", "contains a space: copy the token again from the Developer Portal"
        )
    if len(token) < 20:
        raise ConfigError("DISCORD_TOKEN", "does not look like a bot token: it is too short")


def _check_data_dir(path: Path, *, chosen: bool) -> None:
    """DATA_DIR must be a folder; what is in it is the dataset validator's business."""
    try:
        if path.is_dir():
            return
    except OSError as error:  # e.g. a folder on the way that the bot may not enter
        raise ConfigError(
            "DATA_DIR", f"points at {path}, which cannot be read ({error.strerror})"
        ) from None
    if not chosen:
        raise ConfigError(
            "DATA_DIR",
            f"is not set and the repository's data/ folder ({path}) is missing: restore it, "
            "or set DATA_DIR to the dataset folder",
        )
    what = "which is not a folder" if path.exists() else "which does not exist"
    raise ConfigError(
        "DATA_DIR",
        f"points at {path}, {what}: set it to the dataset folder, or leave it unset for the "
        "repository's data/",
    )


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    require_token: bool = True,
    env_file: Path | None = None,
) -> Settings:
    """Build Settings from `env` (default: the process environment plus `.env`)."""
    values = dict(env) if env is not None else _load_environment(env_file)

    token = values.get("DISCORD_TOKEN", "").strip()
    if require_token and not token:
        raise ConfigError("DISCORD_TOKEN", "is not set: put your bot token in .env")
    if token:
        _check_token_form(token)

    level = values.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(
            "LOG_LEVEL", f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}"
        )

    dev_guild = values.get("DEV_GUILD_ID", "").strip()
    if dev_guild and not (dev_guild.isdigit() and 15 <= len(dev_guild) <= 21):
        raise ConfigError("DEV_GUILD_ID", f"must be a server id (a long number), got {dev_guild!r}")

    rate_raw = values.get("POST_RATE_PER_SECOND", "").strip()
    rate = 40.0
    if rate_raw:
        try:
            rate = float(rate_raw)
        except ValueError:
            raise ConfigError(
                "POST_RATE_PER_SECOND", f"must be a number, got {rate_raw!r}"
            ) from None
        if not 0 < rate <= 50:
            raise ConfigError(
                "POST_RATE_PER_SECOND",
                f"must be above 0 and at most 50 (Discord's global limit), got {rate}",
            )

    data_raw = values.get("DATA_DIR", "").strip()
    data_dir = Path(data_raw).expanduser() if data_raw else DEFAULT_DATA_DIR
    _check_data_dir(data_dir, chosen=bool(data_raw))
    db_raw = values.get("DATABASE_PATH", "").strip() or "lwa.sqlite3"
    shard_count, shard_ids = _shards(values)

    return Settings(
        token=token,
        database_path=Path(db_raw).expanduser(),
        data_dir=data_dir,
        log_level=level,
        dev_guild_id=int(dev_guild) if dev_guild else None,
        api_base=_url(values, "DISCORD_API_BASE", DEFAULT_API_BASE, ("http://", "https://")).rstrip(
            "/"
        ),
        gateway_url=_url(values, "DISCORD_GATEWAY_URL", DEFAULT_GATEWAY_URL, ("ws://", "wss://")),
        schedule_grace_minutes=_int(values, "SCHEDULE_GRACE_MINUTES", 60, minimum=0),
        post_rate_per_second=rate,
        database_url=_database_url(values),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )


def _database_url(values: Mapping[str, str]) -> str | None:
    raw = values.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("postgresql://", "postgres://")):
        scheme = raw.split("://", 1)[0] if "://" in raw else "no scheme"
        raise ConfigError(
            "DATABASE_URL",
            f"must be a PostgreSQL URL (postgresql://user@host:5432/name), got {scheme}; "
            "leave it unset to use the SQLite file DATABASE_PATH",
        )
    return raw


def _shards(values: Mapping[str, str]) -> tuple[int | None, frozenset[int] | None]:
    raw_count = values.get("SHARD_COUNT", "").strip()
    count = _int(values, "SHARD_COUNT", 1, minimum=1) if raw_count else None
    raw_ids = values.get("SHARD_IDS", "").strip()
    if not raw_ids:
        return count, None
    if count is None:
        raise ConfigError(
            "SHARD_IDS", "needs SHARD_COUNT too: the total number of shards of all processes"
        )
    try:
        ids = parse_shard_ids(raw_ids)
        Shards(count, ids)
    except ValueError as error:
        raise ConfigError("SHARD_IDS", f"{error} (got {raw_ids!r}, SHARD_COUNT={count})") from None
    return count, ids
