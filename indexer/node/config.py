"""Where a local cluster lives and how it runs (:class:`NodeSpec`), and each node's ``elasticsearch.yml``.

Each local cluster lives in ``<cache>/cluster-<port>/``: config, data and logs per node, so data survives stop and
start. The nodes bind to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import NodeError

CLUSTER_NAME = "news-indexer"
"""The local cluster's name; it also names each node's log file."""


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Where a local cluster lives and how it runs."""

    cache_dir: Path
    port: int = 9200
    """HTTP port of node 0; node i listens on port + i, transport on port + 100 + i."""
    heap: str = "1g"
    nodes: int = 1
    run_as: str = "nobody"
    """Unprivileged user for the server when started by root (Elasticsearch refuses to run as root)."""
    secure: bool = False
    """TLS with a generated CA, a user with a password and an API key (see :attr:`credentials_file`)."""
    settings: tuple[tuple[str, str], ...] = ()
    """Extra ``elasticsearch.yml`` settings for every node, e.g. ``(("thread_pool.write.queue_size", "2"),)``."""

    @property
    def cluster_dir(self) -> Path:
        return self.cache_dir / f"cluster-{self.port}"

    @property
    def url(self) -> str:
        return self.http_url(0)

    @property
    def urls(self) -> tuple[str, ...]:
        """The HTTP URL of every node (what ES_URL takes, comma-separated)."""
        return tuple(self.http_url(index) for index in range(self.nodes))

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) of a secure cluster: what ES_CA_CERTS names."""
        return self.cluster_dir / "security" / "ca" / "ca.crt"

    @property
    def credentials_file(self) -> Path:
        """A secure cluster's URL, CA, user, password and API key as a 0600 config file."""
        return self.cluster_dir / "credentials.toml"

    @classmethod
    def saved(
        cls,
        cache_dir: Path,
        port: int,
        heap: str,
        run_as: str,
        nodes: int | None = None,
        secure: bool | None = None,
    ) -> NodeSpec:
        """A spec for the cluster on `port`; node count and security as last started unless given."""
        try:
            last = json.loads((cache_dir / f"cluster-{port}" / "cluster.json").read_text())
        except (OSError, ValueError):
            last = {}
        return cls(
            cache_dir=cache_dir,
            port=port,
            heap=heap,
            nodes=last.get("nodes", 1) if nodes is None else nodes,
            run_as=run_as,
            secure=last.get("secure", False) if secure is None else secure,
        )

    def save(self, version: str) -> None:
        """Remember the node count and security for later commands (:meth:`saved`)."""
        self.cluster_dir.mkdir(parents=True, exist_ok=True)
        saved = {"nodes": self.nodes, "version": version, "secure": self.secure}
        (self.cluster_dir / "cluster.json").write_text(json.dumps(saved))

    def indices(self, only: int | None = None) -> list[int]:
        """Every node's number, or just `only`; NodeError when the cluster has no such node."""
        if only is None:
            return list(range(self.nodes))
        if not 0 <= only < self.nodes:
            raise NodeError(
                f"the local cluster on port {self.port} has no node {only} (its nodes: 0 to {self.nodes - 1})"
            )
        return [only]

    def node_dir(self, index: int) -> Path:
        return self.cluster_dir / f"node-{index}"

    def http_url(self, index: int) -> str:
        return f"{'https' if self.secure else 'http'}://127.0.0.1:{self.http_port(index)}"

    def http_port(self, index: int) -> int:
        return self.port + index

    def transport_port(self, index: int) -> int:
        return self.port + 100 + index


def write_config(spec: NodeSpec, index: int, home: Path, security: list[str]) -> Path:
    """Node `index`'s config dir (``elasticsearch.yml``, JVM options, log config) with the `security` lines;
    returns the node's directory."""
    node_dir = spec.node_dir(index)
    config = node_dir / "config"
    for sub in (config / "jvm.options.d", node_dir / "data", node_dir / "logs", node_dir / "tmp"):
        sub.mkdir(parents=True, exist_ok=True)
    for name in ("jvm.options", "log4j2.properties"):
        shutil.copyfile(home / "config" / name, config / name)
    (config / "jvm.options.d" / "heap.options").write_text(f"-Xms{spec.heap}\n-Xmx{spec.heap}\n")
    lines = [
        f"cluster.name: {CLUSTER_NAME}",
        f"node.name: node-{index}",
        "network.host: 127.0.0.1",
        f"http.port: {spec.http_port(index)}",
        f"transport.port: {spec.transport_port(index)}",
        f"path.data: {node_dir / 'data'}",
        f"path.logs: {node_dir / 'logs'}",
        *security,
        *(f"{key}: {value}" for key, value in spec.settings),
    ]
    if spec.nodes == 1:
        lines.append("discovery.type: single-node")
    else:
        seeds = ", ".join(f'"127.0.0.1:{spec.transport_port(i)}"' for i in range(spec.nodes))
        masters = ", ".join(f'"node-{i}"' for i in range(spec.nodes))
        lines += [f"discovery.seed_hosts: [{seeds}]", f"cluster.initial_master_nodes: [{masters}]"]
    (config / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
    return node_dir
