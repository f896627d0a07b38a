"""Strands Agents session storage on a sessionkit server.

- :class:`SessionkitSessionRepository`: Strands' ``SessionRepository`` over sessionkit's HTTP API.
- :class:`SessionkitSessionManager`: a ``RepositorySessionManager`` on it, plus sessionkit's extras.
- :class:`SessionkitStorage`: the SDK's ``Storage`` protocol over sessionkit's snapshot store.
"""

from ._http import Client, SessionkitConnectionError, SessionkitError
from .manager import SessionkitSessionManager
from .repository import SessionkitSessionRepository
from .storage import SessionkitStorage

__all__ = [
    "Client",
    "SessionkitConnectionError",
    "SessionkitError",
    "SessionkitSessionManager",
    "SessionkitSessionRepository",
    "SessionkitStorage",
]
