"""A deterministic strands Model: it streams scripted turns, never the network."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from strands.models.model import Model
from strands.types.streaming import StreamEvent


def text(s: str) -> dict[str, Any]:
    """A turn answering with text."""
    return {"text": s}


def tool(name: str, tool_input: dict[str, Any], tool_use_id: str) -> dict[str, Any]:
    """A turn calling a tool."""
    return {"tool": name, "input": tool_input, "id": tool_use_id}


def guardrail(user_redaction: str, answer: str) -> dict[str, Any]:
    """A turn where a guardrail intervenes: the user's message is redacted."""
    return {"guardrail": user_redaction, "text": answer}


class ScriptedModel(Model):
    """Streams the given turns in order; each call of stream takes the next turn."""

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = list(turns)
        self.calls = 0
        self._lock = threading.Lock()
        self.config: dict[str, Any] = {"model_id": "scripted"}

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> Any:
        return self.config

    def structured_output(self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any) -> AsyncGenerator[Any, None]:
        raise NotImplementedError("not scripted")

    async def stream(self, messages: Any, tool_specs: Any = None, system_prompt: str | None = None, **kwargs: Any) -> AsyncIterable[StreamEvent]:
        with self._lock:
            if self.calls >= len(self.turns):
                raise AssertionError(f"the script has {len(self.turns)} turns; call {self.calls + 1} is one too many")
            turn = self.turns[self.calls]
            self.calls += 1
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
