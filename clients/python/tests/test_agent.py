"""A real strands Agent (scripted model, real tools) on SessionkitSessionManager."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from strands import Agent, tool
from strands.agent.conversation_manager import SlidingWindowConversationManager
from strands.types.exceptions import SessionException

from sessionkit_strands import SessionkitSessionManager

from .conftest import Server
from .scripted import ScriptedModel, guardrail, text
from .scripted import tool as tool_turn

HERE = Path(__file__).resolve().parent


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def sid() -> str:
    return "py-" + uuid.uuid4().hex[:12]


def manager(server: Server, session_id: str, **kw: Any) -> SessionkitSessionManager:
    return SessionkitSessionManager(session_id=session_id, base_url=server.url, api_key=server.admin_token, **kw)


def api(server: Server, path: str, **headers: str) -> Any:
    h = {"Authorization": f"Bearer {server.admin_token}"} if not headers else headers
    r = httpx.get(server.url + "/api/" + path, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def tool_script(n: int) -> list[dict[str, Any]]:
    """n prompts, each: one tool call, then a text answer."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        out += [tool_turn("add", {"a": i, "b": 10}, f"t{i}"), text(f"answer {i}")]
    return out


def test_agent_with_tools_several_turns_then_resume_in_a_new_process(server: Server) -> None:
    s = sid()
    sm = manager(server, s, application_name="py-tests", metadata={"tier": "gold"}, viewer_password=True)
    agent = Agent(
        model=ScriptedModel(tool_script(3)),
        tools=[add],
        session_manager=sm,
        agent_id="assistant",
        conversation_manager=SlidingWindowConversationManager(window_size=40),
        callback_handler=None,
    )
    per_prompt = []
    for i in range(3):
        if i == 2:
            agent.state.set("turns", 3)  # a state change: the third prompt's sync writes it
        before = sm.repository.client.requests
        agent(f"what is {i} + 10?")
        per_prompt.append(sm.repository.client.requests - before)
    # A prompt with one tool call adds 4 messages (user, toolUse, toolResult, answer).
    assert len(agent.messages) == 12
    assert agent.messages[2]["content"][0]["toolResult"]["content"][0]["text"] == "10"
    print(f"HTTP requests per prompt with one tool call (4 messages, syncs included): {per_prompt}")
    assert per_prompt == [4, 4, 5], "one append per message, one agent write when its state changed"

    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(HERE.parent)!r})
        from strands import Agent
        from strands.agent.conversation_manager import SlidingWindowConversationManager
        from sessionkit_strands import SessionkitSessionManager
        from tests.scripted import ScriptedModel
        sm = SessionkitSessionManager(session_id={s!r}, base_url={server.url!r}, api_key={server.admin_token!r})
        before = sm.repository.client.requests
        a = Agent(model=ScriptedModel([]), session_manager=sm, agent_id="assistant",
                  conversation_manager=SlidingWindowConversationManager(window_size=40), callback_handler=None)
        print(json.dumps({{"messages": a.messages, "state": a.state.get(),
                          "cm": a.conversation_manager.get_state(), "requests": sm.repository.client.requests}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    resumed = json.loads(out.stdout.strip().splitlines()[-1])
    assert resumed["messages"] == json.loads(json.dumps(agent.messages))
    assert resumed["state"] == agent.state.get() == {"turns": 3}
    assert resumed["cm"] == agent.conversation_manager.get_state()
    print(f"round trips to resume (manager + agent): {resumed['requests']}")
    assert resumed["requests"] == 3, "read session, read agent, list messages"

    # The viewer's API sees the same conversation, with the session's viewer password.
    assert sm.viewer_password
    pw = {"X-Session-Password": sm.viewer_password}
    got = api(server, f"sessions/{s}/agents/assistant/messages?offset=0&limit=100", **pw)
    assert got["total"] == 12
    assert [m["message"] for m in got["messages"]] == json.loads(json.dumps(agent.messages))
    detail = api(server, f"sessions/{s}", **pw)
    assert detail["application_name"] == "py-tests" and detail["metadata"] == {"tier": "gold"}
    timeline = api(server, f"sessions/{s}/timeline", **pw)
    assert timeline
    sm.close()


def test_go_reads_what_python_wrote(server: Server, tmp_path: Path) -> None:
    """`sessionkit export` (Go, straight from the SQLite store) writes a Strands FileSessionManager
    directory from which the SDK's own FileSessionManager resumes the same conversation."""
    if server.data_dir is None:
        pytest.skip("the memory backend lives in the server process only")
    s = sid()
    sm = manager(server, s)
    agent = Agent(model=ScriptedModel(tool_script(2)), tools=[add], session_manager=sm, agent_id="x", callback_handler=None)
    agent("one")
    agent("two")
    agent.state.set("done", True)
    sm.sync_agent(agent)
    out = tmp_path / "export"
    run = subprocess.run(
        [str(server.binary), "export", "-data-dir", str(server.data_dir), "-id-prefix", s, "-format", "strands",
         "-out", str(out), "-log-level", "warn"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    from strands.session.file_session_manager import FileSessionManager

    resumed = Agent(model=ScriptedModel([]), session_manager=FileSessionManager(session_id=s, storage_dir=str(out)),
                    agent_id="x", callback_handler=None)
    assert resumed.messages == json.loads(json.dumps(agent.messages))
    assert resumed.state.get() == {"done": True}
    sm.close()


def test_guardrail_redaction_is_stored(server: Server) -> None:
    s = sid()
    sm = manager(server, s)
    agent = Agent(model=ScriptedModel([guardrail("[user input redacted]", "I can't help with that.")]),
                  session_manager=sm, agent_id="g", callback_handler=None)
    agent("my card number is 4111 1111 1111 1111")
    stored = sm.repository.read_message(s, "g", 0)
    assert stored is not None
    assert stored.redact_message is not None
    assert stored.to_message()["content"] == [{"text": "[user input redacted]"}]
    # The SDK redacts the agent's message in place, so the stored original is redacted too:
    # the card number is nowhere in the store.
    assert "4111" not in json.dumps(api(server, f"sessions/{s}/agents/g/messages"))
    resumed = Agent(model=ScriptedModel([]), session_manager=manager(server, s), agent_id="g", callback_handler=None)
    assert resumed.messages[0]["content"][0]["text"] == "[user input redacted]"
    sm.close()


def test_two_agents_in_one_session(server: Server) -> None:
    s = sid()
    sm = manager(server, s)
    a = Agent(model=ScriptedModel([text("from a")]), session_manager=sm, agent_id="a", callback_handler=None)
    with pytest.raises(SessionException, match="unique"):
        Agent(model=ScriptedModel([]), session_manager=sm, agent_id="a", callback_handler=None)
    b = Agent(model=ScriptedModel([text("from b"), text("again b")]), session_manager=sm, agent_id="b", callback_handler=None)
    a("hi a")
    b("hi b")
    b("more b")
    ids = sorted(x["agent_id"] for x in api(server, f"sessions/{s}/agents")["agents"])
    assert ids == ["a", "b"]
    sm2 = manager(server, s)
    a2 = Agent(model=ScriptedModel([]), session_manager=sm2, agent_id="a", callback_handler=None)
    b2 = Agent(model=ScriptedModel([]), session_manager=sm2, agent_id="b", callback_handler=None)
    assert len(a2.messages) == 2 and len(b2.messages) == 4
    assert b2.messages[-1]["content"][0]["text"] == "again b"
    sm.close()
    sm2.close()


def test_concurrent_agents_on_different_sessions(server: Server) -> None:
    def run(i: int) -> tuple[str, int]:
        s = sid()
        sm = manager(server, s)
        agent = Agent(model=ScriptedModel(tool_script(2)), tools=[add], session_manager=sm, agent_id="w", callback_handler=None)
        agent(f"first {i}")
        agent(f"second {i}")
        sm.close()
        return s, len(agent.messages)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(8)))
    for s, n in results:
        assert n == 8
        got = api(server, f"sessions/{s}/agents/w/messages?offset=0&limit=100")
        assert got["total"] == 8
        assert [m["message_id"] for m in got["messages"]] == list(range(8))


def test_extras_metadata_and_feedback(server: Server) -> None:
    s = sid()
    sm = manager(server, s, metadata={"a": 1})
    assert sm.get_metadata() == {"a": 1}
    assert sm.update_metadata({"b": "two"}) == {"a": 1, "b": "two"}
    assert sm.delete_metadata(["a"]) == {"b": "two"}
    fb = sm.add_feedback("up", "great", extra={"source": "pytest"})
    assert fb["rating"] == "up" and fb["comment"] == "great"
    assert [f["comment"] for f in sm.list_feedback()] == ["great"]
    sm.close()


def test_the_integration_reads_its_settings_from_the_environment(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONKIT_URL", server.url)
    monkeypatch.setenv("SESSIONKIT_API_KEY", server.admin_token)
    s = sid()
    agent = Agent(model=ScriptedModel([text("ok")]), session_manager=SessionkitSessionManager(session_id=s), callback_handler=None)
    agent("hello")
    assert api(server, f"sessions/{s}/agents/default/messages")["total"] == 2
