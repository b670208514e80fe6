"""From article files on disk to documents in Elasticsearch: parallel parse + segment, bulk load, full accounting.

Every file found ends as exactly one of: indexed, unchanged (same content already in the index: skipped, which
is how an interrupted run resumes) or rejected (with a reason). Parsing and segmentation run in worker processes;
the main process only walks folders and feeds the bulk sender.

Two files may hold the same article (same outlet article id, e.g. a revised copy). The one with the newer
publish time wins; equal publish times are broken by content hash, so every run and every machine keeps the same
file whatever the order. This is enforced by Elasticsearch itself with external versions, so parallel loaders
can't race; the loser is reported as rejected (``duplicate``), naming the file that is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.bulk import BulkAborted, BulkDoc, BulkSender
from indexer.client import connect
from indexer.config import Settings
from indexer.document import SourceFile, article_from_source, build_document, document_id
from indexer.lock import AliasLock
from indexer.parser import DEFAULT_MAX_BYTES, ParseError, parse_bytes, read_article_file
from indexer.segment import Segmenter, get_segmenter
from indexer.walk import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, Candidate, Partition, Skipped, walk

Status = Literal["indexed", "unchanged", "rejected"]
BULK_LOAD_THRESHOLD = 2000
"""Above this many files, refresh is turned off and replicas set to 0 for the load (restored after)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one file."""

    path: str
    status: Status
    reason: str = ""
    detail: str = ""
    doc_id: str = ""
    warnings: tuple[str, ...] = ()
    time_source: str = ""
    """Where an indexed article's publish time comes from (:data:`indexer.article.TIME_SOURCES`)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file a worker parsed and turned into a bulk document (not yet indexed)."""

    path: str
    doc_id: str
    lines: bytes
    warnings: tuple[str, ...]
    time_source: str = ""


@dataclass(slots=True)
class Summary:
    """Counts for one run; ``seen == indexed + unchanged + rejected`` when the run completed."""

    index: str = ""
    seen: int = 0
    indexed: int = 0
    unchanged: int = 0
    rejected: int = 0
    warned: int = 0
    moved: int = 0
    """Unchanged files whose article is stored with another path (a moved archive, or an identical copy)."""
    skipped_paths: int = 0
    elapsed: float = 0.0
    report: Path | None = None
    aborted: str = ""
    reasons: dict[str, int] = field(default_factory=dict)
    retried_requests: int = 0
    """Bulk requests sent again after a connection error, timeout or 429/5xx answer."""
    retried_items: int = 0
    """Documents sent again after the server rejected them with 429 (its write queue was full)."""
    time_sources: dict[str, int] = field(default_factory=dict)
    """Indexed articles by where their publish time comes from (``none``: undated)."""

    @property
    def complete(self) -> bool:
        return not self.aborted and self.seen == self.indexed + self.unchanged + self.rejected


class Progress:
    """Receives progress; the CLI shows it as a bar, the library default ignores it."""

    def start(self, total: int | None) -> None: ...

    def advance(self, status: Status) -> None: ...


def version_of(published_at: str | None, sha1: str) -> int:
    """External version: newer publish time wins; equal times ordered by content hash (stable everywhere)."""
    tiebreak = int(sha1[:6], 16) % 1000
    if not published_at:
        return tiebreak
    millis = int(datetime.fromisoformat(published_at).timestamp() * 1000)
    return max(0, millis) * 1000 + tiebreak


# --- worker processes -------------------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(settings: Settings, index: str, max_bytes: int) -> None:
    _worker["segmenter"] = get_segmenter(settings.user_dict, settings.cache_dir)
    _worker["es"] = connect(settings)
    _worker["index"] = index
    _worker["max_bytes"] = max_bytes


def _stored(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    answer = es.mget(index=index, ids=ids, source_includes=["source.sha1", "source.path", "published_at"])
    return {doc["_id"]: doc for doc in answer["docs"] if doc.get("found")}


def _duplicate_detail(kept: dict[str, Any], version: int) -> str:
    other = kept.get("_source", {}).get("source", {}).get("path", "another file")
    why = (
        "its publish time is newer"
        if kept["_version"] // 1000 > version // 1000
        else "ties on publish time are broken by content hash"
    )
    return f"same article as {other}, which is kept: {why}"


def _replaces(stored_path: str | None, location: str) -> bool:
    """A file replaces the stored version of its article when it is the stored file, or that file is gone (moved)."""
    return stored_path == location or not (stored_path and os.path.exists(stored_path))


def process_files(paths: Sequence[str]) -> list[Outcome | Prepared]:
    """Worker: read, hash, parse, skip unchanged, segment and serialize a chunk of files."""
    segmenter: Segmenter = _worker["segmenter"]
    index: str = _worker["index"]
    parsed = []
    results: list[Outcome | Prepared] = []
    for name in paths:
        try:
            data = read_article_file(name, _worker["max_bytes"])
            article = parse_bytes(data, source=name)
        except ParseError as exc:
            results.append(Outcome(name, "rejected", exc.reason, str(exc)))
            continue
        parsed.append((name, data, article))
    stored = _stored(_worker["es"], index, [document_id(article) for _, _, article in parsed])
    for name, data, article in parsed:
        doc_id = document_id(article)
        sha1 = hashlib.sha1(data).hexdigest()
        previous = stored.get(doc_id)
        previous_source = previous["_source"].get("source", {}) if previous else {}
        location = os.path.abspath(name)
        if previous_source.get("sha1") == sha1:
            if previous_source.get("path") in (location, None):
                results.append(Outcome(name, "unchanged", doc_id=doc_id))
            else:
                detail = f"{name}: the same content is indexed from {previous_source['path']}"
                results.append(Outcome(name, "unchanged", "moved", detail, doc_id))
            continue
        published = article.published_at.isoformat() if article.published_at else None
        version = version_of(published, sha1)
        if previous and _replaces(previous_source.get("path"), location):
            version = max(version, previous["_version"])
        elif previous and previous["_version"] > version:
            results.append(
                Outcome(name, "rejected", "duplicate", f"{name}: {_duplicate_detail(previous, version)}", doc_id)
            )
            continue
        try:
            document = build_document(article, segmenter, SourceFile(path=location, sha1=sha1, bytes=len(data)))
        except Exception as exc:  # a bug or pathological input must not stop the run: report it
            results.append(Outcome(name, "rejected", "segmentation", f"{name}: {type(exc).__name__}: {exc}"))
            continue
        lines = _bulk_lines(index, doc_id, version, document)
        results.append(Prepared(name, doc_id, lines, article.warnings, article.time_source))
    return results


def process_sources(items: Sequence[tuple[str, str, int, dict[str, Any]]]) -> list[Outcome | Prepared]:
    """Worker: rebuild documents from stored ``_source`` (original text) with this indexer's segmentation."""
    segmenter: Segmenter = _worker["segmenter"]
    results: list[Outcome | Prepared] = []
    for source_index, doc_id, version, source in items:
        name = f"{source_index}/{doc_id}"
        try:
            origin = source.get("source")
            article = article_from_source(source)
            document = build_document(article, segmenter, SourceFile(**origin) if origin else None)
        except Exception as exc:  # report, never stop the run
            results.append(Outcome(name, "rejected", "segmentation", f"{name}: {type(exc).__name__}: {exc}", doc_id))
            continue
        lines = _bulk_lines(_worker["index"], doc_id, version, document)
        results.append(Prepared(name, doc_id, lines, (), article.time_source))
    return results


def _bulk_lines(index: str, doc_id: str, version: int, document: dict[str, Any]) -> bytes:
    action = {"index": {"_index": index, "_id": doc_id, "version": version, "version_type": "external_gte"}}
    return (json.dumps(action) + "\n" + json.dumps(document, ensure_ascii=False) + "\n").encode()


# --- the run ----------------------------------------------------------------------------------------------------


class _Tally:
    """Thread-safe accounting and the JSONL report of rejected and warned files."""

    def __init__(self, summary: Summary, report: Path, progress: Progress) -> None:
        self.summary = summary
        self._report_path = report
        self._report: Any = None
        self._progress = progress
        self._lock = threading.Lock()

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            summary = self.summary
            setattr(summary, outcome.status, getattr(summary, outcome.status) + 1)
            if outcome.status == "rejected":
                summary.reasons[outcome.reason] = summary.reasons.get(outcome.reason, 0) + 1
            elif outcome.reason == "moved":
                summary.moved += 1
            if outcome.status == "indexed":
                summary.time_sources[outcome.time_source] = summary.time_sources.get(outcome.time_source, 0) + 1
            if outcome.warnings:
                summary.warned += 1
            if outcome.status == "rejected" or outcome.warnings:
                self._write(asdict(outcome))
            self._progress.advance(outcome.status)

    def skipped(self, item: Skipped) -> None:
        with self._lock:
            self.summary.skipped_paths += 1
            self._write({"path": str(item.path), "status": "skipped", "reason": item.reason})

    def _write(self, entry: dict[str, Any]) -> None:
        if self._report is None:
            self._report_path.parent.mkdir(parents=True, exist_ok=True)
            self._report = self._report_path.open("w", encoding="utf-8")
            self.summary.report = self._report_path
        self._report.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._report.flush()

    def close(self) -> None:
        if self._report is not None:
            self._report.close()


def _chunks(candidates: Iterable[Candidate | Skipped], tally: _Tally, size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in candidates:
        if isinstance(item, Skipped):
            tally.skipped(item)
            continue
        chunk.append(str(item.path))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True, slots=True)
class IngestOptions:
    include: Sequence[str] = DEFAULT_INCLUDE
    exclude: Sequence[str] = DEFAULT_EXCLUDE
    partition: Partition | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    chunk_files: int = 32
    batch_bytes: int = 5 * 1024 * 1024
    in_flight: int = 3
    max_bytes: int = DEFAULT_MAX_BYTES
    shards: int | None = None
    replicas: int | None = None
    retry_seconds: float = 120.0
    """How long a bulk request is retried (with backoff) before the run gives up."""
    bulk_timeout: float = 120.0
    """How long one bulk request may take before it counts as failed (and is retried)."""


def default_report_path(settings: Settings) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.cache_dir / "reports" / f"index-{stamp}-{os.getpid()}.jsonl"


def ingest(
    settings: Settings,
    paths: Sequence[Path],
    options: IngestOptions | None = None,
    alias: str | None = None,
    progress: Progress | None = None,
    report: Path | None = None,
    on_start: Callable[[str], None] | None = None,
) -> Summary:
    """Index every article file under `paths` into the index behind `alias` (created if needed).

    The run shares the alias with other loads and is refused while a rebuild holds it (:mod:`indexer.lock`).
    """
    options = options or IngestOptions()
    progress = progress or Progress()
    alias = alias or settings.index
    es = connect(settings)
    segmenter = get_segmenter(settings.user_dict, settings.cache_dir)
    with AliasLock(es, alias, "shared", "index"):
        index = lifecycle.ensure_index(es, alias, segmenter.version, options.shards, options.replicas)
        if on_start:
            on_start(index)
        return load_into(es, settings, index, paths, options, progress, report or default_report_path(settings))


def load_into(
    es: Elasticsearch,
    settings: Settings,
    index: str,
    paths: Sequence[Path],
    options: IngestOptions,
    progress: Progress,
    report: Path,
) -> Summary:
    """Load files into a concrete index (used by `ingest` and by `reindex` for a new generation)."""
    total = sum(
        1 for item in walk(paths, options.include, options.exclude, options.partition) if isinstance(item, Candidate)
    )

    def work(tally: _Tally) -> Iterator[tuple[Callable[[Any], list[Outcome | Prepared]], Any]]:
        candidates = walk(paths, options.include, options.exclude, options.partition)
        for chunk in _chunks(candidates, tally, options.chunk_files):
            yield process_files, chunk

    return _pipeline(es, settings, index, total, work, options, progress, report)


def copy_from(
    es: Elasticsearch,
    settings: Settings,
    source_index: str,
    index: str,
    options: IngestOptions,
    progress: Progress,
    report: Path,
    skip_existing: bool = False,
) -> Summary:
    """Re-segment the documents of `source_index` from their stored original text into `index`.

    With `skip_existing`, documents already in `index` (loaded from files just before) count as unchanged.
    """
    total = es.count(index=source_index)["count"]

    def work(tally: _Tally) -> Iterator[tuple[Callable[[Any], list[Outcome | Prepared]], Any]]:
        for hits in scan(es, source_index, batch=options.chunk_files * 4):
            if skip_existing:
                present = es.mget(index=index, ids=[hit["_id"] for hit in hits], source=False)["docs"]
                found = {doc["_id"] for doc in present if doc.get("found")}
                for hit in hits:
                    if hit["_id"] in found:
                        tally.record(Outcome(f"{source_index}/{hit['_id']}", "unchanged", doc_id=hit["_id"]))
                hits = [hit for hit in hits if hit["_id"] not in found]
            if hits:
                yield process_sources, [(source_index, hit["_id"], hit["_version"], hit["_source"]) for hit in hits]

    return _pipeline(es, settings, index, total, work, options, progress, report)


def scan(es: Elasticsearch, index: str, batch: int = 500, **search: Any) -> Iterator[list[dict[str, Any]]]:
    """Every document of `index` in batches, through a point in time (consistent, memory flat)."""
    pit = es.open_point_in_time(index=index, keep_alive="5m")["id"]
    try:
        after = None
        while True:
            answer = es.search(
                pit={"id": pit, "keep_alive": "5m"},
                size=batch,
                sort=["_shard_doc"],
                search_after=after,
                version=True,
                track_total_hits=False,
                **search,
            )
            hits = answer["hits"]["hits"]
            if not hits:
                return
            pit = answer.get("pit_id", pit)
            after = hits[-1]["sort"]
            yield hits
    finally:
        es.close_point_in_time(id=pit)


Work = Callable[["_Tally"], Iterator[tuple[Callable[[Any], list["Outcome | Prepared"]], Any]]]


def _pipeline(
    es: Elasticsearch,
    settings: Settings,
    index: str,
    total: int,
    work: Work,
    options: IngestOptions,
    progress: Progress,
    report: Path,
) -> Summary:
    """Run work items through the worker pool and the bulk sender, accounting for every item."""
    started = time.monotonic()
    progress.start(total)
    summary = Summary(index=index)
    tally = _Tally(summary, report, progress)
    pending: dict[str, Prepared] = {}
    pending_lock = threading.Lock()

    def delivered(key: str, error: str | None, status: int) -> None:
        with pending_lock:
            prepared = pending.pop(key)
        if error is None:
            tally.record(
                Outcome(prepared.path, "indexed", "", "", prepared.doc_id, prepared.warnings, prepared.time_source)
            )
        elif status == 409:
            detail = f"{prepared.path}: another file with the same article and a newer version is already indexed"
            tally.record(Outcome(prepared.path, "rejected", "duplicate", detail, prepared.doc_id))
        else:
            detail = f"{prepared.path}: {error}"
            tally.record(Outcome(prepared.path, "rejected", "elasticsearch", detail, prepared.doc_id))

    restore = lifecycle.pending_restore(es, index)
    if restore:
        lifecycle.end_bulk_load(es, index, restore)
    if total > BULK_LOAD_THRESHOLD:
        restore = lifecycle.begin_bulk_load(es, index)
    sender = BulkSender(
        es,
        delivered,
        batch_bytes=options.batch_bytes,
        in_flight=options.in_flight,
        retry_seconds=options.retry_seconds,
        request_timeout=options.bulk_timeout,
    )
    try:
        with ProcessPoolExecutor(
            max_workers=options.workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(settings, index, options.max_bytes),
        ) as pool:
            in_flight: list[Future[list[Outcome | Prepared]]] = []
            for function, item in work(tally):
                in_flight.append(pool.submit(function, item))
                while len(in_flight) >= options.workers * 2:
                    _drain(in_flight.pop(0), tally, sender, pending, pending_lock)
            for future in in_flight:
                _drain(future, tally, sender, pending, pending_lock)
        sender.close()
    except BulkAborted as exc:
        summary.aborted = f"Elasticsearch stopped accepting documents: {exc}"
    except BrokenProcessPool:
        summary.aborted = "a worker process died (out of memory?); run again: finished files are skipped"
    except KeyboardInterrupt:
        summary.aborted = "interrupted"
    finally:
        sender.shutdown()
        tally.close()
        summary.retried_requests, summary.retried_items = sender.retried_requests, sender.retried_items
        _finish_load(es, index, restore, summary)
    summary.seen = total
    summary.elapsed = time.monotonic() - started
    return summary


def _finish_load(es: Elasticsearch, index: str, restore: dict[str, Any] | None, summary: Summary) -> None:
    """Restore settings changed for the load and refresh; if the server is gone, the next run restores them."""
    try:
        if restore:
            lifecycle.end_bulk_load(es, index, restore)
        else:
            es.indices.refresh(index=index)
    except Exception as exc:
        if not summary.aborted:
            raise
        summary.aborted += f"; index settings will be restored by the next run ({type(exc).__name__})"


def _drain(
    future: Future[list[Outcome | Prepared]],
    tally: _Tally,
    sender: BulkSender,
    pending: dict[str, Prepared],
    lock: threading.Lock,
) -> None:
    for result in future.result():
        if isinstance(result, Outcome):
            tally.record(result)
            continue
        with lock:
            pending[result.path] = result
        sender.add(BulkDoc(key=result.path, lines=result.lines))
