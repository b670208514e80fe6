"""Ingest against the real node: accounting, re-runs, duplicates, bad input in a run, partitions."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, Summary, ingest, version_of
from indexer.walk import Partition

from .conftest import EXAMPLES

EXAMPLE = (EXAMPLES / "dw-67150547.md").read_bytes()


def _article(published_ms: int, title: str, url: str, body: str) -> bytes:
    return f"<!--{published_ms}-->\n[{title}]({url})\n------\n\n<p>{body}</p>\n".encode()


def _run(settings: Settings, alias: str, paths: list[Path], **options: object) -> Summary:
    return ingest(settings, paths, IngestOptions(workers=1, **options), alias=alias)  # type: ignore[arg-type]


def _report(summary: Summary) -> list[dict]:
    assert summary.report is not None
    return [json.loads(line) for line in summary.report.read_text().splitlines()]


def test_index_then_rerun_skips_unchanged_and_reindexes_a_changed_file(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_bytes(EXAMPLE)
    (tmp_path / "b.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "中国新闻"))
    first = _run(es_settings, alias, [tmp_path])
    assert (first.seen, first.indexed, first.unchanged, first.rejected) == (2, 2, 0, 0)
    assert first.complete
    assert es.count(index=alias)["count"] == 2

    second = _run(es_settings, alias, [tmp_path])
    assert (second.seen, second.indexed, second.unchanged) == (2, 0, 2)

    (tmp_path / "b.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "改过的新闻"))
    third = _run(es_settings, alias, [tmp_path])
    assert (third.indexed, third.unchanged) == (1, 1)
    assert es.count(index=alias)["count"] == 2
    stored = es.search(index=alias, query={"term": {"url": "https://example.org/news/1"}})["hits"]["hits"]
    assert stored[0]["_source"]["body"] == ["改过的新闻"]


def test_a_moved_archive_is_unchanged_and_counted_and_an_edit_after_the_move_replaces_the_stored_file(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    (before / "a.md").write_bytes(EXAMPLE)
    (before / "b.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "中国新闻"))
    monkeypatch.chdir(tmp_path)
    first = _run(es_settings, alias, [Path("before")])
    assert (first.indexed, first.moved) == (2, 0)
    paths = {hit["_source"]["source"]["path"] for hit in es.search(index=alias)["hits"]["hits"]}
    assert paths == {str(before / "a.md"), str(before / "b.md")}, "stored paths are absolute"

    before.rename(after)
    moved = _run(es_settings, alias, [after])
    assert (moved.indexed, moved.unchanged, moved.moved, moved.rejected) == (0, 2, 2, 0)

    url = "https://example.org/news/1"
    original = hashlib.sha1((after / "b.md").read_bytes()).hexdigest()
    edit = next(  # an edit that would lose to the stored version if that one were still on disk
        body
        for body in (f"改过的新闻{n}" for n in range(1000))
        if version_of(None, hashlib.sha1(_article(1600000000000, "测试标题", url, body)).hexdigest())
        < version_of(None, original)
    )
    (after / "b.md").write_bytes(_article(1600000000000, "测试标题", url, edit))
    edited = _run(es_settings, alias, [after])
    assert (edited.indexed, edited.rejected) == (1, 0)
    stored = es.search(index=alias, query={"term": {"url": url}})["hits"]["hits"][0]["_source"]
    assert stored["body"] == [edit] and stored["source"]["path"] == str(after / "b.md")
    assert es.count(index=alias)["count"] == 2


def test_the_stored_document_has_original_text_and_no_derived_fields_in_source(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    _run(es_settings, alias, [EXAMPLES])
    hit = es.search(index=alias, size=1)["hits"]["hits"][0]
    source = hit["_source"]
    assert hit["_id"] == "dw:a-67150547"
    assert source["title"] == "为普京打前站 俄外长拉夫罗夫拜会金正恩"
    assert "chars" not in source and "words" not in source
    assert {"拉夫罗夫", "金正恩"} <= set(source["persons"])
    assert source["published_at"].startswith("2023-10-19T13:17:02")
    phrase = {"match_phrase": {"chars.body": {"query": "拉 夫 罗 夫", "analyzer": "whitespace"}}}
    assert es.count(index=alias, query=phrase)["count"] == 1


@pytest.mark.parametrize("order", ["newer-first", "older-first"])
def test_duplicate_articles_keep_the_newer_version_whatever_the_order(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path, order: str
) -> None:
    url = "https://example.org/news/42"
    older = _article(1600000000000, "旧标题", url, "旧的正文")
    newer = _article(1600000600000, "新标题", url, "新的正文")
    first, second = (newer, older) if order == "newer-first" else (older, newer)
    (tmp_path / "1.md").write_bytes(first)
    (tmp_path / "2.md").write_bytes(second)
    summary = _run(es_settings, alias, [tmp_path / "1.md"])
    summary = _run(es_settings, alias, [tmp_path / "2.md"])
    assert es.count(index=alias)["count"] == 1
    kept = es.search(index=alias)["hits"]["hits"][0]["_source"]
    assert kept["title"] == "新标题"
    if order == "newer-first":
        assert summary.rejected == 1
        (entry,) = _report(summary)
        assert entry["reason"] == "duplicate" and "1.md" in entry["detail"] and "newer" in entry["detail"]
    else:
        assert summary.indexed == 1


def test_bad_files_are_reported_and_never_stop_the_run(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    (tmp_path / "good.md").write_bytes(EXAMPLE)
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "binary.md").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "noarticle.md").write_bytes(b"<!--1600000000000-->\n")
    (tmp_path / "gbk.md").write_bytes(
        _article(1600000000000, "中文标题", "https://example.org/gbk", "简体中文正文").decode().encode("gb18030")
    )
    with (tmp_path / "huge.md").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    os.symlink(tmp_path / "loop.md", tmp_path / "loop.md")
    summary = _run(es_settings, alias, [tmp_path])
    assert summary.seen == 7
    assert summary.complete and summary.seen == summary.indexed + summary.unchanged + summary.rejected
    reasons = {Path(entry["path"]).name: entry for entry in _report(summary) if entry["status"] == "rejected"}
    assert reasons["empty.md"]["reason"] == "empty"
    assert reasons["binary.md"]["reason"] == "binary"
    assert reasons["noarticle.md"]["reason"] == "no-article"
    assert reasons["huge.md"]["reason"] == "too-large"
    assert reasons["loop.md"]["reason"] == "unreadable"
    assert all(str(tmp_path) in entry["detail"] for entry in reasons.values())
    assert {"good.md", "gbk.md"}.isdisjoint(reasons)
    assert es.count(index=alias)["count"] == 2


def test_cli_exit_status_reflects_rejections(es_settings: Settings, alias: str, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_bytes(EXAMPLE)
    (tmp_path / "empty.md").write_bytes(b"")
    env = {**os.environ, "ES_URL": es_settings.hosts[0], "INDEXER_CACHE_DIR": str(es_settings.cache_dir)}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "indexer", "index", str(tmp_path), "--index", alias, "--json", *extra]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    failed = run()
    assert failed.returncode == 1, failed.stderr
    summary = json.loads(failed.stdout)
    assert (summary["seen"], summary["indexed"], summary["rejected"]) == (2, 1, 1)
    assert summary["documents_in_index"] == 1
    assert Path(summary["report"]).exists()
    allowed = run("--allow-rejected")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["unchanged"] == 1


def test_partitions_load_disjoint_shares_that_add_up(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    for i in range(30):
        (tmp_path / f"{i}.md").write_bytes(
            _article(1600000000000 + i, f"标题{i}", f"https://example.org/p/{i}", "正文")
        )
    shares = [_run(es_settings, alias, [tmp_path], partition=Partition(k, 3)) for k in (1, 2, 3)]
    assert sum(share.indexed for share in shares) == 30
    assert all(share.indexed > 0 for share in shares)
    assert es.count(index=alias)["count"] == 30


def test_an_index_built_with_another_dictionary_is_refused(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    lifecycle.ensure_index(es, alias, "0ther-dictionary")
    with pytest.raises(IndexerError, match="reindex"):
        _run(es_settings, alias, [EXAMPLES])


def test_large_loads_restore_refresh_and_replicas(es: Elasticsearch, es_settings: Settings, alias: str) -> None:
    index = lifecycle.ensure_index(es, alias, "v")
    saved = lifecycle.begin_bulk_load(es, index)
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    assert settings["index.refresh_interval"] == "-1"
    assert lifecycle.pending_restore(es, index) == saved
    lifecycle.end_bulk_load(es, index, saved)
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    assert settings["index.refresh_interval"] == saved["refresh_interval"]
    assert lifecycle.pending_restore(es, index) is None


def test_doctor_shows_the_index_behind_the_alias_or_how_to_create_it(es_settings: Settings, alias: str) -> None:
    env = {**os.environ, "ES_URL": es_settings.hosts[0], "COLUMNS": "200", "INDEXER_CONFIG": "/nonexistent.toml"}

    def doctor() -> str:
        command = [sys.executable, "-m", "indexer", "doctor", "--index", alias]
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert f"no index behind '{alias}'" in doctor() and "indexer index PATH" in doctor()
    _run(es_settings, alias, [EXAMPLES])
    line = next(line for line in doctor().splitlines() if line.startswith("index:"))
    assert f"{alias} → {alias}-m" in line and "1 articles" in line and "reindex" not in line
