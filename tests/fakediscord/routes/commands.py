"""REST: application commands, global and per guild. Each handler serves both scopes: the
guild route's ``req.params`` has a ``guild_id``. Bulk overwrite keeps the ids of commands
that stay; the commands outlive a bot restart (they are the world's)."""

from __future__ import annotations

import copy
from typing import Any

from ..context import Context
from ..models import snowflake
from ..rest import ApiError, Checks, Request, not_found, route
from ..validation import validate_command, validate_command_list
from ..world import World

CommandStore = dict[int, dict[str, Any]]


def both_scopes(tail: str) -> tuple[str, str]:
    """The route ``tail`` for the application's global commands and for one guild's."""
    return (
        "/applications/{application_id}" + tail,
        "/applications/{application_id}/guilds/{guild_id}" + tail,
    )


class CommandRoutes:
    def __init__(self, ctx: Context, world: World, checks: Checks) -> None:
        self.ctx = ctx
        self.world = world
        self.checks = checks

    @route("GET", *both_scopes("/commands"))
    async def list_commands(self, req: Request) -> Any:
        store, _ = self._store(req)
        return list(store.values())

    @route("PUT", *both_scopes("/commands"))
    async def bulk_overwrite(self, req: Request) -> Any:
        store, gid = self._store(req)
        self.checks.check(req, validate_command_list(req.payload, guild=gid is not None))
        by_key = {(c.get("type", 1), c["name"]): c for c in store.values()}
        new: CommandStore = {}
        for cmd in req.payload:
            stored = self._stored(cmd, gid, by_key.get((cmd.get("type", 1), cmd["name"])))
            new[int(stored["id"])] = stored
        store.clear()
        store.update(new)
        self.ctx.stats["commands:bulk_overwrite"] += 1
        self.ctx.notify()
        return list(store.values())

    @route("POST", *both_scopes("/commands"))
    async def create(self, req: Request) -> Any:
        store, gid = self._store(req)
        self.checks.check(req, validate_command(req.payload))
        key = (req.payload.get("type", 1), req.payload["name"])
        existing = next((c for c in store.values() if (c.get("type", 1), c["name"]) == key), None)
        errors = validate_command_list(
            [*(c for c in store.values() if c is not existing), req.payload], guild=gid is not None
        )
        self.checks.check(req, errors)
        stored = self._stored(req.payload, gid, existing)
        store[int(stored["id"])] = stored
        self.ctx.notify()
        return stored

    @route("GET", *both_scopes("/commands/{command_id}"))
    async def get(self, req: Request) -> Any:
        return self._command(req)[1]

    @route("PATCH", *both_scopes("/commands/{command_id}"))
    async def edit(self, req: Request) -> Any:
        store, cmd = self._command(req)
        merged = {**cmd, **(req.payload or {})}
        self.checks.check(req, validate_command(merged))
        merged["version"] = str(snowflake())
        store[int(cmd["id"])] = merged
        self.ctx.notify()
        return merged

    @route("DELETE", *both_scopes("/commands/{command_id}"))
    async def delete(self, req: Request) -> Any:
        store, cmd = self._command(req)
        del store[int(cmd["id"])]
        self.ctx.notify()
        return None

    @route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions")
    async def permissions(self, req: Request) -> Any:
        self._store(req)
        return []

    # ----------------------------------------------------------------------
    def _store(self, req: Request) -> tuple[CommandStore, int | None]:
        """The commands of the route's scope, and its guild id (None: global)."""
        if int(req.params["application_id"]) != self.ctx.application_id:
            raise ApiError(403, 50001, "Missing Access")
        gid = req.params.get("guild_id")
        if gid is None:
            return self.world.global_commands, None
        if not gid.isdigit() or int(gid) not in self.world.guild_by_id:
            raise ApiError(403, 50001, "Missing Access")
        return self.world.guild_commands.setdefault(int(gid), {}), int(gid)

    def _command(self, req: Request) -> tuple[CommandStore, dict[str, Any]]:
        store, _ = self._store(req)
        cid = req.params["command_id"]
        cmd = store.get(int(cid)) if cid.isdigit() else None
        if cmd is None:
            raise not_found("application command", 10063)
        return store, cmd

    def _stored(
        self, cmd: dict[str, Any], guild_id: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The command as Discord stores and returns it (``existing``: the one it replaces)."""
        stored = copy.deepcopy(cmd)
        stored.setdefault("type", 1)
        stored["id"] = existing["id"] if existing else str(snowflake())
        stored["application_id"] = str(self.ctx.application_id)
        stored["version"] = str(snowflake())
        stored.setdefault("description", "")
        stored.setdefault("default_member_permissions", None)
        stored.setdefault("nsfw", False)
        stored.setdefault("options", [])
        stored.setdefault("name_localizations", None)
        stored.setdefault("description_localizations", None)
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        else:
            stored.setdefault("integration_types", [0])
            stored.setdefault("contexts", None)
            stored.setdefault("dm_permission", True)
        return stored
