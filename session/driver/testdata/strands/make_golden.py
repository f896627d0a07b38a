"""Writes the Strands golden files.

The records below are written by hand from strands-contract.md, with dicts in
the insertion order the Strands SDK builds them (record fields, messages,
conversation-manager state, interrupt state, tool blocks, usage) and
free-form dicts (agent state, model_state, tool input, unknown keys) in sorted
key order, which is how sessionkit writes free-form dicts. Bytes are written
as Strands' encode_bytes_values writes them, by hand. The serializer is the
one FileSessionManager uses: json.dump(indent=2, ensure_ascii=False), no
trailing newline. Run: python3 make_golden.py
"""
import json

T = "2026-05-15T10:46:33.123456+00:00"
T2 = "2026-05-15T10:47:01.000001+00:00"
T0 = "2026-01-01T00:00:00+00:00"


def b(s):
    return {"__bytes_encoded__": True, "data": s}


def msg(mid, message, redact=None, created=T, updated=T):
    return {"message": message, "message_id": mid, "redact_message": redact,
            "created_at": created, "updated_at": updated}


files = {
    "session.json": {"session_id": "abc", "session_type": "AGENT", "created_at": T, "updated_at": T},
    "session_whole_second.json": {"session_id": "user@example.com", "session_type": "AGENT",
                                  "created_at": T0, "updated_at": T0},
    "agent_default.json": {
        "agent_id": "default",
        "state": {},
        "conversation_manager_state": {"__name__": "SlidingWindowConversationManager",
                                       "removed_message_count": 0, "model_call_count": 0},
        "_internal_state": {"interrupt_state": {"interrupts": {}, "context": {}, "activated": False},
                            "model_state": {}},
        "created_at": T,
        "updated_at": T,
    },
    "agent_summarizing.json": {
        "agent_id": "writer",
        "state": {"blob": b("AAEC/w=="), "count": 3, "nested": {"a": [1, 2.5, None, True], "z": "é"},
                  "user_name": "Ada"},
        "conversation_manager_state": {
            "summary_message": {"role": "assistant", "content": [{"text": "summary"}]},
            "__name__": "SummarizingConversationManager",
            "removed_message_count": 1,
        },
        "_internal_state": {"interrupt_state": {"interrupts": {}, "context": {}, "activated": False},
                            "model_state": {"response_id": "resp_abc"}},
        "created_at": T,
        "updated_at": T2,
    },
    "agent_interrupted.json": {
        "agent_id": "approver",
        "state": {},
        "conversation_manager_state": {"__name__": "SlidingWindowConversationManager",
                                       "removed_message_count": 2, "model_call_count": 0},
        "_internal_state": {
            "interrupt_state": {
                "interrupts": {
                    "v1:before_tool_call:tooluse_1:8f0c": {"id": "v1:before_tool_call:tooluse_1:8f0c",
                                                           "name": "approval", "reason": "confirm delete",
                                                           "response": None},
                },
                "context": {
                    "tool_use_message": {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": "tooluse_1", "name": "delete_file", "input": {"path": "/tmp/x"}}}]},
                    "tool_results": [],
                },
                "activated": True,
            },
            "model_state": {},
        },
        "created_at": T,
        "updated_at": T,
    },
    "message_text.json": msg(0, {"role": "user", "content": [{"text": "Hello!"}]}),
    "message_tool_use.json": msg(1, {
        "role": "assistant",
        "content": [
            {"text": "Let me check the weather."},
            {"toolUse": {"toolUseId": "tooluse_abc", "name": "weather",
                         "input": {"city": "Paris", "days": 3, "units": "metric"}}},
        ],
        "metadata": {"usage": {"inputTokens": 12, "outputTokens": 34, "totalTokens": 46},
                     "metrics": {"latencyMs": 812}},
    }),
    "message_tool_result.json": msg(2, {"role": "user", "content": [
        {"toolResult": {"toolUseId": "tooluse_abc", "status": "success",
                        "content": [{"text": "18 C, sunny"}, {"json": {"temp": 18.0, "wind": 4}}]}},
    ]}),
    "message_image.json": msg(3, {"role": "user", "content": [
        {"text": "What is in this picture?"},
        {"image": {"format": "png", "source": {"bytes": b("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")}}},
    ]}),
    "message_reasoning.json": msg(4, {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "Think first.", "signature": "sig=="}}},
        {"reasoningContent": {"redactedContent": b("c2VjcmV0IHJlYXNvbmluZw==")}},
        {"text": "Done."},
    ]}),
    "message_redacted.json": msg(5,
                                 {"role": "user", "content": [{"text": "BLOCKED!"}]},
                                 {"role": "user", "content": [{"text": "BLOCKED!"}]},
                                 created=T, updated=T2),
    "message_unicode.json": msg(6, {"role": "user", "content": [
        {"text": "line\u2028sep\u2029para \x00\x01\x1f\x7f tab\t nl\n cr\r bs\b ff\f quote\" backslash\\ "
                 "<script>&amp; é 日本語 🎉 \ufeff"},
    ]}, created=T0, updated=T0),
    "message_numbers.json": msg(7, {
        "role": "assistant",
        "content": [{"toolUse": {"toolUseId": "t1", "name": "calc", "input": {
            "big": 123456789012345680.0,
            "floats": [1.0, 1e16, 1.5e-05, 0.1, -0.0, 2.5, 1e-07, 123.456, 1e+100],
            "ints": [0, -1, 42, 9007199254740993, -9223372036854775808, 9223372036854775807],
        }}}],
        "metadata": {"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3,
                               "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0},
                     "metrics": {"latencyMs": 5, "timeToFirstByteMs": 2}},
        "tracking_id": "trk-1",
    }),
}

for name, record in files.items():
    with open(name, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, ensure_ascii=False)
