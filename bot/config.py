"""Settings: the only module that reads the environment (SPEC §2).

`.env` is loaded with python-dotenv; the real environment wins over it. A missing or malformed
variable raises `ConfigError`, which the CLI turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote

from dotenv import dotenv_values

from bot.domain.shards import Shards, parse_shard_ids

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
DEFAULT_METRICS_HOST = "127.0.0.1"
# More shards than any bot needs (Discord asks for one per 2,500 servers at most), and few
# enough that the list of a process's shards is always small.
MAX_SHARD_COUNT = 100_000


class ConfigError(Exception):
    """A variable is missing or malformed; the message names it and says what is wrong."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem} (see .env.example)")
        self.variable = variable
        self.problem = problem


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
    metrics_port: int | None = None  # None: no metrics server
    metrics_host: str = DEFAULT_METRICS_HOST
    # A copy of bot/locales to speak from instead (a translator trying a translation): None,
    # the bot's own messages.
    locales_dir: Path | None = None

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


def _int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, f"must be at most {maximum}, got {value}")
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
        metrics_port=_metrics_port(values),
        metrics_host=_metrics_host(values),
        locales_dir=_locales_dir(values),
    )


def _locales_dir(values: Mapping[str, str]) -> Path | None:
    """LOCALES_DIR: a folder laid out as bot/locales (en/ and ko/, each with .po files)."""
    raw = values.get("LOCALES_DIR", "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    try:
        whole = all(any((path / language).glob("*.po")) for language in ("en", "ko"))
    except OSError as error:
        raise ConfigError(
            "LOCALES_DIR", f"points at {path}, which cannot be read ({error.strerror})"
        ) from None
    if not whole:
        raise ConfigError(
            "LOCALES_DIR",
            f"points at {path}, which has no en/ and ko/ folders of .po files: copy the bot's "
            "bot/locales folder there, or leave it unset for the bot's own messages",
        )
    return path


def _database_url(values: Mapping[str, str]) -> str | None:
    raw = values.get("DATABASE_URL", "").strip()
    return check_database_url(raw) if raw else None


# --- PostgreSQL URLs -----------------------------------------------------------------------
# A URL is read here by hand, never by a URL parser whose error would quote it: a password
# with an unencoded `/` makes a parser read part of it as the port, and print it. No message
# below holds any part of the URL (the scheme aside, when it is a well-formed scheme name).

_URL_FORM = "postgresql://user:password@host:5432/name"
_ENCODE_HINT = (
    "such characters in a password (or user name) must be percent-encoded: "
    "`/` as %2F, `#` as %23, `?` as %3F, `@` as %40, `%` as %25, `[` as %5B, `]` as %5D"
)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME_NAME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")
_HOST_NAME = re.compile(r"[A-Za-z0-9._~%-]+")
_IPV6_HOST = re.compile(r"\[(?P<address>[^\[\]/]+)\](?::(?P<port>[^:]*))?")


def check_database_url(raw: str, variable: str = "DATABASE_URL") -> str:
    """`raw` (trimmed) when it is a PostgreSQL URL the bot can use: scheme, host (or a `host=`
    option), ports 1-65535, a database name. Else ConfigError naming `variable` (DATABASE_URL,
    or `--to` for migrate), saying what to do and quoting no part of the URL."""
    url = raw.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.casefold() not in ("postgresql", "postgres"):
        shown = f"not {scheme}://" if sep and _SCHEME_NAME.fullmatch(scheme) else None
        unset = "; leave it unset to use the SQLite file DATABASE_PATH"
        raise ConfigError(
            variable,
            f"must be a PostgreSQL URL ({_URL_FORM}), {shown or 'starting with postgresql://'}"
            + (unset if variable == "DATABASE_URL" else ""),
        )
    if "#" in rest:
        raise ConfigError(
            variable, f"has a `#`, which a PostgreSQL URL cannot hold; {_ENCODE_HINT}"
        )
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in tail or authority.count("@") > 1:
        # The `@` that ends user:password is not where a URL reader looks for it: a `/`, `?`
        # or `@` inside the password comes first.
        raise ConfigError(
            variable,
            f"cannot be read: its password (or user name) holds a `/`, `?` or `@`; {_ENCODE_HINT}",
        )
    user_info, _, hosts = authority.rpartition("@")
    if "[" in user_info or "]" in user_info or _BAD_ESCAPE.search(user_info):
        raise ConfigError(
            variable,
            f"cannot be read: its user name or password holds a `[`, `]` or `%`; {_ENCODE_HINT}",
        )
    path, _, query = tail.partition("?")
    try:
        options = (
            {k: v[-1] for k, v in parse_qs(query, strict_parsing=True).items()} if query else {}
        )
    except ValueError:
        raise ConfigError(
            variable,
            "has options after `?` that cannot be read: write them as ?name=value&name=value "
            "(a `?` inside the password must be written %3F)",
        ) from None
    if hosts:
        for spec in hosts.split(","):
            _check_host(spec, variable)
    elif not options.get("host"):
        raise ConfigError(variable, f"names no host: write it as {_URL_FORM}")
    for port in filter(None, options.get("port", "").split(",")):
        _check_port(port, variable)
    name = unquote(path[1:])  # the path starts with its `/` when there is one
    if "/" in path[1:]:
        raise ConfigError(
            variable, f"has a `/` in the database name: write it as %2F, or the URL as {_URL_FORM}"
        )
    if not name and not (options.get("dbname") or options.get("database")):
        raise ConfigError(variable, f"names no database: end it with /name, as in {_URL_FORM}")
    return url


def _check_host(spec: str, variable: str) -> None:
    """One `host[:port]` of the URL's host list (`[IPv6]:port` too)."""
    if not spec:
        raise ConfigError(variable, f"names no host: write it as {_URL_FORM}")
    if "[" in spec or "]" in spec:
        match = _IPV6_HOST.fullmatch(spec)
        address = unquote(match["address"]).partition("%")[0] if match else ""
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise ConfigError(
                variable,
                "has a `[` that does not open an IPv6 address: write one as [::1] or "
                "[::1]:5432, and a host name or IPv4 address without brackets",
            ) from None
        port = match["port"] if match else None
    else:
        host, _, port = spec.partition(":")
        if not host:
            raise ConfigError(variable, f"names no host: write it as {_URL_FORM}")
        if not _HOST_NAME.fullmatch(host):
            raise ConfigError(
                variable,
                "has a host that cannot be read: use a host name or IP address, such as "
                f"db.example.org or 127.0.0.1, as in {_URL_FORM}",
            )
    if port:
        _check_port(port, variable)


def _check_port(text: str, variable: str) -> None:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 65535):
        raise ConfigError(
            variable,
            f"has a port that is not a number from 1 to 65535: write the URL as {_URL_FORM}",
        )


# --- the metrics server ----------------------------------------------------------------------


def _metrics_port(values: Mapping[str, str]) -> int | None:
    raw = values.get("METRICS_PORT", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 65535):
        raise ConfigError(
            "METRICS_PORT",
            f"must be a port number from 1 to 65535, got {raw!r}; leave it unset to turn the "
            "metrics server off",
        )
    return int(raw)


def _metrics_host(values: Mapping[str, str]) -> str:
    raw = values.get("METRICS_HOST", "").strip()
    if not raw:
        return DEFAULT_METRICS_HOST
    if not _is_address(raw) and not _is_host_name(raw):
        raise ConfigError(
            "METRICS_HOST",
            "must be a host name or IP address to listen on, such as 127.0.0.1 (this machine "
            f"only) or 0.0.0.0 (every interface), got {raw!r}",
        )
    return raw


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _is_host_name(text: str) -> bool:
    """A DNS host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens."""
    name = text[:-1] if text.endswith(".") else text
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def _shards(values: Mapping[str, str]) -> tuple[int | None, frozenset[int] | None]:
    raw_count = values.get("SHARD_COUNT", "").strip()
    count = (
        _int(values, "SHARD_COUNT", 1, minimum=1, maximum=MAX_SHARD_COUNT) if raw_count else None
    )
    raw_ids = values.get("SHARD_IDS", "").strip()
    if not raw_ids:
        return count, None
    if count is None:
        raise ConfigError(
            "SHARD_IDS", "needs SHARD_COUNT too: the total number of shards of all processes"
        )
    try:
        ids = parse_shard_ids(raw_ids, count)  # checked against the count before it is built
        Shards(count, ids)
    except ValueError as error:
        raise ConfigError("SHARD_IDS", f"{error} (got {raw_ids!r}, SHARD_COUNT={count})") from None
    return count, ids
