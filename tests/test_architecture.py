"""The import graph keeps the shape of ARCHITECTURE.md: imports point down only.

domain (pure) <- store <- services <- scheduler, cogs, ui, errors, checks, posting <- app;
and cogs, ui and checks reach the store only through a service.
Read from the source with `ast` (imports under `if TYPE_CHECKING:` are types only, and do not
count), so a wrong arrow fails here before it tangles the package.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """Modules `path` imports when it runs (not those under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@functools.cache
def modules() -> dict[str, set[str]]:
    """Every module of the bot and what it imports at run time (read when a test first asks,
    not at collection, which every test process does)."""
    return {module_name(p): runtime_imports(p) for p in sorted(BOT.rglob("*.py"))}


def imports_of(prefix: str) -> dict[str, set[str]]:
    return {m: i for m, i in modules().items() if m == prefix or m.startswith(prefix + ".")}


def offending(prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports_of(prefix).items()
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_the_graph_was_read() -> None:
    assert "bot.domain.trivia" in modules() and "bot.services.games" in modules()
    assert "bot.domain.models" in modules()["bot.domain.trivia"]


def test_the_domain_is_pure() -> None:
    """No Discord, no database driver, nothing of ours above it."""
    above = ("bot.store", "bot.services", "bot.cogs", "bot.ui", "bot.app", "bot.scheduler")
    drivers = ("discord", "aiosqlite", "sqlite3", "asyncpg", "aiohttp")
    assert offending("bot.domain", (*above, *drivers, "bot.errors", "bot.checks")) == []


def test_the_store_sits_on_the_domain_only() -> None:
    above = ("bot.services", "bot.cogs", "bot.ui", "bot.app", "bot.scheduler", "discord")
    assert offending("bot.store", (*above, "bot.errors", "bot.checks", "bot.posting")) == []


def test_services_never_see_discord_nor_anything_above_them() -> None:
    above = ("bot.cogs", "bot.ui", "bot.app", "bot.scheduler", "bot.errors", "bot.checks")
    assert offending("bot.services", (*above, "bot.posting", "discord", "aiohttp")) == []


def test_nothing_imports_a_cog() -> None:
    """Cogs are loaded by name (the app's extension list), never imported."""
    importers = {
        module: sorted(n for n in imported if n.startswith("bot.cogs"))
        for module, imported in modules().items()
        if not module.startswith("bot.cogs")
    }
    assert {module: cogs for module, cogs in importers.items() if cogs} == {}


def test_the_scheduler_posts_through_services_not_cogs() -> None:
    assert offending("bot.scheduler", ("bot.cogs", "bot.app")) == []


def test_the_scheduler_is_a_plain_dispatcher() -> None:
    """No Discord type and no rendering: those are its port's (bot/posting.py)."""
    forbidden = ("discord", "aiohttp", "bot.ui", "bot.posting", "bot.errors", "bot.checks")
    assert offending("bot.scheduler", forbidden) == []


def test_cogs_stay_thin() -> None:
    too_long = {
        p.name: n
        for p in (BOT / "cogs").glob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 220
    }
    assert too_long == {}


# Cogs, ui and checks reach the store only through a service (ARCHITECTURE.md): neither an
# import of it nor an attribute named `store` (`self.bot.store`, `interaction.client.store`),
# which no import graph would show.
EDGES = ("bot.cogs", "bot.ui", "bot.checks", "bot.errors")


def store_attributes(path: Path) -> list[int]:
    """The lines of `path` that read an attribute called `store`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "store"
    )


def test_cogs_ui_and_checks_never_import_the_store() -> None:
    assert [o for edge in EDGES for o in offending(edge, ("bot.store",))] == []


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in BOT.rglob("*.py")
        if any(module_name(p) == e or module_name(p).startswith(e + ".") for e in EDGES)
    ),
    ids=lambda p: str(p.relative_to(BOT.parent)),
)
def test_cogs_ui_and_checks_never_touch_the_store(path: Path) -> None:
    assert store_attributes(path) == [], f"{path.name} reads `.store`: ask a service instead"


def test_the_store_attribute_check_sees_a_reach_around(tmp_path: Path) -> None:
    sample = tmp_path / "cog.py"
    sample.write_text("async def f(interaction):\n    await interaction.client.store.x()\n")
    assert store_attributes(sample) == [2]
