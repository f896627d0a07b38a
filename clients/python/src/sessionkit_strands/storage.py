"""SessionkitStorage: the SDK's Storage protocol over sessionkit's snapshot store."""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Callable
from typing import Any, TypeVar

from strands.storage.storage import Storage
from strands.types.exceptions import StorageError

from ._http import Client, SessionkitError, path

T = TypeVar("T")

#: Snapshots are opaque bytes: sent as such, stored as given.
_OCTETS = {"Content-Type": "application/octet-stream"}

#: The storage namespace Strands' SnapshotSessionManager writes under.
NAMESPACE = "session"


class SessionkitStorage(Storage):
    """Strands' ``Storage`` on sessionkit: ``SnapshotSessionManager(storage=SessionkitStorage(url, key))``.

    Keys are those the snapshot manager writes, ``session/<session_id>/<rest>``:
    each is stored as snapshot ``<rest>`` of sessionkit session ``<session_id>``
    (created on the first write), so a session's snapshots are deleted,
    exported and access-controlled with it. Other keys raise StorageError.
    ``search`` is the SDK's default keyword search over :meth:`list` and :meth:`read`.

    The HTTP calls are blocking; the async methods run them in a worker thread,
    so one instance serves any event loop (the Agent runs one per invocation).

    Args:
        base_url: The server's root URL; default ``$SESSIONKIT_URL``.
        api_key: The admin token or an application's API key; default ``$SESSIONKIT_API_KEY``.
        application_name: The application sessions created by a write belong to.
        timeout: Seconds per request phase.
        retries: Further attempts of idempotent calls (all snapshot calls are).
        client: A shared :class:`~sessionkit_strands.Client` instead of the connection settings.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        application_name: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        client: Client | None = None,
    ) -> None:
        """Set up the pooled client; no request is sent."""
        self.client = client or Client(base_url, api_key, timeout=timeout, retries=retries)
        self.application_name = application_name

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()

    async def write(self, key: str, data: bytes) -> None:
        """Store data under key, creating the key's session if needed."""
        await _call(key, self._write, key, bytes(data))

    async def read(self, key: str) -> bytes | None:
        """The bytes under key, or None if the key or its session does not exist."""
        return await _call(key, self._read, key)

    async def delete(self, key: str) -> None:
        """Delete key; a no-op if it or its session does not exist."""
        await _call(key, self._delete, key)

    async def list(self, query: str = "") -> builtins.list[str]:
        """Keys starting with the prefix query, sorted ascending."""
        return await _call(query, self._list, query)

    def _write(self, key: str, data: bytes) -> None:
        sid, rest = _split(key)
        url = path("sessions", sid, "snapshots") + "/" + _escape_key(rest)
        try:
            self.client.request("PUT", url, content=data, headers=_OCTETS)
            return
        except SessionkitError as e:
            if e.status != 404:
                raise
        body: dict[str, Any] = {"session_id": sid}
        if self.application_name:
            body["application_name"] = self.application_name
        try:
            self.client.request("POST", "sessions", json=body)
        except SessionkitError as e:
            if e.status != 409:  # created meanwhile by another writer
                raise
        self.client.request("PUT", url, content=data, headers=_OCTETS)

    def _read(self, key: str) -> bytes | None:
        sid, rest = _split(key)
        try:
            return self.client.request("GET", path("sessions", sid, "snapshots") + "/" + _escape_key(rest)).content
        except SessionkitError as e:
            if e.status == 404 and e.code == "not_found":
                return None
            raise

    def _delete(self, key: str) -> None:
        sid, rest = _split(key)
        try:
            self.client.request("DELETE", path("sessions", sid, "snapshots") + "/" + _escape_key(rest))
        except SessionkitError as e:
            if not (e.status == 404 and e.code == "not_found"):
                raise

    def _list(self, query: str) -> builtins.list[str]:
        prefix = _normalize_prefix(query)
        ns = NAMESPACE + "/"
        if not prefix.startswith(ns):
            if not ns.startswith(prefix):
                return []
            return self._list_sessions("", "")
        sid, slash, rest = prefix[len(ns) :].partition("/")
        if not slash:
            # "session/<partial id>": every session whose id starts with it.
            return self._list_sessions(sid, "")
        return self._list_session(sid, rest)

    def _list_sessions(self, id_prefix: str, key_prefix: str) -> builtins.list[str]:
        keys: builtins.list[str] = []
        params: dict[str, Any] = {"limit": 1000}
        if id_prefix:
            params["id_prefix"] = id_prefix
        while True:
            page = self.client.request("GET", "sessions", params=params).json()
            for s in page.get("sessions") or []:
                keys.extend(self._list_session(s["session_id"], key_prefix))
            if not page.get("next_cursor"):
                return sorted(keys)
            params["cursor"] = page["next_cursor"]

    def _list_session(self, sid: str, prefix: str) -> builtins.list[str]:
        keys: builtins.list[str] = []
        params: dict[str, Any] = {"prefix": prefix, "limit": 10000}
        url = path("sessions", sid, "snapshots")
        while True:
            try:
                page = self.client.request("GET", url, params=params).json()
            except SessionkitError as e:
                if e.status == 404 and e.code == "not_found":
                    return keys
                raise
            keys.extend(f"{NAMESPACE}/{sid}/{s['key']}" for s in page.get("snapshots") or [])
            if not page.get("next_cursor"):
                return keys
            params["cursor"] = page["next_cursor"]


async def _call(key: str, fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in a worker thread; the client's errors become the StorageError the protocol documents."""
    try:
        return await asyncio.to_thread(fn, *args)
    except SessionkitError as e:
        raise StorageError(f"sessionkit storage: key {key!r}: {e}") from e


def _normalize_key(key: str) -> str:
    """The SDK's path-key rules: runs of '/' collapsed, ends stripped, no '\\', no empty key, no '..'."""
    if "\\" in key:
        raise StorageError(f"Invalid storage key {key!r}: backslashes are not allowed")
    normalized = re.sub(r"/+", "/", key).strip("/")
    if not normalized:
        raise StorageError("Storage key must not be empty")
    if ".." in normalized.split("/"):
        raise StorageError(f"Invalid storage key {key!r}: '..' path segments are not allowed")
    return normalized


def _normalize_prefix(prefix: str) -> str:
    """The SDK's prefix rules: runs of '/' collapsed, leading '/' stripped, a trailing '/' kept."""
    if "\\" in prefix:
        raise StorageError(f"Invalid storage prefix {prefix!r}: backslashes are not allowed")
    normalized = re.sub(r"/+", "/", prefix).lstrip("/")
    if ".." in normalized.split("/"):
        raise StorageError(f"Invalid storage prefix {prefix!r}: '..' path segments are not allowed")
    return normalized


def _split(key: str) -> tuple[str, str]:
    """``session/<id>/<rest>`` → (id, rest); StorageError for any other key."""
    parts = _normalize_key(key).split("/", 2)
    if len(parts) != 3 or parts[0] != NAMESPACE:
        raise StorageError(
            f"sessionkit storage: key {key!r} is not under {NAMESPACE}/<session_id>/: "
            "sessionkit keeps snapshots per session"
        )
    return parts[1], parts[2]


def _escape_key(rest: str) -> str:
    """Escape each segment of a snapshot key; the '/' separators stay."""
    return "/".join(path(seg) for seg in rest.split("/"))
