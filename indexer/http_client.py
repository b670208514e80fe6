"""One small HTTP client on the standard library (``http.client`` and ``ssl``): the managed node's own checks,
Kibana, and the requests of ``search --count`` (:mod:`indexer.counting`), which answer before elasticsearch-py
(~250 ms of imports) could even load.

TLS: a CA file, certificate checks on or off, or a CA fingerprint (the SHA-256 of a certificate the server
presents; the chain is then verified with that certificate as its anchor, the host name is not checked, as
elasticsearch-py's ``ssl_assert_fingerprint`` does). Several base URLs fail over: a request that gets no answer
(refused, timed out, TLS failure) is tried on the next one, up to ``retries`` more times. A connection is kept
open for the next request. Any HTTP status comes back as a :class:`Response`; only network failures raise
(:class:`NetworkError` and its subclasses :class:`TlsError` and :class:`RequestTimeout`).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_DER = 2
"""``_ssl.ENCODING_DER``: the encoding asked of the private chain API of Python < 3.13."""


class NetworkError(Exception):
    """A request that got no HTTP answer (refused, reset, unknown host); the operating system's error is the
    ``__cause__``."""


class TlsError(NetworkError):
    """The TLS handshake failed: an unknown CA, a certificate for another host, no certificate with the fingerprint."""


class RequestTimeout(NetworkError):
    """No answer within the timeout."""


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


@dataclass(frozen=True, slots=True)
class _Server:
    scheme: str
    host: str
    port: int
    prefix: str


def _server(url: str) -> _Server:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an http:// or https:// URL")
    port = parts.port or DEFAULT_PORTS[parts.scheme]  # raises ValueError for a port out of range
    return _Server(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


def _fingerprint(text: str) -> bytes:
    digest = text.replace(":", "").strip().lower()
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        raw = b""
    if len(raw) != hashlib.sha256().digest_size:
        raise ValueError("a CA fingerprint is the SHA-256 of the certificate: 64 hex digits (colons allowed)")
    return raw


class HttpClient:
    """Requests to one server or several (each URL may carry a base path), with an optional ``Authorization``."""

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        authorization: str | None = None,
        ca_certs: Path | None = None,
        ca_fingerprint: str | None = None,
        verify: bool = True,
        timeout: float = 30.0,
        retries: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._servers = [_server(url) for url in ([urls] if isinstance(urls, str) else urls)]
        if not self._servers:
            raise ValueError("no URL")
        self._ca_certs = ca_certs
        self._fingerprint = _fingerprint(ca_fingerprint) if ca_fingerprint else None
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self.timeout = timeout
        self.retries = retries
        self._headers = dict(headers or {})
        if authorization:
            self._headers["Authorization"] = authorization
        self._open: dict[int, http.client.HTTPConnection] = {}
        self._first = 0
        """The server tried first: the last one that answered."""

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Response:
        """Send one request, failing over to the next server when one doesn't answer; raises NetworkError (or a
        subclass) when none did, never for an HTTP status."""
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        failure: NetworkError | None = None
        for attempt in range(self.retries + 1):
            index = (self._first + attempt) % len(self._servers)
            try:
                answer = self._send(index, method, path, body, headers)
            except NetworkError as exc:
                failure = exc
                continue
            self._first = index
            return answer
        assert failure is not None
        raise failure

    def _send(self, index: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Response:
        reused = index in self._open
        try:
            return self._exchange(index, method, path, body, headers)
        except NetworkError as exc:
            self._drop(index)
            if not reused or isinstance(exc, RequestTimeout):
                raise
        return self._exchange(index, method, path, body, headers)  # the server had closed the kept connection

    def _exchange(self, index: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Response:
        server = self._servers[index]
        try:
            connection = self._open.get(index) or self._connect(index)
            connection.request(method, server.prefix + path, body=body, headers=headers)
            answer = connection.getresponse()
            return Response(answer.status, answer.read())
        except NetworkError:
            raise
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise TlsError(_first_line(exc)) from exc
        except TimeoutError as exc:
            raise RequestTimeout(f"no answer within {self.timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkError(_first_line(exc)) from exc

    def _connect(self, index: int) -> http.client.HTTPConnection:
        server = self._servers[index]
        connection: http.client.HTTPConnection
        if server.scheme == "https":
            if self._fingerprint and self._context is None:
                self._context = self._pinned_context(server)
            connection = http.client.HTTPSConnection(
                server.host, server.port, timeout=self.timeout, context=self._context or self._tls_context()
            )
        else:
            connection = http.client.HTTPConnection(server.host, server.port, timeout=self.timeout)
        connection.connect()
        self._open[index] = connection
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            context = ssl.create_default_context(cafile=str(self._ca_certs) if self._ca_certs else None)
            if not self._verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._context = context
        return self._context

    def _pinned_context(self, server: _Server) -> ssl.SSLContext:
        """A context that trusts the one certificate of the server's chain with the configured fingerprint
        (found in a first handshake that checks nothing), so the chain is then verified up to it."""
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        probe.check_hostname = False
        probe.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(server.host, server.port, timeout=self.timeout, context=probe)
        try:
            connection.connect()
            chain = _presented_chain(connection.sock)
        finally:
            connection.close()
        anchor = next((cert for cert in chain if hashlib.sha256(cert).digest() == self._fingerprint), None)
        if anchor is None:
            seen = ", ".join(hashlib.sha256(cert).hexdigest() for cert in chain)
            raise TlsError(f"no certificate of the server has the configured fingerprint (it presented {seen})")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.load_verify_locations(cadata=anchor)
        return context

    def _drop(self, index: int) -> None:
        connection = self._open.pop(index, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for index in list(self._open):
            self._drop(index)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _presented_chain(sock: Any) -> list[bytes]:
    """The DER certificates the server sent, leaf first."""
    if hasattr(sock, "get_unverified_chain"):  # Python 3.13
        return [bytes(cert) for cert in sock.get_unverified_chain()]
    certs = sock._sslobj.get_unverified_chain() or []  # the same, private before 3.13
    return [cert.public_bytes(_DER) for cert in certs] or [sock.getpeercert(True)]


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
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
