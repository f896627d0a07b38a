"""SessionkitSessionRepository method by method, against a real sessionkit serve."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

import httpx
import pytest
from strands.session.session_repository import SessionRepository
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage, SessionType

from sessionkit_strands import Client, SessionkitConnectionError, SessionkitError, SessionkitSessionRepository

from .conftest import Server


def sid() -> str:
    return "py-" + uuid.uuid4().hex[:12]


@pytest.fixture
def repo(server: Server) -> SessionkitSessionRepository:
    r = SessionkitSessionRepository(server.url, server.admin_token)
    yield r
    r.close()


def agent(agent_id: str = "a1", **state: Any) -> SessionAgent:
    return SessionAgent(
        agent_id=agent_id,
        state=dict(state),
        conversation_manager_state={"__name__": "SlidingWindowConversationManager", "removed_message_count": 0},
        _internal_state={"interrupt_state": {"interrupts": {}, "context": {}, "activated": False}, "model_state": {}},
    )


def msg(i: int, text: str, role: str = "user") -> SessionMessage:
    return SessionMessage.from_message({"role": role, "content": [{"text": text}]}, i)


class FakeMulti:
    """What the repository reads of a MultiAgentBase: id and serialize_state."""

    def __init__(self, id: str, state: dict[str, Any]) -> None:
        self.id = id
        self.state = state

    def serialize_state(self) -> dict[str, Any]:
        return self.state


def test_every_abstract_method_is_implemented() -> None:
    names = {n for n in dir(SessionRepository) if not n.startswith("_")}
    assert len(names) == 12, names
    for n in names:
        assert getattr(SessionkitSessionRepository, n) is not getattr(SessionRepository, n), n
    assert not SessionkitSessionRepository.__abstractmethods__


def test_sessions_agents_messages_round_trip(repo: SessionkitSessionRepository) -> None:
    s = sid()
    assert repo.read_session(s) is None
    created = repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))
    assert created.session_id == s and created.session_type == SessionType.AGENT
    got = repo.read_session(s)
    assert got is not None and got.session_id == s and got.session_type == SessionType.AGENT and got.created_at
    with pytest.raises(SessionException, match="already"):
        repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))

    assert repo.read_agent(s, "a1") is None
    repo.create_agent(s, agent(x=1, nested={"b": [1, 2.5, None, True]}))
    with pytest.raises(SessionException):
        repo.create_agent(s, agent())
    a = repo.read_agent(s, "a1")
    assert a is not None
    assert a.state == {"x": 1, "nested": {"b": [1, 2.5, None, True]}}
    assert a.conversation_manager_state["removed_message_count"] == 0
    assert a._internal_state["interrupt_state"]["activated"] is False
    repo.update_agent(s, agent(x=2))
    assert repo.read_agent(s, "a1").state == {"x": 2}  # type: ignore[union-attr]
    with pytest.raises(SessionException, match="not_found"):
        repo.update_agent(s, agent("nobody"))

    for i in range(5):
        repo.create_message(s, "a1", msg(i, f"m{i}", "user" if i % 2 == 0 else "assistant"))
    with pytest.raises(SessionkitError) as ei:
        repo.create_message(s, "a1", msg(3, "taken"))
    assert isinstance(ei.value, SessionException) and ei.value.status == 409 and ei.value.code == "conflict"
    with pytest.raises(SessionException, match="conflict"):
        repo.create_message(s, "a1", msg(7, "gap"))

    m = repo.read_message(s, "a1", 2)
    assert m is not None and m.message == {"role": "user", "content": [{"text": "m2"}]} and m.redact_message is None
    assert repo.read_message(s, "a1", 99) is None
    assert repo.read_message(s, "nobody", 0) is None
    assert repo.read_message("py-no-such-session", "a1", 0) is None

    redacted = msg(2, "m2")
    redacted.redact_message = {"role": "user", "content": [{"text": "[redacted]"}]}
    repo.update_message(s, "a1", redacted)
    m = repo.read_message(s, "a1", 2)
    assert m is not None and m.to_message() == {"role": "user", "content": [{"text": "[redacted]"}]}
    with pytest.raises(SessionException):
        repo.update_message(s, "a1", msg(50, "missing"))

    assert [x.message_id for x in repo.list_messages(s, "a1")] == [0, 1, 2, 3, 4]
    assert [x.message_id for x in repo.list_messages(s, "a1", offset=3)] == [3, 4]
    assert [x.message_id for x in repo.list_messages(s, "a1", limit=2, offset=1)] == [1, 2]
    assert repo.list_messages(s, "a1", offset=9) == []
    assert repo.list_messages(s, "a1", limit=0) == []
    with pytest.raises(SessionException):
        repo.list_messages(s, "nobody")


def test_update_agent_skips_only_a_repeat_of_what_it_last_wrote(repo: SessionkitSessionRepository, server: Server) -> None:
    s = sid()
    repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))
    repo.create_agent(s, agent(v=1))
    n = repo.client.requests
    repo.update_agent(s, agent(v=1))
    assert repo.client.requests == n, "the same state as the create is not sent again"
    repo.update_agent(s, agent(v=True))
    repo.update_agent(s, agent(v=1.0))
    assert repo.client.requests == n + 2, "1, true and 1.0 are different JSON values"
    other = SessionkitSessionRepository(server.url, server.admin_token)
    other.update_agent(s, agent(v="other writer"))
    assert repo.read_agent(s, "a1").state == {"v": "other writer"}  # type: ignore[union-attr]
    n = repo.client.requests
    repo.update_agent(s, agent(v=1.0))
    assert repo.client.requests == n + 1, "after reading another writer's state, ours is written again"
    assert other.read_agent(s, "a1").state == {"v": 1.0}  # type: ignore[union-attr]
    other.close()


def test_bytes_survive(repo: SessionkitSessionRepository) -> None:
    s = sid()
    repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))
    repo.create_agent(s, agent())
    img = {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": b"\x00\x01\xffPNG"}}}]}
    repo.create_message(s, "a1", SessionMessage.from_message(img, 0))
    got = repo.read_message(s, "a1", 0)
    assert got is not None and got.message == img


def test_list_messages_pages_past_the_server_limit(repo: SessionkitSessionRepository) -> None:
    s = sid()
    repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))
    repo.create_agent(s, agent())
    n = 1003
    for i in range(n):
        repo.create_message(s, "a1", msg(i, "x"))
    before = repo.client.requests
    got = repo.list_messages(s, "a1", offset=1)
    assert [m.message_id for m in got] == list(range(1, n))
    assert repo.client.requests - before == 2, "two pages of at most 1000"


def test_multi_agent_state(repo: SessionkitSessionRepository) -> None:
    s = sid()
    repo.create_session(Session(session_id=s, session_type=SessionType.AGENT))
    assert repo.read_multi_agent(s, "default_graph") is None
    with pytest.raises(SessionException):
        repo.update_multi_agent(s, FakeMulti("default_graph", {}))
    repo.create_multi_agent(s, FakeMulti("default_graph", {"type": "graph", "status": "executing", "n": 1}))
    with pytest.raises(SessionException):
        repo.create_multi_agent(s, FakeMulti("default_graph", {}))
    assert repo.read_multi_agent(s, "default_graph") == {"type": "graph", "status": "executing", "n": 1}
    repo.update_multi_agent(s, FakeMulti("default_graph", {"type": "graph", "status": "completed"}))
    assert repo.read_multi_agent(s, "default_graph") == {"type": "graph", "status": "completed"}


def test_bad_input_is_the_servers_error(repo: SessionkitSessionRepository) -> None:
    with pytest.raises(SessionkitError) as ei:
        repo.create_session(Session(session_id="bad id/with slash", session_type=SessionType.AGENT))
    assert ei.value.status == 400 and ei.value.code == "invalid_argument"
    assert "session_id" in str(ei.value)


def test_wrong_key_is_unauthorized_and_not_leaked(server: Server) -> None:
    r = SessionkitSessionRepository(server.url, "wrong-key-wrong-key-wrong")
    with pytest.raises(SessionkitError) as ei:
        r.read_session("whatever")
    assert ei.value.status == 401
    assert "wrong-key" not in str(ei.value)
    r.close()


def test_server_down_raises_a_connection_error_after_the_timeout() -> None:
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{port.getsockname()[1]}"
    port.close()  # nothing listens: connection refused
    r = SessionkitSessionRepository(url, "k" * 20, timeout=0.5, retries=1)
    with pytest.raises(SessionkitConnectionError, match="ConnectError"):
        r.read_session("s")
    assert r.client.requests == 2, "an idempotent GET is tried once more"
    r.close()


def test_a_server_that_never_answers_times_out() -> None:
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)  # accepts connections, never answers
    try:
        r = SessionkitSessionRepository(f"http://127.0.0.1:{lsock.getsockname()[1]}", "k" * 20, timeout=0.3, retries=0)
        t0 = time.monotonic()
        with pytest.raises(SessionkitConnectionError, match="Timeout"):
            r.read_session("s")
        assert time.monotonic() - t0 < 5
        r.close()
    finally:
        lsock.close()


@pytest.mark.parametrize(
    ("method", "attempts"),
    [("GET", 3), ("PUT", 3), ("DELETE", 3), ("POST", 1), ("PATCH", 1)],
)
def test_only_idempotent_calls_are_retried(method: str, attempts: int) -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.method)
        return httpx.Response(503, json={"error": {"code": "unavailable", "message": "busy"}})

    c = Client("http://sessionkit.invalid", "k", retries=2, transport=httpx.MockTransport(handler))
    with pytest.raises(SessionkitError) as ei:
        c.request(method, "sessions")
    assert ei.value.status == 503 and ei.value.code == "unavailable"
    assert seen == [method] * attempts
    c.close()
