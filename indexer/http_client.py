"""One small HTTP client for the requests elasticsearch-py doesn't make: the managed node's own checks and Kibana.

It is elastic_transport's urllib3 node, which elasticsearch-py already depends on: the same TLS options (CA file,
certificate checks on or off) and the same connection errors (``elastic_transport.ConnectionError``,
``ConnectionTimeout``, ``TlsError``) as the Elasticsearch client, with no retries, sniffing or serialization on top.
Any HTTP status comes back as a :class:`Response`; only network failures raise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import HttpHeaders, NodeConfig, Urllib3HttpNode

DEFAULT_PORTS = {"http": 80, "https": 443}


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic authentication."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer: status and raw body."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON, or None when it isn't JSON."""
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


class HttpClient:
    """Requests to one server (``url`` may carry a base path), with an optional ``Authorization`` header."""

    def __init__(
        self,
        url: str,
        *,
        authorization: str | None = None,
        ca_certs: Path | None = None,
        verify: bool = True,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("not an http:// or https:// URL")
        config = NodeConfig(
            parts.scheme,
            parts.hostname,
            parts.port or DEFAULT_PORTS[parts.scheme],  # raises ValueError for a port out of range
            path_prefix=parts.path.rstrip("/"),
            request_timeout=timeout,
            ca_certs=str(ca_certs) if ca_certs else None,
            verify_certs=verify,
            ssl_show_warn=False,
        )
        self._node = Urllib3HttpNode(config)
        self._headers = HttpHeaders(headers or {})
        if authorization:
            self._headers["Authorization"] = authorization

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Response:
        """Send one request; raises elastic_transport's connection errors, never for an HTTP status."""
        headers = self._headers.copy()
        if content_type:
            headers["Content-Type"] = content_type
        answer = self._node.perform_request(method, path, body=body, headers=headers)
        return Response(answer.meta.status, answer.body)

    def close(self) -> None:
        self._node.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def failure_reason(exc: BaseException) -> str:
    """The operating system's words for a connection failure (``Connection refused``), else its first line."""
    seen: list[BaseException] = [exc]
    while seen:
        current = seen.pop()
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        seen += [error for error in getattr(current, "errors", ()) if isinstance(error, BaseException)]
        if current.__cause__ is not None:
            seen.append(current.__cause__)
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
