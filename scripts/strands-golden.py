"""Write golden Strands trees with the real strands-agents SDK (no network).

Run it through `make strands-golden`, which installs strands-agents==1.62.0
into a throwaway venv under artifacts/ and calls this script with the output
directory (default testdata/strands-1.62). What it writes:

  file/        FileSessionManager: session "single" (one agent: text, image
               bytes, a tool use, a guardrail redaction; agent "approver" left
               in interrupt state by a tool-call interrupt), session "graph"
               (a Graph with two nodes) and session "swarm" (a Swarm).
  snapshots/   SnapshotSessionManager over LocalFileStorage: session "snap",
               snapshot_latest plus two immutable snapshots.

Ids, times and snapshot uuids differ on every run; the Go test
(cmd/sessionkit/internal/transfer/golden_test.go) compares a round trip
against whatever was written, so a rerun only needs a new commit.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from strands import Agent, tool
from strands.hooks import BeforeToolCallEvent
from strands.models.model import Model
from strands.multiagent import GraphBuilder, Swarm
from strands.session.file_session_manager import FileSessionManager
from strands.session.snapshot_session_manager import SnapshotSessionManager
from strands.storage.local_file_storage import LocalFileStorage

# A 1x1 PNG: the image block carries real bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class ScriptedModel(Model):
    """Streams the given turns in order; each model call takes the next turn."""

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = list(turns)
        self.config: dict[str, Any] = {"model_id": "scripted"}

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> Any:
        return self.config

    def structured_output(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("not scripted")

    async def stream(self, messages: Any, tool_specs: Any = None, system_prompt: Any = None, **kwargs: Any) -> Any:
        if not self.turns:
            raise AssertionError("the script ran out of turns")
        turn = self.turns.pop(0)
        yield {"messageStart": {"role": "assistant"}}
        stop = "end_turn"
        if "tool" in turn:
            yield {"contentBlockStart": {"start": {"toolUse": {"toolUseId": turn["id"], "name": turn["tool"]}}}}
            yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(turn["input"])}}}}
            yield {"contentBlockStop": {}}
            stop = "tool_use"
        else:
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": turn["text"]}}}
            yield {"contentBlockStop": {}}
        if "guardrail" in turn:
            yield {"redactContent": {"redactUserContentMessage": turn["guardrail"]}}
            stop = "guardrail_intervened"
        yield {"messageStop": {"stopReason": stop}}
        yield {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}}}


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def single(file_dir: Path) -> None:
    model = ScriptedModel(
        [
            {"text": "Hello."},
            {"text": "A single pixel."},
            {"tool": "add", "input": {"a": 2, "b": 3}, "id": "tooluse_add_1"},
            {"text": "2 + 3 = 5."},
            {"guardrail": "[User input redacted.]", "text": "I cannot help with that."},
        ]
    )
    agent = Agent(
        agent_id="assistant",
        model=model,
        tools=[add],
        session_manager=FileSessionManager("single", storage_dir=str(file_dir)),
        state={"visits": 1, "tags": ["golden", "ünïcode"]},
        callback_handler=None,
    )
    agent("Hi!")
    agent([{"text": "What is in this image?"}, {"image": {"format": "png", "source": {"bytes": PNG}}}])
    agent("Add 2 and 3.")
    agent("Something the guardrail blocks.")


class AskBeforeAdd:
    """Interrupts every call of the add tool, asking a human to approve it."""

    def register_hooks(self, registry: Any, **kwargs: Any) -> None:
        registry.add_callback(BeforeToolCallEvent, self.ask)

    def ask(self, event: BeforeToolCallEvent) -> None:
        event.interrupt("approve-add", reason={"tool": event.tool_use["name"]})


def interrupted(file_dir: Path) -> None:
    """A second agent in session "single", left waiting on a tool interrupt."""
    agent = Agent(
        agent_id="approver",
        model=ScriptedModel([{"tool": "add", "input": {"a": 1, "b": 1}, "id": "tooluse_add_2"}]),
        tools=[add],
        hooks=[AskBeforeAdd()],
        session_manager=FileSessionManager("single", storage_dir=str(file_dir)),
        callback_handler=None,
    )
    result = agent("Add 1 and 1, with approval.")
    assert result.stop_reason == "interrupt", result.stop_reason


def node(name: str, answer: str) -> Agent:
    return Agent(name=name, agent_id=name, model=ScriptedModel([{"text": answer}]), callback_handler=None)


def graph(file_dir: Path) -> None:
    b = GraphBuilder()
    b.add_node(node("researcher", "Facts."), "researcher")
    b.add_node(node("writer", "Prose."), "writer")
    b.add_edge("researcher", "writer")
    b.set_entry_point("researcher")
    b.set_max_node_executions(4)
    b.set_session_manager(FileSessionManager("graph", storage_dir=str(file_dir)))
    b.build()("Write about pixels.")


def swarm(file_dir: Path) -> None:
    s = Swarm(
        [node("solo", "Done by the swarm.")],
        session_manager=FileSessionManager("swarm", storage_dir=str(file_dir)),
    )
    s("Do the task.")


def snapshots(snap_dir: Path) -> None:
    mgr = SnapshotSessionManager("snap", storage=LocalFileStorage(str(snap_dir)))
    agent = Agent(
        agent_id="snapper",
        model=ScriptedModel([{"text": "One."}, {"text": "Two."}]),
        session_manager=mgr,
        state={"step": 1},
        callback_handler=None,
    )
    agent("First.")
    asyncio.run(mgr.save_snapshot(agent, is_latest=False))
    agent.state.set("step", 2)
    agent("Second.")
    asyncio.run(mgr.save_snapshot(agent, is_latest=False))
    asyncio.run(mgr.save_snapshot(agent, is_latest=True))


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "testdata/strands-1.62")
    if out.exists():
        shutil.rmtree(out)
    (out / "file").mkdir(parents=True)
    single(out / "file")
    interrupted(out / "file")
    graph(out / "file")
    swarm(out / "file")
    snapshots(out / "snapshots")


if __name__ == "__main__":
    main()
