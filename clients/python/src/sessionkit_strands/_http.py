"""The HTTP client every sessionkit_strands class shares: one pooled httpx.Client,
timeouts, bounded retries of idempotent calls, and sessionkit's JSON errors
turned into the SDK's SessionException."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
from strands.types.exceptions import SessionException

#: Methods that may be sent again after an unknown outcome: the server's
#: GET/PUT/DELETE routes are idempotent; POST (create, append) is not, since a
#: retry after a lost answer would report "already exists" or append twice.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})

#: Answers worth another try of an idempotent call: the server or a proxy in
#: front of it was briefly unavailable.
RETRY_STATUSES = frozenset({502, 503, 504})


class SessionkitError(SessionException):
    """An error answer of the sessionkit server, or no answer at all.

    It is a :class:`strands.types.exceptions.SessionException`, so code written
    against any Strands session repository catches it unchanged.

    Attributes:
        status: The HTTP status, or None when no answer came (connection error, timeout).
        code: sessionkit's error code ("not_found", "conflict", "invalid_argument", ...), or None.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        """Keep the status and code next to the message."""
        super().__init__(message)
        self.status = status
        self.code = code


class SessionkitConnectionError(SessionkitError):
    """The server could not be reached, or did not answer within the timeout."""


def path(*segments: str | int) -> str:
    """Join path segments, each escaped so that an id never changes the route."""
    return "/".join(quote(str(s), safe="") for s in segments)


class Client:
    """A thread-safe sessionkit HTTP client with connection reuse.

    Args:
        base_url: The server's root URL, e.g. ``http://127.0.0.1:8080``; default ``$SESSIONKIT_URL``.
        api_key: The admin token or an application's API key (``Authorization: Bearer``);
            default ``$SESSIONKIT_API_KEY``.
        timeout: Seconds for connecting and for each read or write of one request.
        retries: Further attempts of an idempotent call after a connection error,
            a timeout or a 502/503/504 (0 disables them).
        session_password: A session's viewer password instead of a key: read-only access to that session.
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        session_password: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Create the pooled client; no request is sent."""
        base_url = base_url or os.environ.get("SESSIONKIT_URL")
        if not base_url:
            raise ValueError("base_url is required (or set SESSIONKIT_URL)")
        api_key = api_key if api_key is not None else os.environ.get("SESSIONKIT_API_KEY")
        if retries < 0:
            raise ValueError("retries must not be negative")
        headers = {"Accept": "application/json", "User-Agent": "sessionkit-strands/0.1"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if session_password:
            headers["X-Session-Password"] = session_password
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self._http = httpx.Client(
            base_url=self.base_url + "/api/",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            transport=transport,
        )
        self._lock = threading.Lock()
        #: Requests sent, retries included: the tests count round trips with it.
        self.requests = 0

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> Client:
        """Use the client as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the client."""
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        """Send one request, retrying idempotent ones, and return an answer whose status is in ok.

        Raises:
            SessionkitError: The server answered with another status; message and code are the server's.
            SessionkitConnectionError: No answer after the timeout and the retries.
        """
        attempts = 1 + (self.retries if method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            with self._lock:
                self.requests += 1
            try:
                resp = self._http.request(method, url, json=json, content=content, params=params, headers=headers)
            except httpx.TransportError as e:
                if attempt + 1 < attempts:
                    _backoff(attempt)
                    continue
                raise SessionkitConnectionError(
                    f"sessionkit at {self.base_url}: {method} /api/{url}: {type(e).__name__}: {e}"
                ) from e
            if resp.status_code in ok:
                return resp
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                _backoff(attempt)
                continue
            raise _error(method, url, resp)
        raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempt: int) -> None:
    """Sleep before the next attempt: 50 ms, 100 ms, ... with jitter, at most 1 s."""
    time.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2))


def _error(method: str, url: str, resp: httpx.Response) -> SessionkitError:
    """Turn an error answer into a SessionkitError carrying the server's code and message."""
    code: str | None = None
    message = resp.text[:500]
    try:
        body = resp.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = err.get("code")
            message = err.get("message", message)
    except ValueError:
        pass
    return SessionkitError(
        f"sessionkit: {method} /api/{url}: {resp.status_code} {code or ''}: {message}".replace("  ", " "),
        status=resp.status_code,
        code=code,
    )
