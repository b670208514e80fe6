"""Helpers for tests that run their own Elasticsearch nodes (faults, multi-node, security) or the console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer import node
from indexer.config import load_settings
from indexer.document import document_id
from indexer.paging import Pages
from indexer.parser import ParseError, parse_file
from indexer.walk import Candidate, walk

INDEXER = Path(sys.executable).parent / "indexer"
"""The installed console script, as users run it."""
PORTS = range(9500, 9590, 10)
"""HTTP ports of node 0 for the tests' own clusters (node i: port + i, transport port + 100 + i)."""


def free_port(nodes: int = 1) -> int:
    """A first HTTP port in 9500-9589 whose HTTP and transport ports for `nodes` nodes are all free."""
    for port in PORTS:
        if all(node.port_free(p) for i in range(nodes) for p in (port + i, port + 100 + i)):
            return port
    raise RuntimeError("no free ports in 9500-9599 / 9600-9699")


@contextmanager
def cluster(**spec: object) -> Iterator[node.NodeSpec]:
    """A local cluster on free ports sharing the suite's download cache (nothing downloaded twice), started;
    stopped and its data removed afterwards."""
    nodes = int(spec.get("nodes", 1))  # type: ignore[call-overload]
    options = {"heap": "512m", **spec}
    made = node.NodeSpec(cache_dir=load_settings().cache_dir, port=free_port(nodes), **options)  # type: ignore[arg-type]
    try:
        node.start(made)
        yield made
    finally:
        node.stop(made)
        shutil.rmtree(made.cluster_dir, ignore_errors=True)


def corpus_subset(corpus: Path, count: int, target: Path, offset: int = 0) -> Path:
    """Copy `count` article files spread evenly over the corpus (every outlet) into `target`; returns it."""
    files = sorted(corpus.rglob("*.md"))
    step = max(1, len(files) // count)
    for source in files[offset::step][:count]:
        copy = target / source.relative_to(corpus)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
    return target


def expected_ids(*folders: Path) -> set[str]:
    """The distinct articles (document ids) the files under `folders` hold: what a complete index contains."""
    ids = set()
    for item in walk(folders):
        if isinstance(item, Candidate):
            try:
                ids.add(document_id(parse_file(item.path)))
            except ParseError:
                continue
    return ids


def stored_ids(es: Elasticsearch, alias: str) -> list[str]:
    """Every document id in the index (a list: a duplicate would show up twice)."""
    es.indices.refresh(index=alias)
    return [hit["_id"] for hit in Pages(es, alias, source=False).hits()]


def cli_env(**values: str) -> dict[str, str]:
    """The environment for running the console script: no user config file, no inherited credentials."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ES_", "INDEXER_", "KIBANA_"))}
    return {**env, "INDEXER_CONFIG": "/nonexistent/config.toml", "COLUMNS": "200", **values}


def suite_env(**values: str) -> dict[str, str]:
    """The suite's own environment (its ES_URL and settings) with wide output, plus `values`."""
    return {**os.environ, "COLUMNS": "200", **values}


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed console script as a user would; `env` defaults to :func:`suite_env`."""
    return subprocess.run(
        [str(INDEXER), *args], env=env or suite_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """The command failed with exit 1 and one `error:` line (no traceback) holding every needle."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]
