"""Ingest benchmark: one table from one run, side by side for each dataset.

    .venv/bin/python bench/scale_corpus.py --copies 6      # once: ~97k files under /tmp/news-indexer-bench/scaled
    .venv/bin/python bench/ingest.py --dataset ../shared/corpus --dataset /tmp/news-indexer-bench/scaled

Rows:
- r_py: parse + segment + build the document, one process (one core), documents/s on a sample; beside it the
  same with the reference segmentation engine (jieba's Python code), measured in the same run;
- r_es: bulk rate of pre-built documents alone (the sample's documents sent again and again under fresh ids);
- L = 1 / (1/(cores × r_py) + 1/r_es): what the pipeline could reach if parsing and Elasticsearch shared the cores
  perfectly; the pipeline's end-to-end rate (`indexer index` library call on the whole dataset) and its share of L;
- naive: parse, segment and `client.index` one document at a time, single process, on a sample;
- re-runs over the unchanged dataset, right after the pipeline's load: the default (files whose path, size and
  mtime equal the stored ones are not read) and `--verify` (every file read, hashed and parsed, as every re-run
  did before the size/mtime check);
- memory peak (main process and largest worker), index size against the raw bytes of the files and of the text:
  as loaded, and settled: without the transient ``_recovery_source`` copy, which the next merge drops.
Needs a running Elasticsearch (ES_URL or the local node). Indices it creates are deleted afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.bulk import BulkDoc, BulkSender
from indexer.client import connect
from indexer.config import load_settings
from indexer.document import build_document, document_id, field_texts
from indexer.ingest import IngestOptions, ingest
from indexer.parser import parse_bytes
from indexer.segment import Segmenter, get_segmenter
from indexer.walk import Candidate, walk


@dataclass
class Result:
    dataset: str
    files: int = 0
    r_py: float = 0.0
    r_py_reference: float = 0.0
    r_es: float = 0.0
    limit: float = 0.0
    pipeline: float = 0.0
    naive: float = 0.0
    rss_main_mb: float = 0.0
    rss_worker_mb: float = 0.0
    raw_file_mb: float = 0.0
    raw_text_mb: float = 0.0
    index_mb: float = 0.0
    index_settled_mb: float = 0.0
    rerun_s: float = 0.0
    rerun_read: int = 0
    verify_s: float = 0.0


def _files(dataset: Path) -> list[Path]:
    return [item.path for item in walk([dataset]) if isinstance(item, Candidate)]


def _sample(files: list[Path], size: int) -> list[Path]:
    return random.Random(7).sample(files, min(size, len(files)))


def measure_r_py(sample: list[Path], segmenter: Segmenter) -> tuple[float, list[dict]]:
    segmenter.load()
    datas = [path.read_bytes() for path in sample]
    started = time.perf_counter()
    documents = [
        build_document(parse_bytes(data, str(path)), segmenter) for data, path in zip(datas, sample, strict=True)
    ]
    return len(sample) / (time.perf_counter() - started), documents


def measure_r_es(es: Elasticsearch, documents: list[dict], total: int) -> float:
    index = "bench-r-es"
    es.indices.delete(index=index, ignore_unavailable=True)
    lifecycle.create_index(es, index, "bench")
    restore = lifecycle.begin_bulk_load(es, index)
    lines = [json.dumps(doc, ensure_ascii=False).encode() for doc in documents]
    sender = BulkSender(es, lambda key, error, status: None)
    started = time.perf_counter()
    for n, line in zip(range(total), itertools.cycle(lines)):
        action = json.dumps({"index": {"_index": index, "_id": f"bench-{n}"}}).encode()
        sender.add(BulkDoc(key=n, lines=action + b"\n" + line + b"\n"))
    sender.close()
    lifecycle.end_bulk_load(es, index, restore)
    rate = total / (time.perf_counter() - started)
    es.indices.delete(index=index)
    return rate


def measure_naive(es: Elasticsearch, sample: list[Path]) -> float:
    index = "bench-naive"
    es.indices.delete(index=index, ignore_unavailable=True)
    lifecycle.create_index(es, index, "bench")
    segmenter = get_segmenter(None)
    started = time.perf_counter()
    for path in sample:
        article = parse_bytes(path.read_bytes(), str(path))
        es.index(index=index, id=document_id(article), document=build_document(article, segmenter))
    rate = len(sample) / (time.perf_counter() - started)
    es.indices.delete(index=index)
    return rate


def pipeline_run(dataset: Path, workers: int) -> dict[str, float]:
    """The end-to-end run (meant for a fresh process, so its memory peaks are its own)."""
    settings = load_settings()
    es = connect(settings)
    alias = "bench-pipeline"
    old = lifecycle.resolve_alias(es, alias)
    if old:
        es.indices.delete(index=old)
    started = time.perf_counter()
    summary = ingest(settings, [dataset], IngestOptions(workers=workers), alias=alias)
    elapsed = time.perf_counter() - started
    assert summary.complete and summary.rejected == 0, summary
    peaks = {
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    reruns = {}
    for name, verify in (("rerun", False), ("verify", True)):
        started = time.perf_counter()
        again = ingest(settings, [dataset], IngestOptions(workers=workers, verify=verify), alias=alias)
        reruns[f"{name}_s"] = time.perf_counter() - started
        assert again.complete and again.unchanged == summary.indexed, again
        reruns[f"{name}_read"] = again.read
    return {"indexed": summary.indexed, "rate": summary.indexed / elapsed, **peaks, **reruns}


def measure_pipeline(es: Elasticsearch, dataset: Path, result: Result, workers: int) -> None:
    command = [sys.executable, __file__, "--pipeline-only", str(dataset), "--workers", str(workers)]
    answer = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    assert answer["indexed"] == result.files, answer
    result.pipeline = answer["rate"]
    result.rss_main_mb = answer["rss_main_mb"]
    result.rss_worker_mb = answer["rss_worker_mb"]
    result.rerun_s, result.rerun_read, result.verify_s = answer["rerun_s"], answer["rerun_read"], answer["verify_s"]
    index = lifecycle.resolve_alias(es, "bench-pipeline")
    assert index is not None
    result.index_mb = _store_mb(es, index)
    result.index_settled_mb = result.index_mb - _recovery_source_mb(es, index)
    es.indices.delete(index=index)


def _recovery_source_mb(es: Elasticsearch, index: str) -> float:
    """MB of ``_recovery_source``: the copy of each document's full source Elasticsearch keeps (because the mapping
    leaves the derived views out of ``_source``) until the shard's retention lease has passed the operation; the
    first merge after that drops it."""
    usage = es.perform_request(
        "POST", f"/{index}/_disk_usage", params={"run_expensive_tasks": "true"}, headers={"accept": "application/json"}
    ).body[index]
    return usage["fields"].get("_recovery_source", {}).get("total_in_bytes", 0) / 1e6


def _store_mb(es: Elasticsearch, index: str) -> float:
    stats = es.indices.stats(index=index, metric="store")["indices"][index]["primaries"]
    return stats["store"]["size_in_bytes"] / 1e6


def raw_sizes(files: list[Path]) -> tuple[float, float]:
    """MB of the article files, and MB (UTF-8) of their displayed text."""
    file_bytes = text_bytes = 0
    for path in files:
        data = path.read_bytes()
        file_bytes += len(data)
        texts = field_texts(parse_bytes(data, str(path)))
        text_bytes += sum(len(text.encode()) for values in texts.values() for text in values)
    return file_bytes / 1e6, text_bytes / 1e6


def run(dataset: Path, es: Elasticsearch, sample_size: int, naive_size: int) -> Result:
    files = _files(dataset)
    result = Result(dataset=str(dataset), files=len(files))
    result.raw_file_mb, result.raw_text_mb = raw_sizes(files)
    result.r_py, documents = measure_r_py(_sample(files, sample_size), get_segmenter(None))
    result.r_py_reference, _ = measure_r_py(_sample(files, sample_size), Segmenter(native=False))
    result.r_es = measure_r_es(es, documents, total=max(10_000, len(documents)))
    cores = os.cpu_count() or 1
    result.limit = 1 / (1 / (cores * result.r_py) + 1 / result.r_es)
    result.naive = measure_naive(es, _sample(files, naive_size))
    measure_pipeline(es, dataset, result, cores)
    return result


def table(results: list[Result]) -> str:
    cores = os.cpu_count() or 1
    rows = [
        ("files", lambda r: f"{r.files:,}"),
        ("r_py: parse+segment, 1 core (docs/s)", lambda r: f"{r.r_py:,.0f}"),
        ("r_py, reference segmentation engine (docs/s)", lambda r: f"{r.r_py_reference:,.0f}"),
        ("r_es: bulk of pre-built docs (docs/s)", lambda r: f"{r.r_es:,.0f}"),
        (f"L = 1/(1/({cores}×r_py)+1/r_es) (docs/s)", lambda r: f"{r.limit:,.0f}"),
        ("pipeline end to end (docs/s)", lambda r: f"{r.pipeline:,.0f}"),
        ("pipeline / L", lambda r: f"{r.pipeline / r.limit:.2f}"),
        ("naive: one client.index per doc (docs/s)", lambda r: f"{r.naive:,.1f}"),
        ("pipeline / naive", lambda r: f"{r.pipeline / r.naive:.1f}×"),
        ("memory peak: main / largest worker (MB)", lambda r: f"{r.rss_main_mb:,.0f} / {r.rss_worker_mb:,.0f}"),
        ("raw files / displayed text (MB)", lambda r: f"{r.raw_file_mb:,.1f} / {r.raw_text_mb:,.1f}"),
        ("index size, as loaded / settled (MB)", lambda r: f"{r.index_mb:,.1f} / {r.index_settled_mb:,.1f}"),
        ("index (settled) / raw files", lambda r: f"{r.index_settled_mb / r.raw_file_mb:.2f}"),
        ("index (settled) / displayed text", lambda r: f"{r.index_settled_mb / r.raw_text_mb:.2f}"),
        ("re-run, unchanged files (s; files read)", lambda r: f"{r.rerun_s:,.1f}; {r.rerun_read:,}"),
        ("re-run with --verify: all read and hashed (s)", lambda r: f"{r.verify_s:,.1f}"),
    ]
    header = "| metric | " + " | ".join(Path(r.dataset).name for r in results) + " |"
    lines = [header, "|---" * (len(results) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |" for name, cell in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, action="append", help="folder of article files")
    parser.add_argument("--pipeline-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=2000, help="files for r_py and r_es")
    parser.add_argument("--naive-sample", type=int, default=500, help="files for the naive baseline")
    args = parser.parse_args()
    if args.pipeline_only:
        print(json.dumps(pipeline_run(args.pipeline_only, args.workers)))
        return
    if not args.dataset:
        parser.error("give at least one --dataset")
    settings = load_settings()
    es = connect(settings)
    results = [run(dataset, es, args.sample, args.naive_sample) for dataset in args.dataset]
    print(table(results))


if __name__ == "__main__":
    main()
