"""The REST route handlers, one class per resource. Each handler method is marked with
``@route(METHOD, template, ...)`` (rest.py) and the facade includes every class's in the
router."""

from .application import ApplicationRoutes
from .channels import ChannelRoutes
from .commands import CommandRoutes
from .guilds import GuildRoutes
from .interactions import InteractionRoutes

__all__ = [
    "ApplicationRoutes",
    "ChannelRoutes",
    "CommandRoutes",
    "GuildRoutes",
    "InteractionRoutes",
]
