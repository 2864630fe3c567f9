"""Small helpers shared by the end-to-end tests: the shipped dataset, and reading replies."""

from __future__ import annotations

import functools
from typing import Any

from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset

NO_PINGS = {"parse": []}


@functools.cache
def dataset() -> Dataset:
    return load_dataset(DEFAULT_DATA_DIR)


def footer_id(embed: dict[str, Any]) -> str:
    """The item id at the end of an embed's footer ("Quote q-…", "Fact f-…")."""
    return str(embed["footer"]["text"]).split()[-1]


def field(embed: dict[str, Any], name: str) -> str:
    for f in embed.get("fields", []):
        if f["name"] == name:
            return str(f["value"])
    raise AssertionError(f"no field {name!r} in {embed}")


def all_text(embed: dict[str, Any]) -> str:
    parts = [
        embed.get("title", ""),
        embed.get("description", ""),
        embed.get("footer", {}).get("text", ""),
    ]
    parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)
