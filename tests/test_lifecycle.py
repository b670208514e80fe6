"""Index lifecycle on the real node: rebuilds behind the alias while searches run, rebuilds without the files,
and an indexer killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, Progress, ingest, load_into
from indexer.mapping import index_body, load_template
from indexer.reindex import reindex
from indexer.search import Searcher
from indexer.segment import get_segmenter

from .nodes import INDEXER, cli_env, corpus_subset, expected_ids, stored_ids

PHRASE = {"match_phrase": {"chars.body": {"query": "中 国", "analyzer": "whitespace"}}}


class SearchLoop(threading.Thread):
    """Searches the alias over and over, recording every answer's counts and every failure."""

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        super().__init__(daemon=True)
        self.es, self.alias = es, alias
        self.totals: set[tuple[int, int]] = set()
        self.errors: list[str] = []
        self.rounds = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                everything = self.es.count(index=self.alias)["count"]
                phrase = self.es.search(index=self.alias, query=PHRASE, size=3, track_total_hits=True)
                self.totals.add((everything, phrase["hits"]["total"]["value"]))
            except Exception as exc:  # recorded, asserted on below
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.rounds += 1


@pytest.mark.slow
def test_reindex_swaps_the_alias_atomically_while_a_search_loop_never_fails(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path
) -> None:
    files = corpus_subset(corpus, 400, tmp_path / "files")
    articles = len(expected_ids(files))
    first = ingest(es_settings, [files], IngestOptions(workers=2), alias=alias)
    assert first.complete and first.indexed == articles
    old = lifecycle.resolve_alias(es, alias)
    loop = SearchLoop(es, alias)
    loop.start()
    try:
        result = reindex(es_settings, [files], alias=alias, options=IngestOptions(workers=2))
    finally:
        time.sleep(0.5)
        loop.stopping.set()
        loop.join()
    assert loop.errors == []
    assert loop.rounds > 20
    assert len(loop.totals) == 1 and next(iter(loop.totals))[0] == articles
    assert (result.old, result.documents, result.old_documents) == (old, articles, articles)
    assert result.from_files and result.from_files.indexed == articles
    assert result.from_index and result.from_index.unchanged == articles
    assert lifecycle.resolve_alias(es, alias) == result.new != old
    assert es.indices.exists(index=old)


def test_reindex_without_the_files_rebuilds_from_the_index_with_this_dictionary(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path
) -> None:
    files = corpus_subset(corpus, 40, tmp_path / "files")
    wanted = expected_ids(files)
    old = lifecycle.index_name(alias, "0lddict", 1)
    lifecycle.create_index(es, old, "0lddict")
    lifecycle.swap_alias(es, alias, None, old)
    load_into(es, es_settings, old, [files], IngestOptions(workers=1), Progress(), tmp_path / "report.jsonl")
    for path in files.rglob("*.md"):
        path.unlink()

    result = reindex(es_settings, alias=alias, delete_old=True, options=IngestOptions(workers=1))
    assert result.from_files is None and result.from_index and result.from_index.indexed == len(wanted)
    assert set(stored_ids(es, alias)) == wanted
    meta = lifecycle.index_meta(es, result.new)
    assert meta and meta.analysis_version == get_segmenter(es_settings.user_dict, es_settings.cache_dir).version
    assert not es.indices.exists(index=old)
    hits = es.count(index=alias, query=PHRASE)["count"]
    assert hits > 0, "the rebuilt chars views answer phrase queries"


@pytest.mark.slow
def test_an_indexer_killed_half_way_resumes_with_the_same_count_and_no_duplicate(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path
) -> None:
    folders = [corpus / "cna", corpus / "bitterwinter"]  # 2,162 files: above the bulk-load threshold
    wanted = expected_ids(*folders)
    env = cli_env(ES_URL=es_settings.hosts[0], INDEXER_CACHE_DIR=str(es_settings.cache_dir))
    command = [str(INDEXER), "index", *map(str, folders), "--index", alias, "--json"]
    run = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    written = 0
    while time.monotonic() < deadline and run.poll() is None:
        index = lifecycle.resolve_alias(es, alias)
        stats = es.indices.stats(index=index, metric="indexing") if index else None
        written = stats["_all"]["primaries"]["indexing"]["index_total"] if stats else 0
        if written >= len(wanted) // 3:
            os.killpg(run.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    run.wait()
    assert run.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    index = lifecycle.resolve_alias(es, alias)
    assert lifecycle.pending_restore(es, index), "the killed run left its bulk-load settings to restore"

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["complete"] and summary["seen"] == len(wanted) == summary["indexed"] + summary["unchanged"]
    assert summary["unchanged"] > 0
    assert summary["documents_in_index"] == len(wanted)
    ids = stored_ids(es, alias)
    assert len(ids) == len(set(ids)) and set(ids) == wanted
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    assert settings.get("index.refresh_interval") != "-1" and lifecycle.pending_restore(es, index) is None


def _index_with_meta(es: Elasticsearch, alias: str, **meta: object) -> str:
    """A versioned index behind `alias` whose ``_meta`` says what it was built with (as an older indexer wrote it)."""
    name = f"{alias}-m{meta['mapping_version']}-dold-g1"
    body = index_body("unused")
    es.indices.create(index=name, settings=body["settings"], mappings={**body["mappings"], "_meta": meta})
    es.indices.put_alias(index=name, name=alias)
    return name


def test_an_index_with_another_mapping_version_is_stale_everywhere(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    current = get_segmenter(es_settings.user_dict, es_settings.cache_dir).version
    old = load_template().version - 1
    name = _index_with_meta(es, alias, mapping_version=old, analysis_version=current)
    warning = Searcher(es_settings, index=alias).version_warning()
    assert warning and f"mapping v{old}" in warning and name in warning
    with pytest.raises(IndexerError, match=f"mapping v{old}"):
        lifecycle.ensure_index(es, alias, current)


def test_an_index_with_the_old_dict_version_key_is_read_as_ours(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    current = get_segmenter(es_settings.user_dict, es_settings.cache_dir).version
    name = _index_with_meta(es, alias, mapping_version=load_template().version, dict_version=current)
    assert lifecycle.behind(es, alias)[name].analysis_version == current
    assert Searcher(es_settings, index=alias).version_warning() is None
    assert lifecycle.ensure_index(es, alias, current) == name
    stale = _index_with_meta(es, f"{alias}-b", mapping_version=load_template().version, dict_version="0lddict")
    warning = Searcher(es_settings, index=f"{alias}-b").version_warning()
    assert warning and stale in warning and "0lddict" in warning
