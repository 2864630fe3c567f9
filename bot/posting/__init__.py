"""How the services and the scheduler reach Discord: the ports' implementations, rendered by
`bot.ui` (ARCHITECTURE.md). `trivia`: the trivia runner's channel; `scheduled`: the
scheduler's posts."""

from bot.posting.scheduled import ScheduledPosts
from bot.posting.trivia import DiscordTriviaChannel

__all__ = ["DiscordTriviaChannel", "ScheduledPosts"]
