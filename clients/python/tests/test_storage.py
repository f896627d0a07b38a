"""SessionkitStorage: the SDK's Storage protocol, and SnapshotSessionManager on it.

These tests talk to the snapshot routes of a real `sessionkit serve`
(`/api/sessions/{id}/snapshots`), on the memory and the SQLite backend.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from strands import Agent
from strands.session.snapshot_session_manager import SnapshotSessionManager
from strands.storage import Storage
from strands.types.exceptions import StorageError

from sessionkit_strands import SessionkitStorage

from .conftest import Server
from .scripted import ScriptedModel, text


@pytest.fixture
def storage(server: Server) -> SessionkitStorage:
    st = SessionkitStorage(server.url, server.admin_token)
    yield st
    st.close()


def sid() -> str:
    return "py-snap-" + uuid.uuid4().hex[:8]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_is_a_storage() -> None:
    assert isinstance(SessionkitStorage("http://127.0.0.1:1", "k"), Storage)


def test_write_read_delete_list(storage: SessionkitStorage, server: Server) -> None:
    s = sid()
    k = f"session/{s}/scopes/agent/a/snapshots/snapshot_latest.json"
    assert run(storage.read(k)) is None
    run(storage.write(k, b"\x00\x01 bytes as given \xff"))
    assert run(storage.read(k)) == b"\x00\x01 bytes as given \xff"
    # The first write created the sessionkit session: the snapshots live and die with it.
    r = httpx.get(f"{server.url}/api/sessions/{s}", headers={"Authorization": f"Bearer {server.admin_token}"})
    assert r.status_code == 200
    run(storage.write(f"//session/{s}//scopes/agent/b/x.json/", b"2"))
    assert run(storage.read(f"session/{s}/scopes/agent/b/x.json")) == b"2"
    assert run(storage.list(f"session/{s}/")) == [
        f"session/{s}/scopes/agent/a/snapshots/snapshot_latest.json",
        f"session/{s}/scopes/agent/b/x.json",
    ]
    assert run(storage.list(f"session/{s}/scopes/agent/b")) == [f"session/{s}/scopes/agent/b/x.json"]
    assert s and f"session/{s}/scopes/agent/b/x.json" in run(storage.list(f"session/{s[:-2]}"))
    assert run(storage.list("context/")) == []
    run(storage.delete(k))
    run(storage.delete(k))  # no-op when missing
    run(storage.delete(f"session/{sid()}/nothing"))  # no-op when the session is missing
    assert run(storage.read(k)) is None
    hits = run(storage.search("bytes"))
    assert all(h.key.startswith("session/") for h in hits)


@pytest.mark.parametrize("key", ["", "a\\b", "session/x/../y", "other/x/y", "session/only-id"])
def test_bad_keys_are_storage_errors(storage: SessionkitStorage, key: str) -> None:
    with pytest.raises(StorageError):
        run(storage.write(key, b"x"))


def test_server_errors_are_storage_errors(server: Server) -> None:
    st = SessionkitStorage(server.url, "not-the-token-not-the-token")
    with pytest.raises(StorageError, match="401"):
        run(st.read(f"session/{sid()}/k"))
    st.close()


def test_snapshot_session_manager_latest_immutable_and_restore(storage: SessionkitStorage) -> None:
    s = sid()
    sm = SnapshotSessionManager(session_id=s, storage=storage)
    agent = Agent(model=ScriptedModel([text("one"), text("two")]), session_manager=sm, agent_id="snap", callback_handler=None)
    agent("first")
    checkpoint = run(sm.save_snapshot(agent, is_latest=False))
    assert checkpoint
    agent.state.set("k", "v")
    agent("second")
    assert len(agent.messages) == 4
    assert run(sm.list_snapshot_ids(agent)) == [checkpoint]

    # A fresh agent restores the latest snapshot on init.
    sm2 = SnapshotSessionManager(session_id=s, storage=storage)
    again = Agent(model=ScriptedModel([]), session_manager=sm2, agent_id="snap", callback_handler=None)
    assert again.messages == agent.messages
    assert again.state.get() == {"k": "v"}

    # Time travel to the checkpoint.
    assert run(sm2.restore_snapshot(again, snapshot_id=checkpoint))
    assert [m["content"][0]["text"] for m in again.messages] == ["first", "one"]
    assert again.state.get() == {}

    run(sm2.delete_session())
    assert run(storage.list(f"session/{s}/")) == []
