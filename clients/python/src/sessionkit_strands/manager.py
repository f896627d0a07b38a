"""SessionkitSessionManager: Strands' RepositorySessionManager on a sessionkit server."""

from __future__ import annotations

from typing import Any

from strands.session.repository_session_manager import RepositorySessionManager

from ._http import path
from .repository import SessionkitSessionRepository


class SessionkitSessionManager(RepositorySessionManager):
    """Persist Strands agents (and Graph/Swarm orchestrators) in a sessionkit server.

    ``Agent(session_manager=SessionkitSessionManager(session_id="s", base_url=url, api_key=key))``
    is the whole integration: the session is created on first use, every message is
    stored as it is added, and a new process with the same session id resumes the
    messages, state and conversation-manager state.

    Args:
        session_id: The session to use; created if missing.
        base_url: The server's root URL; default ``$SESSIONKIT_URL``.
        api_key: The admin token or an application's API key; default ``$SESSIONKIT_API_KEY``.
        application_name: The application a new session belongs to.
        metadata: Metadata of a new session.
        viewer_password: Ask for a viewer password when the session is created (see :attr:`viewer_password`).
        timeout: Seconds per request phase.
        retries: Further attempts of idempotent calls.
        session_repository: A repository to use instead of building one from the settings above.
        **kwargs: Passed to RepositorySessionManager.
    """

    def __init__(
        self,
        session_id: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        application_name: str | None = None,
        metadata: dict[str, Any] | None = None,
        viewer_password: bool = False,
        timeout: float = 10.0,
        retries: int = 2,
        session_repository: SessionkitSessionRepository | None = None,
        **kwargs: Any,
    ) -> None:
        """Connect and read (or create) the session: one or two requests."""
        repo = session_repository or SessionkitSessionRepository(
            base_url,
            api_key,
            application_name=application_name,
            metadata=metadata,
            viewer_password=viewer_password,
            timeout=timeout,
            retries=retries,
        )
        self.repository = repo
        super().__init__(session_id=session_id, session_repository=repo, **kwargs)

    @property
    def viewer_password(self) -> str | None:
        """The session's viewer password, when this manager created the session with viewer_password=True."""
        return self.repository.viewer_password

    def close(self) -> None:
        """Close the pooled connections."""
        self.repository.close()

    def get_metadata(self) -> dict[str, Any]:
        """The session's metadata."""
        out: dict[str, Any] = (
            self.repository.client.request("GET", path("sessions", self.session_id, "metadata")).json()["metadata"]
        )
        return out

    def update_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Set the given top-level metadata keys (others are kept); returns the whole metadata."""
        out: dict[str, Any] = (
            self.repository.client.request(
                "PATCH", path("sessions", self.session_id, "metadata"), json={"metadata": metadata}
            ).json()["metadata"]
        )
        return out

    def delete_metadata(self, keys: list[str]) -> dict[str, Any]:
        """Remove the given metadata keys; returns the remaining metadata."""
        out: dict[str, Any] = (
            self.repository.client.request(
                "DELETE", path("sessions", self.session_id, "metadata"), params={"key": list(keys)}
            ).json()["metadata"]
        )
        return out

    def add_feedback(
        self,
        rating: str | None,
        comment: str = "",
        *,
        agent_id: str | None = None,
        message_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record feedback on the session ("up", "down" or None); returns the stored record.

        Not retried: a retry after a lost answer could record it twice.
        """
        body: dict[str, Any] = {"rating": rating or ""}
        if comment:
            body["comment"] = comment
        if agent_id is not None:
            body["agent_id"] = agent_id
        if message_id is not None:
            body["message_id"] = message_id
        if extra:
            body["extra"] = extra
        out: dict[str, Any] = self.repository.client.request(
            "POST", path("sessions", self.session_id, "feedback"), json=body
        ).json()
        return out

    def list_feedback(self) -> list[dict[str, Any]]:
        """The session's feedback records, oldest first."""
        out: list[dict[str, Any]] = (
            self.repository.client.request("GET", path("sessions", self.session_id, "feedback")).json()["feedback"]
        )
        return out
