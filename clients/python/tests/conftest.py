"""Fixtures: a real `sessionkit serve` (memory and SQLite), built from this repository.

The Go binary is built once per test session (`go build ./cmd/sessionkit`) and
started on free loopback ports ($SESSIONKIT_BIN: use that binary instead). Without Go the tests skip, unless
SESSIONKIT_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
        yield Server(backend, url, ADMIN_TOKEN, sessionkit_bin, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pytest_report_header(config: pytest.Config) -> str:
    return f"sessionkit repository: {REPO_ROOT}"
