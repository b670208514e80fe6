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

from indexer import ingest as ingest_module
from indexer import lifecycle
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, Outcome, Prepared, Progress, Summary, ingest
from indexer.limits import MAX_ENTRIES
from indexer.parser import DEFAULT_MAX_BYTES
from indexer.search import Searcher
from indexer.segment import get_segmenter
from indexer.walk import Candidate, Partition

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
        if hashlib.sha1(_article(1600000000000, "测试标题", url, body)).hexdigest() < original
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


# --- one file never costs the whole run (issue 14) ---------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_indexed_with_its_bytes_shown_and_a_warning(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    folder = os.fsencode(tmp_path)
    gbk = folder + b"/" + "新闻稿".encode("gbk") + b".md"
    with open(gbk, "wb") as handle:
        handle.write(EXAMPLE)
    (tmp_path / "b.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "中国新闻"))
    summary = _run(es_settings, alias, [tmp_path])
    assert (summary.seen, summary.indexed, summary.rejected) == (2, 2, 0) and summary.complete
    shown = f"{tmp_path}/\\xd0\\xc2\\xceŸ\\xe5.md"  # c5 b8 happen to be UTF-8 (Ÿ)
    (entry,) = [entry for entry in _report(summary) if entry["path"] == shown]
    assert entry["status"] == "indexed" and any("not valid UTF-8" in warning for warning in entry["warnings"])
    stored = es.get(index=alias, id="dw:a-67150547")["_source"]["source"]
    assert stored["path"] == shown
    rerun = _run(es_settings, alias, [tmp_path])
    assert (rerun.unchanged, rerun.read) == (2, 0), "the stored name matches the file on the next run"


def test_deeply_nested_html_never_costs_the_run(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    nested = "<div>" * 2000 + "<p>深处的正文</p>" + "</div>" * 2000 + "<b>" * 1000 + "没关闭"
    (tmp_path / "nested.md").write_bytes(
        f"<!--1600000000000-->\n[深层嵌套](https://example.org/nested)\n------\n\n{nested}\n".encode()
    )
    (tmp_path / "good.md").write_bytes(EXAMPLE)
    summary = _run(es_settings, alias, [tmp_path])
    assert summary.complete and (summary.seen, summary.indexed + summary.rejected) == (2, 2)
    assert es.exists(index=alias, id="dw:a-67150547")
    for entry in _report(summary):
        assert entry["status"] != "rejected" or (entry["reason"] and "nested.md" in entry["detail"])


def test_anything_a_worker_raises_for_a_file_rejects_that_file_only(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """process_files in this process (as a worker runs it), with a parser that fails on one file."""
    index = lifecycle.ensure_index(es, alias, get_segmenter(None).version)
    ingest_module._init_worker(es_settings, index, DEFAULT_MAX_BYTES)
    real_parse = ingest_module.parse_bytes

    def parse(data: bytes, source: str = "") -> object:
        if source.endswith("bad.md"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_parse(data, source)

    monkeypatch.setattr(ingest_module, "parse_bytes", parse)
    (tmp_path / "bad.md").write_bytes(EXAMPLE)
    (tmp_path / "good.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "中国新闻"))
    bad, good = ingest_module.process_files([Candidate(tmp_path / name, name) for name in ("bad.md", "good.md")])
    assert isinstance(bad, Outcome) and bad.status == "rejected" and bad.reason == "internal-error"
    assert bad.detail == f"{tmp_path / 'bad.md'}: RecursionError: maximum recursion depth exceeded"
    assert isinstance(good, Prepared) and good.path == str(tmp_path / "good.md")


def test_an_oversized_file_is_indexed_capped_with_a_warning_and_its_neighbours_are_indexed(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    """A 12 MB file of 500,000 paragraphs (a 38.6 MB document uncapped) among 100 ordinary files."""
    for n in range(100):
        (tmp_path / f"{n:03}.md").write_bytes(
            _article(1600000000000 + n, f"标题{n}", f"https://example.org/p/{n}", "普通的正文" * 20)
        )
    body = "".join(f"<p>第{n}段正文。</p>" for n in range(500_000))
    (tmp_path / "050-big.md").write_bytes(
        f"<!--1600000000000-->\n[很长的文章](https://example.org/big)\n------\n\n{body}\n".encode()
    )
    summary = _run(es_settings, alias, [tmp_path])
    assert summary.complete and (summary.seen, summary.indexed, summary.rejected) == (101, 101, 0)
    (entry,) = [entry for entry in _report(summary) if entry["path"].endswith("050-big.md")]
    (warning,) = [warning for warning in entry["warnings"] if "too large" in warning]
    assert f"kept {MAX_ENTRIES:,} of 500,000 paragraphs" in warning and "full text is only in the file" in warning
    stored = es.search(index=alias, query={"term": {"url": "https://example.org/big"}})["hits"]["hits"][0]
    assert len(stored["_source"]["body"]) == MAX_ENTRIES and stored["_source"]["counts"]["paragraphs"] == MAX_ENTRIES
    assert es.count(index=alias)["count"] == 101


@pytest.mark.parametrize("layout", ["folder twice", "file and its folder", "symlink to a file"])
def test_a_file_reached_twice_is_taken_once(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path, layout: str
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.md").write_bytes(EXAMPLE)
    (folder / "b.md").write_bytes(_article(1600000000000, "测试标题", "https://example.org/news/1", "中国新闻"))
    paths = {"folder twice": [folder, folder], "file and its folder": [folder / "a.md", folder]}.get(layout)
    if paths is None:
        (folder / "c.md").symlink_to(folder / "a.md")
        paths = [folder]
    summary = _run(es_settings, alias, paths)
    assert summary.complete and (summary.seen, summary.indexed, summary.rejected) == (2, 2, 0)
    assert summary.skipped_paths >= 1
    skipped = [entry for entry in _report(summary) if entry["status"] == "skipped"]
    assert skipped and all("already visited" in e["reason"] or "the same file as" in e["reason"] for e in skipped)


class _ChangesTheArchive(Progress):
    """Adds and deletes files at the start of the run, after any pre-count and before the walk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def start(self, total: int | None) -> None:
        (self.folder / "y").mkdir()
        for n in range(20):
            (self.folder / "y" / f"{n}.md").write_bytes(
                _article(1600000000000 + n, f"新{n}", f"https://example.org/new/{n}", "后来加的")
            )
        for n in range(10):
            (self.folder / "z" / f"{n}.md").unlink()


def test_files_added_or_deleted_during_a_run_are_counted_as_walked(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    for folder in ("a", "z"):
        (tmp_path / folder).mkdir()
        for n in range(30):
            (tmp_path / folder / f"{n}.md").write_bytes(
                _article(1600000000000 + n, f"标题{n}", f"https://example.org/{folder}/{n}", "正文")
            )
    summary = ingest(es_settings, [tmp_path], IngestOptions(workers=1), alias, progress=_ChangesTheArchive(tmp_path))
    assert summary.complete, summary
    assert (summary.seen, summary.indexed) == (30 + 20 + 20, 70)


def test_a_rerun_reads_only_files_whose_size_or_mtime_changed_and_verify_reads_all(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    for n in range(10):
        (tmp_path / f"{n}.md").write_bytes(_article(1600000000000 + n, f"标题{n}", f"https://example.org/{n}", "正文"))
    first = _run(es_settings, alias, [tmp_path])
    assert (first.indexed, first.read) == (10, 10)
    rerun = _run(es_settings, alias, [tmp_path])
    assert (rerun.unchanged, rerun.read, rerun.complete) == (10, 0, True)

    touched = tmp_path / "1.md"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    after_touch = _run(es_settings, alias, [tmp_path])
    assert (after_touch.unchanged, after_touch.read) == (10, 1), "read, found unchanged, new mtime recorded"
    assert _run(es_settings, alias, [tmp_path]).read == 0
    searcher = Searcher(es_settings, index=alias)
    assert searcher.count(searcher.parse("标题1")) == 1, "the touched article is still found by its text"

    edited = tmp_path / "2.md"
    times = edited.stat()
    edited.write_bytes(edited.read_bytes().replace("正文".encode(), "改文".encode()))
    os.utime(edited, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert _run(es_settings, alias, [tmp_path]).indexed == 0, "same size and mtime: not read (the rare case)"
    verified = _run(es_settings, alias, [tmp_path], verify=True)
    assert (verified.read, verified.indexed, verified.unchanged) == (10, 1, 9)
    assert es.search(index=alias, query={"term": {"url": "https://example.org/2"}})["hits"]["hits"][0]["_source"][
        "body"
    ] == ["改文"]
