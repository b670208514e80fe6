"""Starting, stopping and checking the local cluster's server processes.

A node counts as ours only when its pid file names a live JVM that runs with ``java.io.tmpdir`` in the node's own
directory, so a stale pid file never makes the tool signal another program. Health is checked through the cluster
health API.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.errors import NodeError
from indexer.http_client import NetworkError
from indexer.node.config import NodeSpec, write_config
from indexer.node.distribution import ES_VERSION, Log, ensure_distribution, quiet
from indexer.node.java import find_java, java_major
from indexer.node.logs import log_file, log_size, server_error
from indexer.node.security import connection, ensure_api_key, ensure_security, security_settings
from indexer.node.security_index_analysis import prepare_plugins


@dataclass(frozen=True, slots=True)
class NodeState:
    index: int
    http_port: int
    pid: int | None
    running: bool
    log_file: Path


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    url: str
    nodes: tuple[NodeState, ...]
    version: str | None
    health: str | None

    @property
    def running(self) -> bool:
        return any(node.running for node in self.nodes)


def _read_pid(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "node.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_server(pid: int, node_dir: Path) -> bool:
    """True if pid is the Elasticsearch server of node_dir (its JVM runs with java.io.tmpdir in node_dir)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "org.elasticsearch" in cmdline and f"-Djava.io.tmpdir={node_dir / 'tmp'}" in cmdline


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def _running_pid(node_dir: Path) -> int | None:
    pid = _read_pid(node_dir)
    return pid if pid and pid_alive(pid) and _is_our_server(pid, node_dir) else None


def port_free(port: int) -> bool:
    """True if nothing listens on the port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _request(spec: NodeSpec, index: int, path: str, timeout: float = 5.0) -> Any:
    """A node's JSON answer to GET `path` (as the cluster's user when secure); None on any failure."""
    client = connection(spec, index, timeout)
    if client is None:
        return None
    with client:
        try:
            answer = client.request("GET", path)
        except NetworkError:
            return None
    return answer.json() if answer.ok else None


def _privilege_drop(spec: NodeSpec, node_dir: Path) -> list[str]:
    """The setpriv prefix that runs the server as spec.run_as when we are root (and chowns its dir)."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(spec.run_as)
    except KeyError:
        raise NodeError(
            f"running as root, and the user {spec.run_as!r} to run Elasticsearch as does not exist",
            "set INDEXER_NODE_USER to an unprivileged user",
        ) from None
    for path in [node_dir, *node_dir.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def start(spec: NodeSpec, log: Log = quiet, timeout: float = 180.0, only: int | None = None) -> ClusterStatus:
    """Start the local cluster (or just node `only`), wait until it answers and is healthy. Idempotent."""
    java = find_java()
    home = ensure_distribution(spec.cache_dir, log=log)
    prepare_plugins(spec.cache_dir, home, ES_VERSION, java, spec.secure, log)
    spec.save(ES_VERSION)
    if spec.secure:
        ensure_security(spec, home, java, log)
    launches: list[tuple[int, int, subprocess.Popen[str]]] = []
    for index in spec.indices(only):
        node_dir = spec.node_dir(index)
        if _running_pid(node_dir):
            log(f"node-{index} is already running on port {spec.http_port(index)}")
            continue
        for port in (spec.http_port(index), spec.transport_port(index)):
            if not port_free(port):
                raise NodeError(
                    f"port {port} on 127.0.0.1 is already in use by another program",
                    "stop it, or choose another port with --port / INDEXER_NODE_PORT",
                )
        write_config(spec, index, home, security_settings(spec, node_dir / "config"))
        command = [*_privilege_drop(spec, node_dir), str(home / "bin" / "elasticsearch"), "-d", "-p"]
        command.append(str(node_dir / "node.pid"))
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(java),
            "ES_PATH_CONF": str(node_dir / "config"),
            "ES_TMPDIR": str(node_dir / "tmp"),
        }
        env.pop("ES_JAVA_OPTS", None)
        log(f"starting node-{index} on port {spec.http_port(index)} (Java {java_major(java)} at {java})")
        log_offset = log_size(log_file(node_dir))
        launcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        launches.append((index, log_offset, launcher))
    for index, log_offset, launcher in launches:  # the nodes start side by side; each launcher waits for its node
        try:
            output, _ = launcher.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            launcher.kill()
            output, _ = launcher.communicate()
        if launcher.returncode != 0:
            node_log = log_file(spec.node_dir(index))
            reason = server_error(output, node_log, log_offset)
            raise NodeError(f"Elasticsearch node-{index} failed to start: {reason}", f"see {node_log}")
    _wait_healthy(spec, timeout)
    if spec.secure:
        ensure_api_key(spec)
    return status(spec)


def _wait_healthy(spec: NodeSpec, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    running = [i for i in range(spec.nodes) if _running_pid(spec.node_dir(i))]
    if not running:
        raise NodeError("no node of the local cluster is running", "start it with `indexer node start`")
    url = spec.http_url(running[0])
    query = f"wait_for_status=yellow&wait_for_nodes={len(running)}&timeout=5s"
    while time.monotonic() < deadline:
        health = _request(spec, running[0], f"/_cluster/health?{query}", timeout=10)
        if health and not health.get("timed_out") and health.get("status") in ("yellow", "green"):
            return
        time.sleep(0.5)
    raise NodeError(
        f"the local cluster at {url} did not become healthy within {timeout:g} s", "see `indexer node logs`"
    )


def stop(spec: NodeSpec, only: int | None = None, timeout: float = 60.0) -> list[int]:
    """Stop the nodes this tool started (or just node `only`), side by side; returns the pids that were stopped."""
    running = {}
    for index in spec.indices(only):
        pid = _running_pid(spec.node_dir(index))
        if pid is None:
            (spec.node_dir(index) / "node.pid").unlink(missing_ok=True)
        else:
            os.kill(pid, signal.SIGTERM)
            running[index] = pid
    deadline = time.monotonic() + timeout
    for index, pid in running.items():
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.1)
        (spec.node_dir(index) / "node.pid").unlink(missing_ok=True)
    return list(running.values())


def status(spec: NodeSpec) -> ClusterStatus:
    """Which nodes run, and the cluster's version and health when it answers."""
    pids = [_running_pid(spec.node_dir(i)) for i in range(spec.nodes)]
    nodes = tuple(
        NodeState(
            index=i,
            http_port=spec.http_port(i),
            pid=pid,
            running=pid is not None,
            log_file=log_file(spec.node_dir(i)),
        )
        for i, pid in enumerate(pids)
    )
    version = health = None
    for node in nodes:
        if not node.running:
            continue
        info = _request(spec, node.index, "/_nodes/_local?filter_path=nodes.*.version")
        answer = _request(spec, node.index, "/_cluster/health")
        if info and answer:
            version = next(iter(info["nodes"].values()))["version"]
            health = answer["status"]
            break
    return ClusterStatus(url=spec.url, nodes=nodes, version=version, health=health)
