"""How the settings become a connection to Elasticsearch, and what a failed request means, in one place for the
two clients: elasticsearch-py (:func:`indexer.client.connect`, every command but ``search --count``) and the
standard-library :class:`indexer.http_client.HttpClient` (:class:`LightClient`, for ``search --count``, which
would otherwise spend most of its time importing elasticsearch-py).

The rules: the hosts in order, with credentials of a URL taken out of it; the API key, else the user name and
password, else the credentials of a URL, for every host; the CA file or the CA fingerprint; the timeout; a request
that gets no answer (refused, timed out, TLS failure) is tried again, on the next host, up to :data:`RETRIES`
times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from indexer.config import Settings
from indexer.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    IndexerError,
    IndexMissing,
    QueryError,
    redact_url,
)
from indexer.http_client import HttpClient, NetworkError, RequestTimeout, TlsError, basic_auth

RETRIES = 2
START_HINT = "start the local node with `indexer node start`, or set ES_URL to your cluster"
TOO_MANY_CLAUSES = "too many nested clauses"
"""In the server's refusal of a query that expands to more than ``indices.query.bool.max_clause_count`` terms."""
Failure = Literal["tls", "timeout", "unreachable"]
"""A request that got no answer: the TLS handshake failed, no answer in time, or no connection at all."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and how to connect; both clients are built from this."""

    hosts: tuple[str, ...]
    """The URLs without their ``user:password@``."""
    authorization: str | None = field(repr=False)
    """The ``Authorization`` header sent to every host."""
    ca_certs: Path | None
    ca_fingerprint: str | None
    """SHA-256 of a certificate in the server's chain, lower-case hex without colons."""
    timeout: float
    retries: int = RETRIES


def connection(settings: Settings) -> Connection:
    """The connection the settings describe (no request is made)."""
    authorization = None
    if settings.api_key:
        authorization = f"ApiKey {settings.api_key}"
    elif settings.username:
        authorization = basic_auth(settings.username, settings.password or "")
    hosts = []
    for url in settings.hosts:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            authorization = authorization or basic_auth(unquote(parts.username or ""), unquote(parts.password or ""))
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        hosts.append(urlunsplit(parts))
    fingerprint = settings.ca_fingerprint.replace(":", "").lower() if settings.ca_fingerprint else None
    return Connection(tuple(hosts), authorization, settings.ca_certs, fingerprint, settings.timeout)


def where(settings: Settings) -> str:
    """The hosts as error messages name them (credentials masked)."""
    return ", ".join(redact_url(host) for host in settings.hosts)


def failure_error(failure: Failure, settings: Settings, detail: str) -> ConnectionFailed:
    """The one-line error for a request that got no answer (`detail`: the TLS library's words)."""
    if failure == "tls":
        return ConnectionFailed(
            f"TLS handshake with Elasticsearch at {where(settings)} failed: {detail}",
            "set ES_CA_CERTS to the cluster's CA certificate or ES_CA_FINGERPRINT to its SHA-256 fingerprint",
        )
    if failure == "timeout":
        return ConnectionFailed(
            f"Elasticsearch at {where(settings)} did not answer within {settings.timeout:g} s",
            "the server is overloaded or stuck; raise ES_TIMEOUT or check `indexer node logs`",
        )
    return ConnectionFailed(f"cannot reach Elasticsearch at {where(settings)}", START_HINT)


def answer_error(status: int, reason: str, settings: Settings) -> IndexerError:
    """The one-line error for an error answer of HTTP `status` whose error reads `reason` (:func:`es_reason`)."""
    if status == 401:
        return AuthenticationFailed(
            f"Elasticsearch at {where(settings)} rejected the credentials (HTTP 401)",
            "check ES_API_KEY, or ES_USERNAME and ES_PASSWORD",
        )
    if status == 403:
        return AuthenticationFailed(
            f"the configured user may not do this (HTTP 403): {reason}", "grant the user the needed index privileges"
        )
    if status == 404 and "index_not_found" in reason:
        return IndexMissing(reason, "index some articles first: `indexer index PATH`")
    if TOO_MANY_CLAUSES in reason.lower():
        return QueryError(
            f"the query is too large for the server ({reason})",
            "use fewer or shorter terms: every character of a term counts once per text field searched",
        )
    return IndexerError(f"Elasticsearch answered HTTP {status}: {reason}")


def es_reason(error: Any) -> str:
    """An Elasticsearch error object (an API answer's ``error``, a bulk item's) as one line: the type and reason
    of its first root cause, and the reason of what caused that."""
    if not isinstance(error, dict):
        return str(error)
    root = (error.get("root_cause") or [error])[0]
    reason = f"{root.get('type', 'error')}: {root.get('reason', '')}".strip(": ")
    cause = root.get("caused_by")
    return f"{reason} ({cause.get('reason', '')})" if isinstance(cause, dict) else reason


class LightClient:
    """The few Elasticsearch requests of ``search --count`` over :class:`HttpClient`: JSON in and out, failures as
    the same one-line errors as :func:`indexer.client.explain` gives for elasticsearch-py's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = connection(settings)
        try:
            self._http = HttpClient(
                config.hosts,
                authorization=config.authorization,
                ca_certs=config.ca_certs,
                ca_fingerprint=config.ca_fingerprint,
                timeout=config.timeout,
                retries=config.retries,
                headers={"Accept": "application/json"},
            )
        except ValueError as exc:
            raise ConfigError(f"hosts: {settings.scrub(str(exc))}", "check ES_URL") from None

    def call(self, method: str, path: str, body: Any = None, *, none_if_missing: bool = False) -> Any:
        """The JSON answer to one request (None for HTTP 404 when `none_if_missing`)."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            answer = self._http.request(method, path, data, "application/json" if data is not None else None)
        except NetworkError as exc:
            failure: Failure = (
                "tls" if isinstance(exc, TlsError) else "timeout" if isinstance(exc, RequestTimeout) else "unreachable"
            )
            raise failure_error(failure, self.settings, str(exc)) from None
        if answer.status == 404 and none_if_missing:
            return None
        content = answer.json()
        if not answer.ok:
            error = content.get("error") if isinstance(content, dict) else None
            raise answer_error(answer.status, es_reason(error or answer.body.decode(errors="replace")), self.settings)
        return content

    def close(self) -> None:
        self._http.close()
