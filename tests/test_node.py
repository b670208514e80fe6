"""The managed local node, on its own ports beside the one the suite runs against."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer import node
from indexer.config import load_settings
from indexer.errors import NodeError

JAVA17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def _free_port() -> int:
    """An HTTP port whose transport port (+100) is free too."""
    for port in range(9400, 9490):
        if all(node._port_free(p) for p in (port, port + 100)):
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


def test_start_is_idempotent_serves_the_banner_keeps_data_and_stop_leaves_no_process(spec: node.NodeSpec) -> None:
    status = node.start(spec)
    assert status.running and status.version and status.version.startswith("9.")
    pid = status.nodes[0].pid
    assert pid and node.pid_alive(pid)
    banner = _get(spec.url)
    assert banner["version"]["number"] == status.version
    assert banner["cluster_name"] == node.CLUSTER_NAME

    again = node.start(spec)
    assert again.nodes[0].pid == pid

    request = urllib.request.Request(f"{spec.url}/kept", method="PUT")
    urllib.request.urlopen(request, timeout=30).close()
    assert node.stop(spec) == [pid]
    assert not node.pid_alive(pid)
    assert not node.status(spec).running

    node.start(spec)
    assert "kept" in _get(f"{spec.url}/_cat/indices?format=json&h=index")[0]["index"]


def test_start_on_a_taken_port_says_so(spec: node.NodeSpec) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", spec.port))
        blocker.listen()
        with pytest.raises(NodeError, match=f"port {spec.port} .* already in use"):
            node.start(spec)


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


def test_download_falls_back_to_maven_and_checks_the_pinned_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXER_MAVEN_REPO", "http://127.0.0.1:9/unreachable")
    lines: list[str] = []
    archive = node.download(tmp_path, log=lines.append)
    assert archive.name == f"elasticsearch-{node.ES_VERSION}.zip"
    assert node._sha512(archive) == node.ES_SHA512
    assert any("trying the Maven client" in line for line in lines)


def test_a_download_that_cannot_be_had_names_both_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEXER_MAVEN_REPO", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeError, match=r"HTTPS http://127\.0\.0\.1:9/unreachable/.* failed .*no `mvn` on PATH"):
        node.download(tmp_path)
