"""From article files on disk to documents in Elasticsearch: parallel parse + segment, bulk load, full accounting.

Every file the walk takes ends as exactly one of: indexed, unchanged (same content already in the index: skipped,
which is how an interrupted run resumes) or rejected (with a reason), so ``seen == indexed + unchanged +
rejected`` holds by construction for a run that finished; one that didn't (aborted, interrupted by Ctrl-C or
SIGTERM) says so. Anything a worker raises for one file rejects that file only.

Re-runs cost what changed: a file whose absolute path, size and mtime equal those stored with its article is
unchanged without being read (``IngestOptions.verify`` reads and hashes every file instead). Other files are read
and hashed, and :func:`indexer.decision.decide` says what to do with them: index, unchanged (also when moved),
or a duplicate of another file of the same article (the newer publish time wins, then the content hash, the
same whatever the order; Elasticsearch enforces it between parallel loaders through external versions).

Parsing and segmentation run in worker processes; the main process walks folders, checks paths, sizes and
mtimes against the index, and feeds the bulk sender. SIGTERM is handled like Ctrl-C: the workers stop, index
settings changed for the load are restored, and the summary says the run was interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any, Literal

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.article import Article
from indexer.bulk import BulkAborted, BulkDoc, BulkSender
from indexer.client import connect
from indexer.config import Settings
from indexer.decision import Decision, Incoming, Stored, decide
from indexer.document import SourceFile, article_from_source, build_document, document_id
from indexer.limits import cap
from indexer.lock import AliasLock
from indexer.outlet_meta import load_outlets
from indexer.paging import Pages
from indexer.parser import DEFAULT_MAX_BYTES, ParseError, parse_bytes, read_article_file
from indexer.segment import Segmenter, get_segmenter
from indexer.story_ids import StoryPass, assign_stories, settled_before
from indexer.walk import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    Candidate,
    Partition,
    Skipped,
    count_files,
    display_path,
    on_disk,
    walk,
)

Status = Literal["indexed", "unchanged", "rejected"]
BULK_LOAD_THRESHOLD = 2000
"""In a run over more than this many files, refresh is turned off and replicas set to 0 when a document is sent
(restored after); a run that finds every file unchanged leaves the settings alone."""
LOOKUP_FILES = 1000
"""Files whose paths, sizes and mtimes are checked against the index in one request."""
STAT_FIELDS = ["source.path", "source.bytes", "source.mtime"]
"""What a file is recognised by without reading it; read from doc values (no stored document is loaded)."""


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
    """A bulk action a worker made for a file (not yet sent): a document to index, or an unchanged article
    indexed again with its new file times (``touch``: the file counts as unchanged whatever the answer)."""

    path: str
    doc_id: str
    lines: bytes
    warnings: tuple[str, ...]
    time_source: str = ""
    touch: bool = False


@dataclass(slots=True)
class Summary:
    """Counts for one run; ``seen == indexed + unchanged + rejected`` when the run completed."""

    index: str = ""
    seen: int = 0
    """Files (or stored articles, when copying from an index) taken by this run."""
    indexed: int = 0
    unchanged: int = 0
    rejected: int = 0
    warned: int = 0
    moved: int = 0
    """Unchanged files whose article is stored with another path (a moved archive, or an identical copy)."""
    read: int = 0
    """Files read and hashed (the others were unchanged by path, size and mtime)."""
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
    stories: StoryPass | None = None
    """What the story post-pass did (:mod:`indexer.story_ids`); None when the run ended early."""

    @property
    def complete(self) -> bool:
        return not self.aborted and self.seen == self.indexed + self.unchanged + self.rejected


class Progress:
    """Receives progress; the CLI shows it as a bar, the library default ignores it."""

    def start(self, total: int | None) -> None: ...

    def expect(self, total: int) -> None:
        """The number of items, once counted (a run over files counts them while it goes on)."""

    def advance(self, status: Status) -> None: ...


class _Expected:
    """How many items a run expects, for the progress bar and the bulk-load switch: known up front, or counted
    in a background thread while the run goes on (walking a large archive twice before starting costs seconds)."""

    def __init__(self, value: int | None = None) -> None:
        self.value = value

    def count(self, counter: Callable[[], int], progress: Progress) -> None:
        def run() -> None:
            self.value = counter()
            progress.expect(self.value)

        threading.Thread(target=run, name="count-files", daemon=True).start()


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a run; it is handled like Ctrl-C."""


# --- worker processes -------------------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(settings: Settings, index: str, max_bytes: int, stop: EventType | None = None) -> None:
    """Set up a worker process. Ctrl-C and SIGTERM are the main process's to handle; it sets `stop` (an Event)
    when the run ends early, and the worker then drops the rest of its chunk."""
    for interrupt in (signal.SIGINT, signal.SIGTERM):
        signal.signal(interrupt, signal.SIG_IGN)
    _worker["stop"] = stop
    _worker["segmenter"] = get_segmenter(settings.user_dict, settings.cache_dir)
    _worker["outlets"] = load_outlets(settings.outlets_file)
    _worker["es"] = connect(settings)
    _worker["index"] = index
    _worker["max_bytes"] = max_bytes


@dataclass(frozen=True, slots=True)
class _Read:
    """A file read and parsed by a worker."""

    name: str
    doc_id: str
    size: int
    article: Article
    incoming: Incoming
    warnings: tuple[str, ...]


def _stored(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    answer = es.mget(index=index, ids=ids, source_includes=["source", "published_at", "story", "indexed_at"])
    return {doc["_id"]: doc for doc in answer["docs"] if doc.get("found")}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _stored_state(doc: dict[str, Any]) -> Stored:
    source = doc.get("_source", {})
    origin = source.get("source", {})
    path = origin.get("path")
    return Stored(
        version=doc["_version"],
        sha1=origin.get("sha1"),
        path=path,
        published_at=_time(source.get("published_at")),
        size=origin.get("bytes"),
        mtime_ns=origin.get("mtime"),
        path_exists=bool(path) and on_disk(path),
    )


def _name_warnings(path: Path) -> tuple[str, ...]:
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return ("the file name is not valid UTF-8: the bytes that aren't are shown as \\xNN",)
    return ()


def process_files(candidates: Sequence[Candidate]) -> list[Outcome | Prepared]:
    """Worker: read, hash, parse, decide (skip unchanged), segment and serialize a chunk of files.

    Whatever goes wrong with one file (a bad file, or a bug it triggers) becomes that file's rejection.
    """
    results: list[Outcome | Prepared] = []
    read: list[_Read] = []
    for candidate in candidates:
        if _stopped():
            return results
        name = display_path(candidate.path)
        try:
            data = read_article_file(candidate.path, _worker["max_bytes"])
            article = cap(parse_bytes(data, source=name))
            location = display_path(os.path.abspath(candidate.path))
            sha1 = hashlib.sha1(data).hexdigest()
            incoming = Incoming(location, sha1, article.published_at, candidate.size, candidate.mtime_ns)
            warnings = (*article.warnings, *_name_warnings(candidate.path))
            read.append(_Read(name, document_id(article), len(data), article, incoming, warnings))
        except ParseError as exc:
            results.append(Outcome(name, "rejected", exc.reason, str(exc)))
        except Exception as exc:  # a bug or pathological input must not stop the run: report it
            results.append(_internal_error(name, exc))
    stored = _stored(_worker["es"], _worker["index"], [item.doc_id for item in read])
    for item in read:
        if _stopped():
            return results
        try:
            results.append(_prepare(item, stored.get(item.doc_id)))
        except Exception as exc:  # as above
            results.append(_internal_error(item.name, exc, item.doc_id))
    return results


def _stopped() -> bool:
    stop: EventType | None = _worker.get("stop")
    return stop is not None and stop.is_set()


def _internal_error(name: str, exc: Exception, doc_id: str = "") -> Outcome:
    return Outcome(name, "rejected", "internal-error", f"{name}: {type(exc).__name__}: {exc}", doc_id)


def _prepare(item: _Read, previous: dict[str, Any] | None) -> Outcome | Prepared:
    stored = _stored_state(previous) if previous else None
    decision = decide(item.incoming, stored)
    name, doc_id, incoming = item.name, item.doc_id, item.incoming
    source = SourceFile(path=incoming.path, sha1=incoming.sha1, bytes=item.size, mtime=incoming.mtime_ns)
    if decision.action == "unchanged":
        return Outcome(name, "unchanged", doc_id=doc_id)
    if decision.action == "moved":
        return Outcome(name, "unchanged", "moved", f"{name}: {decision.detail}", doc_id)
    if decision.action == "duplicate":
        return Outcome(name, "rejected", "duplicate", f"{name}: {decision.detail}", doc_id)
    segmenter: Segmenter = _worker["segmenter"]
    document = build_document(item.article, segmenter, source, _worker["outlets"])
    if decision.action == "touch":
        # The whole document again at its stored version (see indexer.decision), with its story and indexing
        # time: a partial update would drop the chars/words views, which _source leaves out.
        assert previous is not None
        kept = {key: previous["_source"][key] for key in ("story", "indexed_at") if key in previous["_source"]}
        return Prepared(name, doc_id, _index_lines(_worker["index"], doc_id, decision, document | kept), (), touch=True)
    lines = _index_lines(_worker["index"], doc_id, decision, document)
    return Prepared(name, doc_id, lines, item.warnings, item.article.time_source)


def process_sources(items: Sequence[tuple[str, str, int, dict[str, Any]]]) -> list[Outcome | Prepared]:
    """Worker: rebuild documents from stored ``_source`` (original text) with this indexer's segmentation."""
    segmenter: Segmenter = _worker["segmenter"]
    results: list[Outcome | Prepared] = []
    for source_index, doc_id, version, source in items:
        name = f"{source_index}/{doc_id}"
        try:
            origin = source.get("source")
            article = article_from_source(source)
            document = build_document(article, segmenter, SourceFile(**origin) if origin else None, _worker["outlets"])
            if "story" in source:
                document["story"] = source["story"]
            lines = _index_lines(_worker["index"], doc_id, Decision("index", version), document)
        except Exception as exc:  # report, never stop the run
            results.append(_internal_error(name, exc, doc_id))
            continue
        results.append(Prepared(name, doc_id, lines, (), article.time_source))
    return results


def _index_lines(index: str, doc_id: str, decision: Decision, document: dict[str, Any]) -> bytes:
    action = {"index": {"_index": index, "_id": doc_id, "version": decision.version, "version_type": "external_gte"}}
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

    def taken(self, count: int = 1) -> None:
        """`count` more files (or stored articles) are in the run: each will get one outcome."""
        with self._lock:
            self.summary.seen += count

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            summary = self.summary
            if outcome.status == "indexed":
                summary.indexed += 1
                summary.time_sources[outcome.time_source] = summary.time_sources.get(outcome.time_source, 0) + 1
            elif outcome.status == "unchanged":
                summary.unchanged += 1
                summary.moved += outcome.reason == "moved"
            else:
                summary.rejected += 1
                summary.reasons[outcome.reason] = summary.reasons.get(outcome.reason, 0) + 1
            if outcome.warnings:
                summary.warned += 1
            if outcome.status == "rejected" or outcome.warnings:
                self._write(asdict(outcome))
            self._progress.advance(outcome.status)

    def skipped(self, item: Skipped) -> None:
        with self._lock:
            self.summary.skipped_paths += 1
            self._write({"path": display_path(item.path), "status": "skipped", "reason": item.reason})

    def _write(self, entry: dict[str, Any]) -> None:
        if self._report is None:
            self._report_path.parent.mkdir(parents=True, exist_ok=True)
            self._report = self._report_path.open("w", encoding="utf-8", errors="backslashreplace")
            self.summary.report = self._report_path
        self._report.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._report.flush()

    def close(self) -> None:
        if self._report is not None:
            self._report.close()


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
    verify: bool = False
    """Read and hash every file, even those whose path, size and mtime equal the stored ones."""


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
        since = settled_before(es, index)
        summary = load_into(es, settings, index, paths, options, progress, report or default_report_path(settings))
        if not summary.aborted:
            summary.stories = assign_stories(es, index, segmenter, since)
        return summary


def _unchanged_by_stat(
    es: Elasticsearch, index: str, candidates: list[Candidate], tally: _Tally
) -> Iterator[Candidate]:
    """The candidates that must be read: the others' path, size and mtime equal those stored (recorded as
    unchanged here, without reading them)."""
    locations = [display_path(os.path.abspath(item.path)) for item in candidates]
    answer = es.search(
        index=index,
        query={"terms": {"source.path": locations}},
        source=False,
        docvalue_fields=[{"field": name} for name in STAT_FIELDS],
        size=2 * len(locations),
        track_total_hits=False,
    )
    known = {}
    for hit in answer["hits"]["hits"]:
        values = hit.get("fields", {})
        path, size, mtime = (values.get(name, [None])[0] for name in STAT_FIELDS)
        known[path, size, mtime] = hit["_id"]
    for item, location in zip(candidates, locations, strict=True):
        doc_id = known.get((location, item.size, item.mtime_ns)) if item.mtime_ns is not None else None
        if doc_id is None:
            yield item
        else:
            tally.record(Outcome(display_path(item.path), "unchanged", doc_id=doc_id))


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class _Load:
    """One run through the worker pool and the bulk sender into a concrete index."""

    es: Elasticsearch
    settings: Settings
    index: str
    options: IngestOptions
    progress: Progress
    report: Path


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
    walk_options = (options.include, options.exclude, options.partition)

    expected = _Expected()

    def work(tally: _Tally) -> Iterator[tuple[Callable[[Any], list[Outcome | Prepared]], Any]]:
        expected.count(lambda: count_files(paths, *walk_options), progress)
        for batch in _batches(_taken(walk(paths, *walk_options), tally), LOOKUP_FILES):
            to_read = batch if options.verify else list(_unchanged_by_stat(es, index, batch, tally))
            tally.summary.read += len(to_read)
            for chunk in _batches(to_read, options.chunk_files):
                yield process_files, chunk

    load = _Load(es, settings, index, options, progress, report)
    return _pipeline(load, work, expected)


def _taken(items: Iterable[Candidate | Skipped], tally: _Tally) -> Iterator[Candidate]:
    for item in items:
        if isinstance(item, Skipped):
            tally.skipped(item)
        else:
            tally.taken()
            yield item


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

    def work(tally: _Tally) -> Iterator[tuple[Callable[[Any], list[Outcome | Prepared]], Any]]:
        for hits in Pages(es, source_index, size=options.chunk_files * 4, version=True):
            tally.taken(len(hits))
            if skip_existing:
                present = es.mget(index=index, ids=[hit["_id"] for hit in hits], source=False)["docs"]
                found = {doc["_id"] for doc in present if doc.get("found")}
                for hit in hits:
                    if hit["_id"] in found:
                        tally.record(Outcome(f"{source_index}/{hit['_id']}", "unchanged", doc_id=hit["_id"]))
                hits = [hit for hit in hits if hit["_id"] not in found]
            if hits:
                yield process_sources, [(source_index, hit["_id"], hit["_version"], hit["_source"]) for hit in hits]

    load = _Load(es, settings, index, options, progress, report)
    return _pipeline(load, work, _Expected(es.count(index=source_index)["count"]))


Work = Callable[[_Tally], Iterator[tuple[Callable[[Any], list[Outcome | Prepared]], Any]]]


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (once: a second one is ignored,
    so the cleanup it started can finish). Elsewhere than the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Deliveries:
    """The documents handed to the bulk sender and not answered yet, and the bulk-load switch."""

    def __init__(
        self, load: _Load, tally: _Tally, large: Callable[[], bool], sender_factory: Callable[[Any], BulkSender]
    ) -> None:
        self._load = load
        self._tally = tally
        self._pending: dict[int, Prepared] = {}
        self._lock = threading.Lock()
        self._keys = 0
        self._large = large
        self.restore: dict[str, Any] | None = None
        self.sender = sender_factory(self.delivered)

    def send(self, prepared: Prepared) -> None:
        with self._lock:
            self._keys += 1
            key = self._keys
            self._pending[key] = prepared
        if self.restore is None and not prepared.touch and self._large():
            self.restore = lifecycle.begin_bulk_load(self._load.es, self._load.index)
        self.sender.add(BulkDoc(key=key, lines=prepared.lines))

    def delivered(self, key: int, error: str | None, status: int) -> None:
        with self._lock:
            prepared = self._pending.pop(key)
        self._tally.record(_delivered_outcome(prepared, error, status))


def _delivered_outcome(prepared: Prepared, error: str | None, status: int) -> Outcome:
    """The outcome of a file from the server's answer to its bulk action."""
    if prepared.touch:
        return Outcome(prepared.path, "unchanged", doc_id=prepared.doc_id)
    if error is None:
        return Outcome(
            prepared.path,
            "indexed",
            doc_id=prepared.doc_id,
            warnings=prepared.warnings,
            time_source=prepared.time_source,
        )
    if status == 409:
        detail = f"{prepared.path}: another file with the same article and a newer version is already indexed"
        return Outcome(prepared.path, "rejected", "duplicate", detail, prepared.doc_id)
    return Outcome(prepared.path, "rejected", "elasticsearch", f"{prepared.path}: {error}", prepared.doc_id)


def _pipeline(load: _Load, work: Work, expected: _Expected) -> Summary:
    """Run work items through the worker pool and the bulk sender, accounting for every item."""
    started = time.monotonic()
    es, index, options = load.es, load.index, load.options
    load_outlets(load.settings.outlets_file)  # a bad outlet file stops the run here, before any worker starts
    load.progress.start(expected.value)
    summary = Summary(index=index)
    tally = _Tally(summary, load.report, load.progress)
    with _sigterm_interrupts():
        left_over = lifecycle.pending_restore(es, index)
        if left_over:
            lifecycle.end_bulk_load(es, index, left_over)
        deliveries = _Deliveries(
            load,
            tally,
            lambda: max(expected.value or 0, summary.seen) > BULK_LOAD_THRESHOLD,
            lambda callback: BulkSender(
                es,
                callback,
                batch_bytes=options.batch_bytes,
                in_flight=options.in_flight,
                retry_seconds=options.retry_seconds,
                request_timeout=options.bulk_timeout,
            ),
        )
        context = get_context("spawn")
        stop = context.Event()
        pool = ProcessPoolExecutor(
            max_workers=options.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(load.settings, index, options.max_bytes, stop),
        )
        try:
            in_flight: list[Future[list[Outcome | Prepared]]] = []
            for function, item in work(tally):
                in_flight.append(pool.submit(function, item))
                while len(in_flight) >= options.workers * 2:
                    _drain(in_flight.pop(0), tally, deliveries)
            for future in in_flight:
                _drain(future, tally, deliveries)
            deliveries.sender.close()
        except BulkAborted as exc:
            summary.aborted = f"Elasticsearch stopped accepting documents: {exc}"
        except BrokenProcessPool:
            summary.aborted = "a worker process died (out of memory?); run again: finished files are skipped"
        except Terminated:
            summary.aborted = "terminated (SIGTERM); run again: finished files are skipped"
        except KeyboardInterrupt:
            summary.aborted = "interrupted; run again: finished files are skipped"
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            deliveries.sender.shutdown()
            tally.close()
            summary.retried_requests = deliveries.sender.retried_requests
            summary.retried_items = deliveries.sender.retried_items
            _finish_load(es, index, deliveries.restore, summary)
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


def _drain(future: Future[list[Outcome | Prepared]], tally: _Tally, deliveries: _Deliveries) -> None:
    for result in future.result():
        if isinstance(result, Outcome):
            tally.record(result)
        else:
            deliveries.send(result)
