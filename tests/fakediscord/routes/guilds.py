"""REST: reading guilds, their channels, roles and members."""

from __future__ import annotations

from typing import Any

from ..models import Guild
from ..rest import ApiError, Request, not_found, route
from ..world import World


class GuildRoutes:
    def __init__(self, world: World) -> None:
        self.world = world

    @route("GET", "/guilds/{guild_id}")
    async def get_guild(self, req: Request) -> Any:
        guild = self._guild(req)
        data = guild.to_payload()
        if req.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    @route("GET", "/guilds/{guild_id}/channels")
    async def channels(self, req: Request) -> Any:
        guild = self._guild(req)
        return [c.to_payload() for c in guild.channels.values() if not c.deleted]

    @route("GET", "/guilds/{guild_id}/roles")
    async def roles(self, req: Request) -> Any:
        return [r.to_payload() for r in self._guild(req).roles.values()]

    @route("GET", "/guilds/{guild_id}/members")
    async def members(self, req: Request) -> Any:
        guild = self._guild(req)
        limit = max(1, min(1000, int(req.query.get("limit", 1))))
        after = int(req.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return [m.to_payload() for m in members[:limit]]

    @route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def member(self, req: Request) -> Any:
        guild = self._guild(req)
        uid = req.params["user_id"]
        member = guild.members.get(int(uid)) if uid.isdigit() else None
        if member is None:
            raise not_found("Member", 10007)
        return member.to_payload()

    def _guild(self, req: Request) -> Guild:
        gid = req.params["guild_id"]
        guild = self.world.guild_by_id.get(int(gid)) if gid.isdigit() else None
        if guild is None:
            if gid.isdigit() and int(gid) in self.world.other_guilds:
                raise ApiError(403, 50001, "Missing Access")  # a server without the bot
            raise not_found("Guild", 10004)
        return guild
