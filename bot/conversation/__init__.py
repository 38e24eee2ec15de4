"""The platform-free conversation core (see core.py): `Conversation.handle(incoming)` for what
a user did, `Conversation.render_delivery(delivery)` for results arriving from the worker."""

from bot.conversation.core import Conversation

__all__ = ["Conversation"]
