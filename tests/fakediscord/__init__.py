"""Local Discord API emulator for end-to-end tests. See README.md."""

from . import permissions
from .botproc import BotProcess
from .emulator import ApiError, Emulator, UnknownRoute, Violation
from .interactions import CallbackResponse, Interaction
from .models import Channel, Guild, Member, Message, Role, User
from .permissions import Overwrite

__all__ = [
    "ApiError",
    "BotProcess",
    "CallbackResponse",
    "Channel",
    "Emulator",
    "Guild",
    "Interaction",
    "Member",
    "Message",
    "Overwrite",
    "Role",
    "UnknownRoute",
    "User",
    "Violation",
    "permissions",
]
