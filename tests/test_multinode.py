"""A local three-node cluster: index with one replica, stop a node, every search still answers in full; heal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from indexer import node
from indexer.client import connect
from indexer.config import Settings
from indexer.query import parse, to_dsl
from indexer.segment import get_segmenter

from .conftest import Figure
from .nodes import cli_env, cluster, corpus_subset, expected_ids, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.es]

QUERIES = ("outlet:dw", "中国", "美国 OR 台湾 疫情", "date:2020-10", "title:拜登 -特朗普")


def test_three_nodes_with_a_replica_answer_in_full_with_a_node_down_and_heal(
    corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    files = corpus_subset(corpus, 600, tmp_path / "files")
    segmenter = get_segmenter()
    queries: dict[str, dict[str, Any]] = {"all": {"match_all": {}}}
    queries |= {text: to_dsl(parse(text), segmenter) for text in QUERIES}
    alias = "multinode"
    with cluster(nodes=3, heap="512m") as spec:
        env = cli_env(INDEXER_CACHE_DIR=str(tmp_path / "cache"))
        hosts = [option for url in spec.urls for option in ("--es-url", url)]
        index_args = ["index", str(files), "--index", alias, "--shards", "3", "--replicas", "1", "--json"]
        loaded = run_cli(*hosts, *index_args, "--workers", "2", "--allow-rejected", env=env)
        assert loaded.returncode == 0, loaded.stderr
        es = connect(Settings(hosts=spec.urls))
        assert es.cluster.health(index=alias, wait_for_status="green", timeout="60s")["status"] == "green"
        copies = es.cat.shards(index=alias, format="json", h="shard,prirep,node")
        assert len(copies) == 6 and len({copy["node"] for copy in copies}) == 3
        full = {name: es.count(index=alias, query=query)["count"] for name, query in queries.items()}
        assert full["all"] == len(expected_ids(files)) == json.loads(loaded.stdout)["documents_in_index"]
        assert all(full.values())

        master = es.cat.master(format="json")[0]["node"]
        victim = int(master.removeprefix("node-"))
        node.stop(spec, only=victim)
        answered = {}
        for name, query in queries.items():
            started = time.monotonic()
            answered[name] = es.count(index=alias, query=query)["count"]
            hits = es.search(index=alias, query=query, size=5, track_total_hits=True)["hits"]
            assert hits["total"]["value"] == full[name] and hits["hits"]
            answered[f"{name} seconds"] = round(time.monotonic() - started, 2)
        assert {name: answered[name] for name in full} == full
        stats = run_cli("stats", "--index", alias, "--json", env={**env, "ES_URL": ",".join(spec.urls)})
        assert stats.returncode == 0 and json.loads(stats.stdout)["articles"] == full["all"], stats.stderr
        degraded = es.cluster.health(index=alias)["status"]

        started = time.monotonic()
        node.start(spec, only=victim)
        assert es.cluster.health(index=alias, wait_for_status="green", timeout="120s")["status"] == "green"
        healed_after = time.monotonic() - started
        assert {name: es.count(index=alias, query=query)["count"] for name, query in queries.items()} == full
    figure(
        "multi-node",
        nodes=3,
        shards=3,
        replicas=1,
        articles=full["all"],
        stopped=f"node-{victim} (the elected master)",
        health_with_node_down=degraded,
        counts_with_node_down=answered,
        seconds_to_green_after_restart=round(healed_after, 1),
    )
