"""A managed local Elasticsearch for machines without Docker: download, verify, configure, start, stop.

The server is the zip Elastic publishes on Maven Central as
``org.elasticsearch.distribution.integ-test-zip:elasticsearch`` (no bundled JDK, no optional modules), run with a
JDK found on the machine. The parts: :mod:`~indexer.node.distribution` (download, verify, unpack),
:mod:`~indexer.node.java` (finding a JDK), :mod:`~indexer.node.config` (where a cluster lives, ``elasticsearch.yml``),
:mod:`~indexer.node.process` (start, stop, status), :mod:`~indexer.node.security` (TLS, user, API key),
:mod:`~indexer.node.security_index_analysis` (the plugin a secure node needs) and :mod:`~indexer.node.logs`.
"""

from indexer.node.config import CLUSTER_NAME, NodeSpec
from indexer.node.distribution import ES_SHA512, ES_VERSION, download
from indexer.node.java import find_java
from indexer.node.logs import log_file, tail
from indexer.node.process import ClusterStatus, NodeState, pid_alive, port_free, start, status, stop
from indexer.node.security import SECURE_USER, Credentials, ca_fingerprint, read_credentials

__all__ = [
    "CLUSTER_NAME",
    "ES_SHA512",
    "ES_VERSION",
    "SECURE_USER",
    "ClusterStatus",
    "Credentials",
    "NodeSpec",
    "NodeState",
    "ca_fingerprint",
    "download",
    "find_java",
    "log_file",
    "pid_alive",
    "port_free",
    "read_credentials",
    "start",
    "status",
    "stop",
    "tail",
]
