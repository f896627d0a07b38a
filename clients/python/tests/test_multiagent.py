"""A Graph and a Swarm persisted on sessionkit and resumed mid-run by a fresh orchestrator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from typing import Any

from strands import Agent
from strands.multiagent import GraphBuilder, Swarm
from strands.multiagent.base import Status

from sessionkit_strands import SessionkitSessionManager

from .conftest import Server
from .scripted import ScriptedModel, text, tool


class ProcessDied(BaseException):
    """Stands for the process dying: not an Exception, so no orchestrator records it as a node failure."""


class Crash(ScriptedModel):
    """A model whose first call kills the 'process' in the middle of the run."""

    def __init__(self) -> None:
        super().__init__([])

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterable[Any]:  # type: ignore[override]
        raise ProcessDied("crash mid-run")
        yield  # pragma: no cover


def manager(server: Server, session_id: str) -> SessionkitSessionManager:
    return SessionkitSessionManager(session_id=session_id, base_url=server.url, api_key=server.admin_token)


def graph(server: Server, s: str, a: ScriptedModel, b: ScriptedModel) -> Any:
    g = GraphBuilder()
    g.add_node(Agent(name="A", model=a, callback_handler=None), "A")
    g.add_node(Agent(name="B", model=b, callback_handler=None), "B")
    g.add_edge("A", "B")
    g.set_max_node_executions(10)
    g.set_session_manager(manager(server, s))
    return g.build()


def test_graph_resumes_mid_run(server: Server) -> None:
    s = "py-graph-" + uuid.uuid4().hex[:8]
    try:
        graph(server, s, ScriptedModel([text("A done")]), Crash())("task")
    except ProcessDied:
        pass
    state = manager(server, s).repository.read_multi_agent(s, "default_graph")
    assert state is not None
    assert state["completed_nodes"] == ["A"] and state["next_nodes_to_execute"] == ["B"]

    # A fresh process: A has no script left, so re-running A would fail the test.
    a2, b2 = ScriptedModel([]), ScriptedModel([text("B done")])
    result = graph(server, s, a2, b2)("task")
    assert a2.calls == 0 and b2.calls == 1
    assert [n.node_id for n in result.execution_order] == ["A", "B"]
    assert {k: v.status for k, v in result.results.items()} == {"A": Status.COMPLETED, "B": Status.COMPLETED}
    assert "A done" in str(result.results["A"].result), "A's result comes from the stored state"
    assert result.status == Status.COMPLETED
    state = manager(server, s).repository.read_multi_agent(s, "default_graph")
    assert state is not None and state["status"] == "completed" and state["next_nodes_to_execute"] == []
    assert state["node_results"]["B"]["status"] == "completed"


def swarm(server: Server, s: str, researcher: ScriptedModel, writer: ScriptedModel) -> Swarm:
    return Swarm(
        [Agent(name="researcher", model=researcher, callback_handler=None),
         Agent(name="writer", model=writer, callback_handler=None)],
        session_manager=manager(server, s),
    )


def test_swarm_resumes_mid_run(server: Server) -> None:
    s = "py-swarm-" + uuid.uuid4().hex[:8]
    handoff = tool("handoff_to_agent", {"agent_name": "writer", "message": "write it up"}, "h1")
    try:
        swarm(server, s, ScriptedModel([handoff, text("handed off")]), Crash())("task")
    except ProcessDied:
        pass
    state = manager(server, s).repository.read_multi_agent(s, "default_swarm")
    assert state is not None and state["type"] == "swarm"
    assert state["node_history"][0] == "researcher"
    assert state["next_nodes_to_execute"] == ["writer"]

    r2, w2 = ScriptedModel([]), ScriptedModel([text("the write-up")])
    result = swarm(server, s, r2, w2)("task")
    assert result.status == Status.COMPLETED
    assert r2.calls == 0 and w2.calls == 1
    state = manager(server, s).repository.read_multi_agent(s, "default_swarm")
    assert state is not None and state["status"] == "completed"
