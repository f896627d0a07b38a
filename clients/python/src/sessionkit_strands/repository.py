"""SessionkitSessionRepository: Strands' SessionRepository over sessionkit's HTTP API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
from strands.session.session_repository import SessionRepository
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage, SessionType

from ._http import Client, SessionkitError, path

if TYPE_CHECKING:
    from strands.multiagent.base import MultiAgentBase

#: The most messages one GET returns (the server's MaxMessagesPerRead).
PAGE = 1000


class SessionkitSessionRepository(SessionRepository):
    """Every method of Strands' ``SessionRepository`` on a sessionkit server.

    Reads of a missing record return None; writes the SDK refuses (a session or
    agent that already exists, a message id already taken, an update of a
    missing record) raise :class:`SessionException` — a
    :class:`~sessionkit_strands.SessionkitError` with the server's status, code
    and message. A server that is down raises
    :class:`~sessionkit_strands.SessionkitConnectionError` after the timeout.

    Args:
        base_url: The server's root URL; default ``$SESSIONKIT_URL``.
        api_key: The admin token or an application's API key; default ``$SESSIONKIT_API_KEY``.
        application_name: The application new sessions belong to (an API key implies its own).
        metadata: Metadata of new sessions.
        viewer_password: Ask the server for a viewer password when creating a session; it is
            then in :attr:`viewer_password` (the server keeps only its hash).
        timeout: Seconds per request phase (connect, read, write).
        retries: Further attempts of idempotent calls (GET, PUT) after a connection error,
            a timeout or a 502/503/504.
        client: A shared :class:`~sessionkit_strands.Client` instead of the above connection settings.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        application_name: str | None = None,
        metadata: dict[str, Any] | None = None,
        viewer_password: bool = False,
        timeout: float = 10.0,
        retries: int = 2,
        client: Client | None = None,
    ) -> None:
        """Set up the pooled client; no request is sent."""
        self.client = client or Client(base_url, api_key, timeout=timeout, retries=retries)
        self.application_name = application_name
        self.metadata = metadata
        self.want_viewer_password = viewer_password
        #: The viewer password the server gave when this repository created a session.
        self.viewer_password: str | None = None
        # The agent state this repository last wrote or read, per (session, agent): an
        # update_agent that would write it again is skipped (see update_agent).
        # Compared as canonical JSON, so that 1, 1.0 and true stay different states.
        self._agents: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()

    # Sessions.

    def create_session(self, session: Session, **kwargs: Any) -> Session:
        """Create a session; SessionException if it already exists."""
        body: dict[str, Any] = {"session_id": session.session_id}
        if self.application_name:
            body["application_name"] = self.application_name
        if self.metadata:
            body["metadata"] = self.metadata
        if self.want_viewer_password:
            body["viewer_password"] = True
        out = self.client.request("POST", "sessions", json=body).json()
        if out.get("viewer_password"):
            self.viewer_password = out["viewer_password"]
        return _session(out, session)

    def read_session(self, session_id: str, **kwargs: Any) -> Session | None:
        """Read a session, or None if it does not exist."""
        out = self._get(path("sessions", session_id))
        return None if out is None else _session(out)

    # Agents.

    def create_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        """Create an agent; SessionException if it exists or the session does not."""
        body = _agent_body(session_agent)
        self.client.request(
            "POST", path("sessions", session_id, "agents"), json={"agent_id": session_agent.agent_id, **body}
        )
        self._agents[(session_id, session_agent.agent_id)] = _canonical(body)

    def read_agent(self, session_id: str, agent_id: str, **kwargs: Any) -> SessionAgent | None:
        """Read an agent, or None if it (or its session) does not exist."""
        out = self._get(path("sessions", session_id, "agents", agent_id))
        if out is None:
            self._agents.pop((session_id, agent_id), None)
            return None
        body = {
            "state": out.get("state") or {},
            "conversation_manager_state": out.get("conversation_manager_state") or {},
            "_internal_state": out.get("_internal_state") or {},
        }
        self._agents[(session_id, agent_id)] = _canonical(body)
        return SessionAgent.from_dict(
            {"agent_id": out["agent_id"], **body, "created_at": out.get("created_at", ""), "updated_at": out.get("updated_at", "")}
        )

    def update_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        """Replace an agent's state; SessionException if it does not exist.

        A state equal to the one this repository last wrote or read for the agent is not
        sent again: the SDK's first sync after creating an agent repeats its create, and
        saving that request is one round trip fewer per new agent. (Strands has one
        writer per agent; with several, each write is last-writer-wins anyway.)
        """
        key = (session_id, session_agent.agent_id)
        body = _agent_body(session_agent)
        canonical = _canonical(body)
        if self._agents.get(key) == canonical:
            return
        self.client.request("PUT", path("sessions", session_id, "agents", session_agent.agent_id), json=body)
        self._agents[key] = canonical

    # Messages.

    def create_message(self, session_id: str, agent_id: str, session_message: SessionMessage, **kwargs: Any) -> None:
        """Store a message under its explicit id; SessionException (409 conflict) if the id is taken or leaves a gap."""
        self.client.request(
            "POST", path("sessions", session_id, "agents", agent_id, "messages"), json=_message_body(session_message)
        )

    def read_message(self, session_id: str, agent_id: str, message_id: int, **kwargs: Any) -> SessionMessage | None:
        """Read one message, or None if it (or its agent or session) does not exist."""
        out = self._get(path("sessions", session_id, "agents", agent_id, "messages", message_id))
        return None if out is None else _message(out)

    def update_message(self, session_id: str, agent_id: str, session_message: SessionMessage, **kwargs: Any) -> None:
        """Replace a message and its redaction (a guardrail's); SessionException if it does not exist."""
        self.client.request(
            "PUT",
            path("sessions", session_id, "agents", agent_id, "messages", session_message.message_id),
            json=_message_body(session_message),
        )

    def list_messages(
        self, session_id: str, agent_id: str, limit: int | None = None, offset: int = 0, **kwargs: Any
    ) -> list[SessionMessage]:
        """List an agent's messages in id order from offset; SessionException if the agent does not exist.

        One request for up to 1000 messages, one more per further 1000.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise SessionException(f"offset {offset} and limit {limit} must not be negative")
        url = path("sessions", session_id, "agents", agent_id, "messages")
        out: list[SessionMessage] = []
        while limit is None or len(out) < limit:
            want = PAGE if limit is None else min(PAGE, limit - len(out))
            if want == 0:
                break
            page = self.client.request("GET", url, params={"offset": offset + len(out), "limit": want}).json()
            msgs = page.get("messages") or []
            out.extend(_message(m) for m in msgs)
            if len(msgs) < want or offset + len(out) >= page.get("total", 0):
                break
        return out

    # Multi-agent (Graph, Swarm) state.

    def create_multi_agent(self, session_id: str, multi_agent: MultiAgentBase, **kwargs: Any) -> None:
        """Store an orchestrator's state; SessionException if it already exists."""
        self.client.request(
            "POST",
            path("sessions", session_id, "multi_agents"),
            json={"multi_agent_id": multi_agent.id, "state": multi_agent.serialize_state()},
        )

    def read_multi_agent(self, session_id: str, multi_agent_id: str, **kwargs: Any) -> dict[str, Any] | None:
        """Read an orchestrator's state, or None if there is none."""
        out = self._get(path("sessions", session_id, "multi_agents", multi_agent_id))
        return None if out is None else dict(out.get("state") or {})

    def update_multi_agent(self, session_id: str, multi_agent: MultiAgentBase, **kwargs: Any) -> None:
        """Replace an orchestrator's state; SessionException if it does not exist."""
        self.client.request(
            "PUT",
            path("sessions", session_id, "multi_agents", multi_agent.id),
            json={"state": multi_agent.serialize_state()},
        )

    def _get(self, url: str) -> dict[str, Any] | None:
        """GET a JSON record; None on 404 not_found."""
        try:
            resp: httpx.Response = self.client.request("GET", url)
        except SessionkitError as e:
            if e.status == 404 and e.code == "not_found":
                return None
            raise
        out: dict[str, Any] = resp.json()
        return out


def _session(out: dict[str, Any], given: Session | None = None) -> Session:
    """A Strands Session from the server's JSON."""
    raw = out.get("session_type") or (given.session_type if given else SessionType.AGENT)
    try:
        stype: Any = SessionType(raw)
    except ValueError:
        stype = raw  # a type this SDK version does not know: kept as the string
    return Session(
        session_id=out["session_id"],
        session_type=stype,
        created_at=out.get("created_at", ""),
        updated_at=out.get("updated_at", ""),
    )


def _agent_body(a: SessionAgent) -> dict[str, Any]:
    """The server's agent body: the state fields (the times are the server's)."""
    d = a.to_dict()
    return {
        "state": d.get("state") or {},
        "conversation_manager_state": d.get("conversation_manager_state") or {},
        "_internal_state": d.get("_internal_state") or {},
    }


def _canonical(body: dict[str, Any]) -> str:
    """A JSON text equal for equal JSON values only (1, 1.0 and true differ)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _message_body(m: SessionMessage) -> dict[str, Any]:
    """The server's message body (bytes base64-encoded as the SDK's to_dict does)."""
    d = m.to_dict()
    body = {"message_id": d["message_id"], "message": d["message"]}
    if d.get("redact_message") is not None:
        body["redact_message"] = d["redact_message"]
    return body


def _message(out: dict[str, Any]) -> SessionMessage:
    """A Strands SessionMessage from the server's JSON."""
    return SessionMessage.from_dict(
        {
            "message": out["message"],
            "message_id": out["message_id"],
            "redact_message": out.get("redact_message"),
            "created_at": out.get("created_at", ""),
            "updated_at": out.get("updated_at", ""),
        }
    )
