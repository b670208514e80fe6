"""Connecting to Elasticsearch (managed node or any 8.x/9.x cluster) and explaining failures in one line.

The client is elasticsearch-py 8.x: it speaks to 8.x servers natively and to 9.x servers through their REST
compatibility with 8.x; the 9.x client refuses 8.x servers, so 8.x is the one that serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch

from indexer.config import Settings
from indexer.connection import answer_error, connection, es_reason, failure_error
from indexer.errors import ConfigError, IndexerError


def connect(settings: Settings) -> Elasticsearch:
    """A client for the configured hosts and credentials (:func:`indexer.connection.connection`); no request is
    made yet."""
    config = connection(settings)
    options: dict[str, Any] = {
        "request_timeout": config.timeout,
        "max_retries": config.retries,
        "retry_on_timeout": True,
    }
    if config.authorization:
        options["headers"] = {"Authorization": config.authorization}
    if config.ca_certs:
        options["ca_certs"] = str(config.ca_certs)
    if config.ca_fingerprint:
        options["ssl_assert_fingerprint"] = config.ca_fingerprint
    try:
        return Elasticsearch(list(config.hosts), **options)
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


def api_reason(exc: ApiError) -> str:
    """The reason of an API error answer in one line (see :func:`es_reason`)."""
    info = exc.info if isinstance(exc.info, dict) else {}
    return es_reason(info.get("error") or exc.message)


def explain(exc: BaseException, settings: Settings) -> IndexerError | None:
    """Turn a client exception into a one-line IndexerError with a fix (the errors of
    :mod:`indexer.connection`, as the light client's); None if it isn't one we know."""
    if isinstance(exc, IndexerError):
        return exc
    if isinstance(exc, elastic_transport.TlsError):
        return failure_error("tls", settings, _first_line(exc))
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return failure_error("timeout", settings, _first_line(exc))
    if isinstance(exc, elastic_transport.ConnectionError):
        return failure_error("unreachable", settings, _first_line(exc))
    if isinstance(exc, ApiError):
        return answer_error(exc.meta.status, api_reason(exc), settings)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
