"""The Love Wins All bot: a Discord fan bot for IU's "Love wins all" (feat. V)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lwa-bot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
