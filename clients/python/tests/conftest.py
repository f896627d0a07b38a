"""Fixtures: a real `sessionkit serve` (memory and SQLite), built from this repository.

The Go binary is built once per test session (`go build ./cmd/sessionkit`) and
started on free loopback ports ($SESSIONKIT_BIN: use that binary instead). Without Go the tests skip, unless
SESSIONKIT_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "python-tests-admin-token-0123456789"


@dataclass
class Server:
    """A running sessionkit serve."""

    backend: str
    url: str
    admin_token: str
    #: Where SessionkitStorage points: the server itself when it has the snapshot
    #: routes, else the in-test fake of those routes in front of it.
    snapshot_url: str
    #: True when snapshot_url is the fake (the routes are not on this branch yet).
    snapshot_fake: bool
    #: The binary, and the SQLite directory (None for the memory backend), for reading from Go.
    binary: Path
    data_dir: Path | None


def _require() -> bool:
    return os.environ.get("SESSIONKIT_REQUIRE_SERVICES") == "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def sessionkit_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sessionkit binary, built from this checkout ($SESSIONKIT_BIN names a prebuilt one instead)."""
    if prebuilt := os.environ.get("SESSIONKIT_BIN"):
        return Path(prebuilt)
    go = shutil.which("go")
    if go is None:
        if _require():
            pytest.fail("go is not installed")
        pytest.skip("go is not installed")
    out = tmp_path_factory.mktemp("bin") / "sessionkit"
    subprocess.run([go, "build", "-o", str(out), "./cmd/sessionkit"], cwd=REPO_ROOT, check=True, timeout=600)
    return out


@pytest.fixture(scope="session", params=["memory", "sqlite"])
def server(request: pytest.FixtureRequest, sessionkit_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A sessionkit serve on a free loopback port, with the memory or the SQLite backend."""
    backend = request.param
    port = _free_port()
    args = [str(sessionkit_bin), "serve", "-addr", f"127.0.0.1:{port}", "-admin-token", ADMIN_TOKEN, "-backend", backend,
            "-log-level", "warn"]
    data_dir = tmp_path_factory.mktemp("sqlite") if backend == "sqlite" else None
    if data_dir is not None:
        args += ["-data-dir", str(data_dir)]
    log = tmp_path_factory.mktemp("log") / "serve.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sessionkit serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        real = _has_snapshot_routes(url)
        SNAPSHOT_ROUTES[backend] = "real sessionkit routes" if real else "FAKE (conftest._FakeSnapshots): the server lacks them"
        if real:
            yield Server(backend, url, ADMIN_TOKEN, url, False, sessionkit_bin, data_dir)
        else:
            fake = _FakeSnapshots(url)
            try:
                yield Server(backend, url, ADMIN_TOKEN, fake.url, True, sessionkit_bin, data_dir)
            finally:
                fake.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _has_snapshot_routes(url: str) -> bool:
    """Probe: list the snapshots of an existing session; a 404 means the route is missing."""
    h = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = httpx.post(url + "/api/sessions", json={"session_id": "snapshot-probe"}, headers=h)
    assert r.status_code in (201, 409), r.text
    return httpx.get(url + "/api/sessions/snapshot-probe/snapshots", headers=h).status_code == 200


#: Which snapshot routes each backend's storage tests ran against, for the summary line.
SNAPSHOT_ROUTES: dict[str, str] = {}

_SNAP = re.compile(r"^/api/sessions/([^/]+)/snapshots(?:/(.*))?$")


class _FakeSnapshots:
    """FAKE of the snapshot routes of /work/notes/SNAPSHOT-API.md, for branches without them.

    It serves /api/sessions/{id}/snapshots[/{key...}] from memory (checking the
    session on the real server, with the caller's credentials) and forwards
    every other request to the real server. Tests that use it are the ones
    taking Server.snapshot_url; they run against the real routes as soon as the
    server has them (see _has_snapshot_routes).
    """

    def __init__(self, upstream: str) -> None:
        store: dict[tuple[str, str], bytes] = {}
        lock = threading.Lock()
        client = httpx.Client(base_url=upstream, timeout=10)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, obj: object) -> None:
                import json

                self._send(status, json.dumps(obj).encode())

            def _forward(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "x-session-password")}
                r = client.request(self.command, self.path, content=body, headers=headers)
                self._send(r.status_code, r.content, r.headers.get("Content-Type", "application/json"))

            def _handle(self) -> None:
                u = urlsplit(self.path)
                m = _SNAP.match(u.path)
                if not m:
                    self._forward()
                    return
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                sid = unquote(m.group(1))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "x-session-password")}
                check = client.get(f"/api/sessions/{m.group(1)}", headers=headers)
                if check.status_code != 200:
                    self._send(check.status_code, check.content)
                    return
                if m.group(2) is None:
                    if self.command != "GET":
                        self._json(405, {"error": {"code": "method_not_allowed", "message": self.command}})
                        return
                    q = parse_qs(u.query)
                    prefix = q.get("prefix", [""])[0]
                    with lock:
                        keys = sorted(k for (s, k) in store if s == sid and k.startswith(prefix))
                        snaps = [{"key": k, "size_bytes": len(store[(sid, k)]), "updated_at": ""} for k in keys]
                    self._json(200, {"snapshots": snaps, "next_cursor": ""})
                    return
                key = "/".join(unquote(p) for p in m.group(2).split("/") if p)
                if self.command == "PUT":
                    with lock:
                        store[(sid, key)] = body
                    self._json(200, {"key": key, "size_bytes": len(body), "updated_at": ""})
                elif self.command == "GET":
                    with lock:
                        data = store.get((sid, key))
                    if data is None:
                        self._json(404, {"error": {"code": "not_found", "message": f"snapshot {key!r}: not found"}})
                    else:
                        self._send(200, data, "application/octet-stream")
                elif self.command == "DELETE":
                    with lock:
                        store.pop((sid, key), None)
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(405, {"error": {"code": "method_not_allowed", "message": self.command}})

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle

        self._srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._client = client
        self.url = f"http://127.0.0.1:{self._srv.server_address[1]}"
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._client.close()


def pytest_report_header(config: pytest.Config) -> str:
    return f"sessionkit repository: {REPO_ROOT}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for backend, how in sorted(SNAPSHOT_ROUTES.items()):
        terminalreporter.write_line(f"SessionkitStorage tests on {backend}: snapshot routes {how}")
