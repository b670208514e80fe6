"""Connecting to Elasticsearch (managed node or any 8.x/9.x cluster) and explaining failures in one line.

The client is elasticsearch-py 8.x: it speaks to 8.x servers natively and to 9.x servers through their REST
compatibility with 8.x; the 9.x client refuses 8.x servers, so 8.x is the one that serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import elastic_transport
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    NotFoundError,
)

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

START_HINT = "start the local node with `indexer node start`, or set ES_URL to your cluster"
TOO_MANY_CLAUSES = "too many nested clauses"
"""In the server's refusal of a query that expands to more than ``indices.query.bool.max_clause_count`` terms."""


def connect(settings: Settings) -> Elasticsearch:
    """A client for the configured hosts and credentials; no request is made yet."""
    options: dict[str, Any] = {
        "request_timeout": settings.timeout,
        "max_retries": 2,
        "retry_on_timeout": True,
    }
    if settings.api_key:
        options["api_key"] = settings.api_key
    elif settings.username:
        options["basic_auth"] = (settings.username, settings.password or "")
    if settings.ca_certs:
        options["ca_certs"] = str(settings.ca_certs)
    if settings.ca_fingerprint:
        options["ssl_assert_fingerprint"] = settings.ca_fingerprint.replace(":", "").lower()
    try:
        return Elasticsearch(list(settings.hosts), **options)
    except ValueError as exc:  # a URL the client can't parse: its message may quote the URL with credentials
        raise ConfigError(f"hosts: {settings.scrub(str(exc))}", "check ES_URL") from None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What `doctor` and `node status` report about a cluster."""

    version: str
    cluster_name: str
    health: str
    nodes: int


def server_info(es: Elasticsearch) -> ServerInfo:
    """Version, name and health. Uses ``_nodes``, which every distribution serves (the integ-test zip has no
    root endpoint ``GET /``)."""
    nodes = es.nodes.info(node_id="_all", metric="_none", filter_path="cluster_name,nodes.*.version")
    versions = sorted({node["version"] for node in nodes.get("nodes", {}).values()})
    health = es.cluster.health()
    return ServerInfo(
        version=", ".join(versions) or "unknown",
        cluster_name=nodes.get("cluster_name", health.get("cluster_name", "")),
        health=health["status"],
        nodes=health["number_of_nodes"],
    )


def es_reason(error: Any) -> str:
    """An Elasticsearch error object (an API answer's ``error``, a bulk item's) as one line: the type and reason
    of its first root cause, and the reason of what caused that."""
    if not isinstance(error, dict):
        return str(error)
    root = (error.get("root_cause") or [error])[0]
    reason = f"{root.get('type', 'error')}: {root.get('reason', '')}".strip(": ")
    cause = root.get("caused_by")
    return f"{reason} ({cause.get('reason', '')})" if isinstance(cause, dict) else reason


def api_reason(exc: ApiError) -> str:
    """The reason of an API error answer in one line (see :func:`es_reason`)."""
    info = exc.info if isinstance(exc.info, dict) else {}
    return es_reason(info.get("error") or exc.message)


def explain(exc: BaseException, settings: Settings) -> IndexerError | None:
    """Turn a client exception into a one-line IndexerError with a fix; None if it isn't one we know."""
    where = ", ".join(redact_url(host) for host in settings.hosts)
    if isinstance(exc, IndexerError):
        return exc
    if isinstance(exc, elastic_transport.TlsError):
        return ConnectionFailed(
            f"TLS handshake with Elasticsearch at {where} failed: {_first_line(exc)}",
            "set ES_CA_CERTS to the cluster's CA certificate or ES_CA_FINGERPRINT to its SHA-256 fingerprint",
        )
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return ConnectionFailed(
            f"Elasticsearch at {where} did not answer within {settings.timeout:g} s",
            "the server is overloaded or stuck; raise ES_TIMEOUT or check `indexer node logs`",
        )
    if isinstance(exc, elastic_transport.ConnectionError):
        return ConnectionFailed(f"cannot reach Elasticsearch at {where}", START_HINT)
    if isinstance(exc, AuthenticationException):
        return AuthenticationFailed(
            f"Elasticsearch at {where} rejected the credentials (HTTP 401)",
            "check ES_API_KEY, or ES_USERNAME and ES_PASSWORD",
        )
    if isinstance(exc, AuthorizationException):
        return AuthenticationFailed(
            f"the configured user may not do this (HTTP 403): {api_reason(exc)}",
            "grant the user the needed index privileges",
        )
    if isinstance(exc, NotFoundError) and "index_not_found" in api_reason(exc):
        return IndexMissing(api_reason(exc), "index some articles first: `indexer index PATH`")
    if isinstance(exc, ApiError) and TOO_MANY_CLAUSES in api_reason(exc).lower():
        return QueryError(
            f"the query is too large for the server ({api_reason(exc)})",
            "use fewer or shorter terms: every character of a term counts once per text field searched",
        )
    if isinstance(exc, ApiError):
        return IndexerError(f"Elasticsearch answered HTTP {exc.meta.status}: {api_reason(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
