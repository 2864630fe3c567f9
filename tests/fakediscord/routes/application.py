"""REST: the bot's user and other users, DM channels, the gateway's address and the
application's info."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..gateway import Shards
from ..rest import Request, not_found, route
from ..world import World


class ApplicationRoutes:
    def __init__(self, ctx: Context, world: World, shards: Shards) -> None:
        self.ctx = ctx
        self.world = world
        # what GET /gateway/bot says (``shard_count``, ``max_concurrency``)
        self.shards = shards

    @route("GET", "/users/@me")
    async def me(self, req: Request) -> Any:
        return {
            **self.ctx.bot_user.to_payload(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
        }

    @route("GET", "/users/{user_id}")
    async def user(self, req: Request) -> Any:
        user_id = req.params["user_id"]
        user = self.world.users.get(int(user_id)) if user_id.isdigit() else None
        if user is None:
            raise not_found("User", 10013)
        return user.to_payload()

    @route("POST", "/users/@me/channels")
    async def create_dm(self, req: Request) -> Any:
        rid = int((req.payload or {}).get("recipient_id", 0))
        user = self.world.users.get(rid)
        if user is None:
            raise not_found("User", 10013)
        return self.world.bot_dm(user).to_payload()

    @route("GET", "/gateway", auth=False)
    async def gateway(self, req: Request) -> Any:
        return {"url": self.ctx.gateway_url}

    @route("GET", "/gateway/bot")
    async def gateway_bot(self, req: Request) -> Any:
        return {
            "url": self.ctx.gateway_url,
            "shards": self.shards.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": self.shards.max_concurrency,
            },
        }

    @route("GET", "/oauth2/applications/@me", "/applications/@me")
    async def appinfo(self, req: Request) -> Any:
        return {
            "id": str(self.ctx.application_id),
            "name": self.ctx.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.ctx.owner_user.to_payload(),
            "team": None,
            "bot": self.ctx.bot_user.to_payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "install_params": None,
            "custom_install_url": None,
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "approximate_guild_count": len(self.world.guilds),
            "approximate_user_install_count": len(self.world.user_installs),
            "integration_types_config": {"0": {}, "1": {}},
            "guild_id": None,
            "primary_sku_id": None,
            "slug": None,
            "cover_image": None,
        }
