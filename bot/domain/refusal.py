"""What the bot declines to do because of what someone asked, told in their words."""

from __future__ import annotations


class Refusal(ValueError):
    """A request the bot refuses, with a message for the person who made it: what was wrong
    and how to ask instead. The error path shows it as it is (privately), and logs nothing."""
