"""The managed local node, on its own ports beside the one the suite runs against."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer import node
from indexer.config import load_settings
from indexer.errors import NodeError
from indexer.node.distribution import ensure_distribution, sha512
from indexer.node.security_index_analysis import PLUGIN_NAME, SOURCES_MARK

from .nodes import cli_env, run_cli

JAVA17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def _free_port() -> int:
    """An HTTP port whose transport port (+100) is free too."""
    for port in range(9400, 9490):
        if all(node.port_free(p) for p in (port, port + 100)):
            return port
    raise RuntimeError("no free port pair in 9400-9490")


@pytest.fixture
def spec() -> Iterator[node.NodeSpec]:
    """A one-node cluster on free ports, sharing the suite's download cache; stopped afterwards."""
    cache = load_settings().cache_dir
    spec = node.NodeSpec(cache_dir=cache, port=_free_port(), heap="512m")
    yield spec
    node.stop(spec)
    subprocess.run(["rm", "-rf", str(spec.cluster_dir)], check=False)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


@pytest.mark.es
def test_start_is_idempotent_keeps_data_and_the_cli_shows_logs_and_stops_it(spec: node.NodeSpec) -> None:
    status = node.start(spec)
    assert status.running and status.version and status.version.startswith("9.")
    assert status.health == "green"
    pid = status.nodes[0].pid
    assert pid and node.pid_alive(pid)
    health = _get(f"{spec.url}/_cluster/health")
    assert (health["cluster_name"], health["status"]) == (node.CLUSTER_NAME, "green")

    again = node.start(spec)
    assert again.nodes[0].pid == pid

    request = urllib.request.Request(f"{spec.url}/kept", method="PUT")
    urllib.request.urlopen(request, timeout=30).close()
    env = cli_env(INDEXER_CACHE_DIR=str(spec.cache_dir))
    port = ["--port", str(spec.port)]
    logs = run_cli("node", "logs", *port, "--lines", "5", env=env)
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert len(lines) == 5 and lines == node.tail(node.log_file(spec.node_dir(0)), 5)
    assert any("[node-0]" in line for line in lines)
    no_such_node = run_cli("node", "logs", *port, "--node", "3", env=env)
    assert no_such_node.returncode == 1 and "has no node 3 (its nodes: 0 to 0)" in no_such_node.stderr

    stopped = run_cli("node", "stop", *port, env=env)
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "stopped 1 node(s)"), stopped.stderr
    assert not node.pid_alive(pid)
    assert not node.status(spec).running
    again_stopped = run_cli("node", "stop", *port, env=env)
    assert (again_stopped.returncode, again_stopped.stdout.strip()) == (0, "no local node was running")

    node.start(spec)
    assert "kept" in _get(f"{spec.url}/_cat/indices?format=json&h=index")[0]["index"]


def test_node_logs_before_the_first_start_says_so(spec: node.NodeSpec) -> None:
    result = run_cli("node", "logs", "--port", str(spec.port), env=cli_env(INDEXER_CACHE_DIR=str(spec.cache_dir)))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no log yet at {node.log_file(spec.node_dir(0))}")
    assert "indexer node start" in result.stderr


@pytest.mark.es
def test_start_on_a_taken_port_says_so(spec: node.NodeSpec) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", spec.port))
        blocker.listen()
        with pytest.raises(NodeError, match=f"port {spec.port} .* already in use"):
            node.start(spec)


@pytest.mark.es
def test_a_crashed_start_shows_the_servers_own_error(spec: node.NodeSpec) -> None:
    broken = node.NodeSpec(cache_dir=spec.cache_dir, port=spec.port, heap="12zz")
    with pytest.raises(NodeError, match=r"failed to start: .*(heap|12zz)"):
        node.start(broken, timeout=60)


def test_no_suitable_java_names_the_version_needed(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match=r"needs Java 21 or newer; no JDK found"):
        node.find_java(environ={}, roots=(tmp_path,))


@pytest.mark.skipif(not (JAVA17 / "release").exists(), reason="needs the machine's Java 17 to play the old JDK")
def test_an_old_es_java_home_is_refused_with_its_version() -> None:
    with pytest.raises(NodeError, match=r"needs Java 21 or newer; ES_JAVA_HOME=.* is Java 17"):
        node.find_java(environ={"ES_JAVA_HOME": str(JAVA17)})


def test_java_search_prefers_the_newest_qualifying_jdk(tmp_path: Path) -> None:
    for name, version in (("jdk-17", "17.0.2"), ("jdk-21", "21.0.1"), ("jdk-25", "25.0.3")):
        home = tmp_path / name
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").touch()
        (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    assert node.find_java(environ={}, roots=(tmp_path,)) == tmp_path / "jdk-25"
    assert node.find_java(environ={"JAVA_HOME": str(tmp_path / "jdk-21")}, roots=(tmp_path,)) == tmp_path / "jdk-21"


def test_status_command_exits_1_when_not_running(spec: node.NodeSpec) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "node", "status", "--port", str(spec.port)],
        capture_output=True,
        text=True,
        env={**os.environ, "INDEXER_CACHE_DIR": str(spec.cache_dir)},
        check=False,
    )
    assert result.returncode == 1
    assert "not running" in result.stdout


@pytest.mark.es
def test_download_falls_back_to_maven_and_checks_the_pinned_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXER_MAVEN_REPO", "http://127.0.0.1:9/unreachable")
    lines: list[str] = []
    archive = node.download(tmp_path, log=lines.append)
    assert archive.name == f"elasticsearch-{node.ES_VERSION}.zip"
    assert sha512(archive) == node.ES_SHA512
    assert any("trying the Maven client" in line for line in lines)


def test_a_download_that_cannot_be_had_names_both_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEXER_MAVEN_REPO", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeError, match=r"HTTPS http://127\.0\.0\.1:9/unreachable/.* failed .*no `mvn` on PATH"):
        node.download(tmp_path)


@pytest.fixture
def fresh_cache() -> Iterator[Path]:
    """A cache dir holding the suite's download but no unpacked server, plugin or plugin build; removed afterwards.
    It lives in the suite's cache dir, which the unprivileged server user can read (pytest's tmp dirs are private)."""
    shared = load_settings().cache_dir
    cache = shared / f"fresh-{uuid.uuid4().hex[:8]}"
    (cache / "downloads").mkdir(parents=True)
    archive = node.download(shared)
    (cache / "downloads" / archive.name).symlink_to(archive)
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


def _path_without(program: str, bin_dir: Path) -> str:
    """A PATH (one directory of links) with every program of the current PATH except `program`."""
    bin_dir.mkdir()
    for directory in map(Path, os.environ["PATH"].split(os.pathsep)):
        for entry in sorted(directory.iterdir()) if directory.is_dir() else []:
            link = bin_dir / entry.name
            if entry.name != program and not link.exists() and entry.is_file() and os.access(entry, os.X_OK):
                link.symlink_to(entry)
    return str(bin_dir)


@pytest.mark.es
def test_an_insecure_node_needs_no_plugin_nor_maven_and_a_secure_one_says_why_it_needs_maven(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_without("mvn", fresh_cache / "bin"))
    home = ensure_distribution(fresh_cache)
    stale = home / "plugins" / "root-banner"  # what an earlier version of this tool built and installed
    stale.mkdir(parents=True)
    (stale / SOURCES_MARK).write_text("0123456789abcdef\n")
    spec = node.NodeSpec(cache_dir=fresh_cache, port=_free_port(), heap="512m")
    try:
        assert node.start(spec).health == "green"
        assert _get(f"{spec.url}/_cat/plugins?format=json") == []
    finally:
        node.stop(spec)
    assert not stale.exists() and not (fresh_cache / "plugin-build").exists()

    secure = node.NodeSpec(cache_dir=fresh_cache, port=spec.port, heap="512m", secure=True)
    with pytest.raises(NodeError) as failure:
        node.start(secure)
    assert failure.value.message == (
        f"a secure node needs the {PLUGIN_NAME} plugin (the analysis components of Elasticsearch's security index, "
        "which this distribution lacks), and it could not be built: Maven (`mvn`) is not on PATH"
    )
    assert "install Maven" in failure.value.hint
    assert not (secure.cluster_dir / "security").exists() and not (home / "plugins" / PLUGIN_NAME).exists()
