"""Faults against real Elasticsearch nodes: killed server, full write queues, server down, write blocks, stalls.

Each test asserts the researchers' invariant: the index ends up holding exactly the distinct articles of the
files (no loss, no duplicate), and no run reports a file as indexed that Elasticsearch did not acknowledge.
The measured figures are reported through the ``figure`` fixture (docs/faults.md copies them).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import lifecycle, node
from indexer.bulk import BulkDoc, BulkSender
from indexer.client import connect
from indexer.config import Settings
from indexer.ingest import IngestOptions, ingest
from indexer.lifecycle import resolve_alias
from indexer.paging import PagingCut
from indexer.search import Searcher

from .conftest import Figure
from .nodes import INDEXER, cli_env, cluster, corpus_subset, expected_ids, run_cli, stored_ids

pytestmark = [pytest.mark.slow, pytest.mark.es]


def _index_args(alias: str, *paths: Path) -> list[str]:
    return ["index", *map(str, paths), "--index", alias, "--workers", "2", "--allow-rejected", "--json"]


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exactly one `error:` line and no traceback; returns that line."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _indexed_total(es: Elasticsearch, alias: str) -> int:
    """Index operations the primaries performed since their shards started (no refresh needed)."""
    stats = es.indices.stats(index=alias, metric="indexing")
    return stats["_all"]["primaries"]["indexing"]["index_total"]


# --- the server is killed during a run ------------------------------------------------------------------------


def test_server_killed_three_times_during_index_loses_and_duplicates_nothing(
    corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    """Three rounds, each adding 400 files: SIGKILL the server at a random point of the run (a random share of
    the new documents written), restart it, re-run: the re-run completes and the index holds exactly the
    distinct articles of all files so far."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    groups = [corpus_subset(corpus, 400, tmp_path / f"group{k}", offset=k) for k in range(3)]
    alias = "faults-kill"
    with cluster(heap="512m") as spec:
        env = cli_env(ES_URL=spec.url, INDEXER_CACHE_DIR=str(tmp_path / "cache"))
        es = connect(Settings(hosts=(spec.url,), timeout=30))
        for round_ in range(3):
            paths = groups[: round_ + 1]
            expected = expected_ids(*paths)
            new = len(expected) - len(expected_ids(*paths[:-1])) if round_ else len(expected)
            target = int(new * rng.uniform(0.1, 0.7))
            baseline = _indexed_total(es, alias) if round_ else 0
            command = [str(INDEXER), *_index_args(alias, *paths), "--retry-for", "3"]
            out, err = tmp_path / f"out{round_}", tmp_path / f"err{round_}"
            with out.open("w") as stdout, err.open("w") as stderr:
                run = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, text=True)
            started = time.monotonic()
            written = 0
            while written < target and run.poll() is None and time.monotonic() - started < 120:
                if resolve_alias(es, alias):
                    written = _indexed_total(es, alias) - baseline
                time.sleep(0.05)
            assert run.poll() is None, f"round {round_ + 1} ended before the kill point {target}: {err.read_text()}"
            pid = node.status(spec).nodes[0].pid
            assert pid
            os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic() - started
            run.wait(timeout=120)
            error = _one_error_line(
                subprocess.CompletedProcess(command, run.returncode, out.read_text(), err.read_text())
            )

            restart = time.monotonic()
            node.start(spec)
            restart_seconds = time.monotonic() - restart
            rerun = run_cli(*_index_args(alias, *paths), env=env)
            assert rerun.returncode == 0, rerun.stderr
            summary = json.loads(rerun.stdout)
            assert (
                summary["complete"]
                and summary["seen"] == summary["indexed"] + summary["unchanged"] + summary["rejected"]
            )
            ids = stored_ids(es, alias)
            assert len(ids) == len(set(ids)) == summary["documents_in_index"]
            assert set(ids) == expected
            figure(
                "kill",
                seed=seed,
                round=round_ + 1,
                files=summary["seen"],
                new_articles=new,
                killed_after_writes=written,
                killed_after_seconds=round(killed_at, 1),
                killed_run_error=error,
                restart_seconds=round(restart_seconds, 1),
                rerun_indexed=summary["indexed"],
                rerun_unchanged=summary["unchanged"],
                rerun_rejected=summary["rejected"],
                articles_in_index=len(ids),
                distinct_articles=len(expected),
            )


# --- full write queues: 429 ---------------------------------------------------------------------------------


def test_a_tiny_write_queue_rejects_with_429_and_every_document_still_arrives(
    corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    files = corpus_subset(corpus, 300, tmp_path / "files")
    tiny_queue = (("thread_pool.write.size", "1"), ("thread_pool.write.queue_size", "1"))
    with cluster(heap="384m", settings=tiny_queue) as spec:
        settings = Settings(hosts=(spec.url,), cache_dir=tmp_path / "cache")
        options = IngestOptions(workers=2, batch_bytes=48 * 1024, in_flight=6, shards=3)
        started = time.monotonic()
        summary = ingest(settings, [files], options, alias="faults-429")
        elapsed = time.monotonic() - started
        es = connect(settings)
        pools = es.nodes.stats(metric="thread_pool")["nodes"].values()
        rejected = sum(stats["thread_pool"]["write"]["rejected"] for stats in pools)
        ids = stored_ids(es, "faults-429")
    assert summary.complete, summary.aborted
    assert summary.retried_items > 0 and rejected > 0
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(files)
    figure(
        "429",
        files=summary.seen,
        indexed=summary.indexed,
        rejected_files=summary.rejected,
        items_resent_after_429=summary.retried_items,
        requests_retried=summary.retried_requests,
        write_pool_rejections=rejected,
        seconds=round(elapsed, 1),
    )


# --- the server is down when a command starts ----------------------------------------------------------------


@pytest.mark.parametrize("command", [["index"], ["doctor"], ["stats"]], ids=lambda c: c[0])
def test_server_down_gives_one_clear_line_and_exit_1(command: list[str], tmp_path: Path, figure: Figure) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = cli_env(ES_URL=url, INDEXER_CACHE_DIR=str(tmp_path))
    started = time.monotonic()
    result = run_cli(*command, *([str(tmp_path)] if command == ["index"] else []), env=env, timeout=60)
    line = _one_error_line(result)
    assert line.startswith(f"error: cannot reach Elasticsearch at {url}") and "indexer node start" in line
    figure("server-down", command=command[0], seconds=round(time.monotonic() - started, 1), output=line)


# --- the index is blocked for writes -------------------------------------------------------------------------


@pytest.mark.parametrize("block", ["index.blocks.write", "index.blocks.read_only_allow_delete"])
def test_a_write_block_aborts_the_run_with_one_message_and_counts_nothing_unwritten(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path, block: str, figure: Figure
) -> None:
    first = corpus_subset(corpus, 20, tmp_path / "first")
    later = corpus_subset(corpus, 60, tmp_path / "later", offset=1)
    env = cli_env(ES_URL=es_settings.hosts[0], INDEXER_CACHE_DIR=str(tmp_path / "cache"))
    assert run_cli(*_index_args(alias, first), env=env).returncode == 0
    before = es.count(index=alias)["count"]
    index = resolve_alias(es, alias)
    # The disk monitor lifts a read_only_allow_delete block by itself once the disk is below the high watermark
    # (as it is here); switched off for the test, so the block stands as it would on a full disk.
    monitor = "cluster.routing.allocation.disk.threshold_enabled"
    es.cluster.put_settings(transient={monitor: False})
    es.indices.put_settings(index=index, settings={block: True})
    try:
        started = time.monotonic()
        result = run_cli(*_index_args(alias, first, later), env=env)
        elapsed = time.monotonic() - started
        line = _one_error_line(result)
        summary = json.loads(result.stdout)
    finally:
        es.indices.put_settings(index=index, settings={block: None})
        es.cluster.put_settings(transient={monitor: None})
    assert "the index refuses writes" in line and "cluster_block_exception" in line
    assert f"PUT /{index}/_settings" in line
    assert not summary["complete"] and summary["aborted"]
    assert summary["indexed"] == 0 and summary["documents_in_index"] == before
    resumed = json.loads(run_cli(*_index_args(alias, first, later), env=env).stdout)
    assert resumed["complete"] and resumed["unchanged"] == before
    assert set(stored_ids(es, alias)) == expected_ids(first, later)
    figure("write-block", block=block, seconds_to_abort=round(elapsed, 1), message=line, indexed=summary["indexed"])


# --- a slow server: answers that never come ------------------------------------------------------------------


class LosingProxy:
    """A TCP proxy to a real node that forwards everything but withholds the answers to the first `lose` bulk
    requests (all of them when -1): the server does the work, the client times out, as with an overloaded or
    stuck server or a lost connection."""

    def __init__(self, upstream_port: int, lose: int) -> None:
        self.lose = lose
        self.lost = 0
        self._upstream = upstream_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = [self._server]
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream))
            self._sockets += [client, upstream]
            withhold = threading.Event()
            threading.Thread(target=self._pump, args=(client, upstream, withhold, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, withhold, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, withhold: threading.Event, requests: bool) -> None:
        try:
            while data := source.recv(65536):
                if requests and data.startswith((b"POST /_bulk", b"PUT /_bulk")) and self.lose - self.lost != 0:
                    self.lost += 1
                    withhold.set()
                if requests or not withhold.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            end.close()

    def close(self) -> None:
        for end in self._sockets:
            end.close()


@pytest.fixture
def upstream_port(es_settings: Settings) -> int:
    port = es_settings.hosts[0].rsplit(":", 1)[1].strip("/")
    return int(port)


@pytest.fixture
def losing_proxy(upstream_port: int, request: pytest.FixtureRequest) -> Iterator[LosingProxy]:
    proxy = LosingProxy(upstream_port, request.param)
    yield proxy
    proxy.close()


@pytest.mark.parametrize("losing_proxy", [3], indirect=True)
def test_lost_bulk_answers_are_retried_with_backoff_and_resending_is_idempotent(
    es: Elasticsearch,
    es_settings: Settings,
    alias: str,
    corpus: Path,
    tmp_path: Path,
    losing_proxy: LosingProxy,
    figure: Figure,
) -> None:
    files = corpus_subset(corpus, 120, tmp_path / "files")
    settings = es_settings.with_overrides(hosts=losing_proxy.url)
    options = IngestOptions(workers=2, batch_bytes=64 * 1024, in_flight=2, bulk_timeout=1.0, retry_seconds=60)
    started = time.monotonic()
    summary = ingest(settings, [files], options, alias=alias)
    elapsed = time.monotonic() - started
    assert summary.complete and losing_proxy.lost == 3 and summary.retried_requests >= 3
    ids = stored_ids(es, alias)
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(files)
    figure(
        "lost-answers",
        lost_answers=losing_proxy.lost,
        requests_retried=summary.retried_requests,
        indexed=summary.indexed,
        seconds=round(elapsed, 1),
    )


@pytest.mark.parametrize("losing_proxy", [-1], indirect=True)
def test_a_server_that_never_answers_ends_the_run_with_a_clear_error_not_a_hang(
    es: Elasticsearch, alias: str, corpus: Path, tmp_path: Path, losing_proxy: LosingProxy, figure: Figure
) -> None:
    files = corpus_subset(corpus, 60, tmp_path / "files")
    env = cli_env(ES_URL=losing_proxy.url, INDEXER_CACHE_DIR=str(tmp_path / "cache"))
    started = time.monotonic()
    result = run_cli(*_index_args(alias, files), "--bulk-timeout", "1", "--retry-for", "4", env=env, timeout=90)
    elapsed = time.monotonic() - started
    line = _one_error_line(result)
    assert "no answer within 1 s, still none after retrying for 4 s" in line
    summary = json.loads(result.stdout)
    assert summary["indexed"] == 0 and not summary["complete"]  # the server may have written them: unconfirmed
    assert elapsed < 60
    figure("never-answers", seconds=round(elapsed, 1), message=line, lost_answers=losing_proxy.lost)


# --- SIGTERM during `indexer index` --------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """The direct children of `pid` (the pool's workers and multiprocessing's resource tracker)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _semaphores(pid: int) -> set[str]:
    """The named POSIX semaphores (``/dev/shm/sem.*``) the process has mapped."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if "/dev/shm/sem." in line}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_stops_the_workers_restores_the_settings_and_says_so(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, figure: Figure
) -> None:
    """`kill PID` (SIGTERM to the main process only, as systemd and CI send it) half-way through a bulk load."""
    folders = [corpus / "cna", corpus / "bitterwinter"]  # 2,162 files: above the bulk-load threshold
    env = cli_env(ES_URL=es_settings.hosts[0], INDEXER_CACHE_DIR=str(es_settings.cache_dir))
    command = [str(INDEXER), *_index_args(alias, *folders)]
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, written, children, semaphores = time.monotonic() + 180, 0, set(), set()
    while time.monotonic() < deadline and run.poll() is None and written < 300:
        children |= _children(run.pid)
        semaphores |= _semaphores(run.pid)
        index = resolve_alias(es, alias)
        written = _indexed_total(es, alias) if index else 0
        time.sleep(0.2)
    assert run.poll() is None, "the run finished before it could be terminated"
    index = resolve_alias(es, alias)
    assert index and lifecycle.pending_restore(es, index), "the run is in bulk-load settings"
    assert len(children) >= 3 and semaphores
    sent = time.monotonic()
    run.terminate()
    stdout, stderr = run.communicate(timeout=120)
    seconds = time.monotonic() - sent
    result = subprocess.CompletedProcess(command, run.returncode, stdout, stderr)
    line = _one_error_line(result)
    assert "terminated (SIGTERM)" in line and "run again" in line
    summary = json.loads(stdout)
    assert not summary["complete"] and summary["aborted"].startswith("terminated")
    time.sleep(1)
    assert not [pid for pid in children if _alive(pid)], "workers or the resource tracker outlived the run"
    assert not [name for name in semaphores if os.path.exists(name)], "semaphores left in /dev/shm"
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    assert settings.get("index.refresh_interval") != "-1" and lifecycle.pending_restore(es, index) is None
    resumed = json.loads(run_cli(*_index_args(alias, *folders), env=env).stdout)
    assert resumed["complete"] and resumed["unchanged"] >= summary["indexed"]
    figure(
        "sigterm",
        written_before=written,
        seconds_to_exit=round(seconds, 1),
        exit_status=run.returncode,
        message=line,
        processes_left=0,
        resumed_indexed=resumed["indexed"],
        resumed_unchanged=resumed["unchanged"],
    )


# --- an export cut off: the point in time is gone ------------------------------------------------------------


def test_an_export_cut_off_reports_the_real_cause_and_how_far_it_got(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    for n in range(7):
        (tmp_path / f"{n}.md").write_bytes(
            f"<!--{1600000000000 + n}-->\n[标题{n}](https://example.org/{n})\n------\n\n<p>中国新闻{n}</p>\n".encode()
        )
    summary = ingest(es_settings, [tmp_path], IngestOptions(workers=1), alias=alias)
    assert summary.indexed == 7
    searcher = Searcher(es_settings, index=alias)
    stream = searcher.stream(searcher.parse("中国"), page_size=3)
    hits = iter(stream)
    taken = [next(hits) for _ in range(3)]
    es.close_point_in_time(id=stream._pages._pit)  # as when it expires, or the server restarts
    with pytest.raises(PagingCut) as cut:
        taken += list(hits)
    assert len(taken) == 3 and cut.value.delivered == 3 and cut.value.total == 7 and cut.value.expired
    assert "No search context found" in str(cut.value) and "stopped after 3 of 7 hits" in str(cut.value)


def test_a_slow_reader_of_search_all_is_told_how_many_lines_it_got_and_to_raise_the_keep_alive(
    corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    """The reader pauses longer than --keep-alive while the export waits to write (the pipe is full)."""
    files = corpus_subset(corpus, 1500, tmp_path / "files")
    with cluster(heap="512m", settings=(("search.keep_alive_interval", "1s"),)) as spec:
        env = cli_env(ES_URL=spec.url, INDEXER_CACHE_DIR=str(tmp_path / "cache"))
        assert run_cli(*_index_args("faults-pit", files), env=env).returncode == 0
        total = int(run_cli("search", "的", "--count", "--index", "faults-pit", env=env).stdout)
        assert total > 1000
        command = [str(INDEXER), "search", "的", "--all", "--keep-alive", "1s", "--index", "faults-pit"]
        export = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert export.stdout and export.stderr
        lines = [export.stdout.readline()]
        time.sleep(5)
        lines += export.stdout.readlines()
        export.wait(timeout=60)
        result = subprocess.CompletedProcess(command, export.returncode, "".join(lines), export.stderr.read())
    line = _one_error_line(result)
    assert len(lines) == 1000
    assert f"the export is incomplete: 1,000 of {total:,} hits were written" in line
    assert "No search context found" in line and "--keep-alive" in line and "404: {'succeeded'" not in line
    figure("export-cut", total=total, lines_written=len(lines), message=line)


# --- one document the server refuses for its size ------------------------------------------------------------


def test_a_document_the_server_refuses_for_its_size_never_rejects_its_neighbours(figure: Figure) -> None:
    """Indexing pressure limited to 1 MB (Elasticsearch refuses the whole request, 429), requests to 2 MB (413)."""
    limits = (("indexing_pressure.memory.limit", "1mb"), ("http.max_content_length", "2mb"))
    with cluster(heap="384m", settings=limits) as spec:
        es = connect(Settings(hosts=(spec.url,), timeout=30))
        es.indices.create(index="faults-size")
        results: dict[str, str | None] = {}
        sender = BulkSender(
            es, lambda key, error, status: results.__setitem__(key, error), batch_bytes=64 * 2**20, retry_seconds=5
        )

        def doc(key: str, text: str) -> BulkDoc:
            action = json.dumps({"index": {"_index": "faults-size", "_id": key}})
            return BulkDoc(key, f"{action}\n{json.dumps({'text': text})}\n".encode())

        for batch, big in (("pressure", 1_500_000), ("too-long", 2_500_000)):
            for n in range(40):
                sender.add(doc(f"{batch}-{n}", "普通的正文"))
                if n == 20:
                    sender.add(doc(f"{batch}-big", "x" * big))
            sender.flush()
        sender.close()
        es.indices.refresh(index="faults-size")
        stored = es.count(index="faults-size")["count"]
    failed = {key: error for key, error in results.items() if error}
    assert set(failed) == {"pressure-big", "too-long-big"} and len(results) == 82
    assert (
        "too large for the server" in failed["pressure-big"]
        and "es_rejected_execution_exception" in failed["pressure-big"]
    )
    assert "HTTP 413" in failed["too-long-big"]
    assert stored == 80 and sender.split_requests >= 2
    figure("oversized-document", neighbours_indexed=stored, split_requests=sender.split_requests, **failed)
