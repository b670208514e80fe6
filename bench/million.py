"""Search at scale: an index of N articles (default 1,000,000) made of copies of the corpus with fresh ids.

The corpus is parsed and segmented once into pre-built documents (cached as ``id<TAB>JSON`` lines under --work); the
index is then bulk-loaded from them, copy after copy (``_id`` = the article's id + ``~<copy>``), so the load costs what
Elasticsearch's bulk costs, not what segmentation costs. Reported, on that index:

- search latency with highlights, histogram and terms latency, for ``bench.search``'s query mix (p50/p95/p99);
- the ``search --all`` export rate (JSON Lines, highlights included, as the CLI writes them);
- index bytes per article (primary store as loaded, and with the recovery source that the next merge drops);
- the node's heap in use after the queries.

The index is deleted at the end (``--keep`` keeps it). Run on the local node (disk: ~9 KB per article as loaded)::

    .venv/bin/python -m bench.million --articles 1000000 --corpus ../shared/corpus

``--reuse`` measures the index a ``--keep`` run left (an interrupted load is finished first: refresh back on)
instead of loading one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator
from multiprocessing import Pool
from pathlib import Path

from elasticsearch import Elasticsearch
from rich.console import Console

from bench.search import Report, latency
from indexer import lifecycle, output
from indexer.bulk import BulkDoc, BulkSender
from indexer.config import load_settings
from indexer.document import build_document, document_id
from indexer.names import index_name
from indexer.parser import ParseError, parse_bytes
from indexer.search import Searcher
from indexer.segment import get_segmenter
from indexer.walk import Candidate, walk

ALIAS = "bench-million"
EXPORT_QUERY = "疫情"
EXPORT_LIMIT = 100_000
KWIC_ROUNDS = 1
"""A whole concordance reads every matching article (国安法: ~75,000 at 1M, tens of seconds each): one timed run
after the warm-up, so the latency part stays within minutes."""
MIN_FREE_BYTES = 10 * 1024**3
"""Stop loading when the disk holding the node's data has less than this left."""


def _build(path: Path) -> bytes | None:
    """One corpus file as a pre-built document line (id, tab, document JSON), or None when it doesn't parse."""
    try:
        article = parse_bytes(path.read_bytes(), str(path))
    except ParseError:
        return None
    document = build_document(article, get_segmenter(None))
    return f"{document_id(article)}\t{json.dumps(document, ensure_ascii=False)}".encode()


def prebuilt(corpus: Path, work: Path, console: Console) -> Path:
    """The corpus as pre-built documents, one ``id<TAB>document`` per line (built once, then reused)."""
    target = work / f"documents-{get_segmenter(None).version}.tsv"
    if target.exists():
        return target
    files = [item.path for item in walk([corpus]) if isinstance(item, Candidate)]
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    with partial.open("wb") as out, Pool(os.cpu_count() or 1) as pool:
        for line in pool.imap(_build, files, chunksize=64):
            if line is not None:
                out.write(line + b"\n")
    partial.replace(target)
    console.print(f"built {len(files):,} documents in {time.perf_counter() - started:.0f} s: {target}")
    return target


def _documents(source: Path, articles: int) -> Iterator[tuple[str, bytes]]:
    """(fresh id, document line) for `articles` documents, cycling through the copies of the corpus."""
    made = 0
    for copy in itertools.count():
        with source.open("rb") as lines:
            for line in lines:
                if made == articles:
                    return
                article_id, _, document = line.rstrip(b"\n").partition(b"\t")
                yield f"{article_id.decode()}~{copy}", document
                made += 1


def _store(es: Elasticsearch, index: str) -> tuple[int, int]:
    """(primary store bytes, documents) of `index`."""
    primaries = es.indices.stats(index=index, metric="docs,store")["indices"][index]["primaries"]
    return primaries["store"]["size_in_bytes"], primaries["docs"]["count"]


def load(es: Elasticsearch, index: str, source: Path, articles: int, console: Console) -> float:
    """Bulk-load `articles` documents into `index` (created here); returns documents per second."""
    lifecycle.create_index(es, index, get_segmenter(None).version, shards=1, replicas=0)
    restore = lifecycle.begin_bulk_load(es, index)
    failures: list[str] = []
    sender = BulkSender(es, lambda key, error, status: failures.append(f"{key}: {error}") if error else None)
    data_dir = Path(es.nodes.stats(metric="fs")["nodes"].popitem()[1]["fs"]["data"][0]["path"])
    started = time.perf_counter()
    sent = 0
    for sent, (article_id, document) in enumerate(_documents(source, articles), start=1):
        action = json.dumps({"index": {"_index": index, "_id": article_id}}).encode()
        sender.add(BulkDoc(key=article_id, lines=action + b"\n" + document + b"\n"))
        if sent % 50_000 == 0:
            size, _ = _store(es, index)
            free = shutil.disk_usage(data_dir).free
            console.print(
                f"{sent:,} sent, {sent / (time.perf_counter() - started):,.0f} docs/s, "
                f"store {size / 1024**3:.2f} GB, disk free {free / 1024**3:.1f} GB"
            )
            if free < MIN_FREE_BYTES:
                console.print("[red]stopping: the disk is nearly full[/]")
                break
    sender.close()
    rate = sent / (time.perf_counter() - started)
    lifecycle.end_bulk_load(es, index, restore)
    if failures:
        console.print(f"[red]{len(failures):,} documents failed[/], first: {failures[0]}")
    return rate


def export_rate(searcher: Searcher) -> tuple[int, float]:
    """(hits, hits per second) of ``search EXPORT_QUERY --all`` written as JSON Lines (up to EXPORT_LIMIT hits)."""
    with searcher.stream(searcher.parse(EXPORT_QUERY)) as stream, open(os.devnull, "w") as sink:
        started = time.perf_counter()
        output.write_jsonl(itertools.islice(stream, EXPORT_LIMIT), sink)
        seconds = time.perf_counter() - started
        hits = min(stream.total, EXPORT_LIMIT)
    return hits, hits / seconds


def heap(es: Elasticsearch) -> tuple[int, int]:
    """(heap used, heap max) in bytes, summed over the nodes."""
    nodes = es.nodes.stats(metric="jvm")["nodes"].values()
    memory = [node["jvm"]["mem"] for node in nodes]
    return sum(item["heap_used_in_bytes"] for item in memory), sum(item["heap_max_in_bytes"] for item in memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10, help="timed runs of each query")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--work", type=Path, default=Path("/tmp/news-indexer-bench"), help="pre-built documents")
    parser.add_argument("--keep", action="store_true", help="keep the index (alias bench-million) afterwards")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/sizing.md)")
    parser.add_argument("--reuse", action="store_true", help="measure the index a --keep run left; load nothing")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency mix and the export")
    args = parser.parse_args()
    console = Console(width=200 if args.markdown else None)
    settings = load_settings()
    searcher = Searcher(settings, index=ALIAS)
    es = searcher.es
    index = lifecycle.resolve_alias(es, ALIAS) if args.reuse else index_name(ALIAS, get_segmenter(None).version, 1)
    if index is None:
        raise SystemExit(f"--reuse: no index behind {ALIAS}")
    if not args.reuse:
        source = prebuilt(args.corpus, args.work, console)
        old = lifecycle.resolve_alias(es, ALIAS)
        if old:
            es.indices.delete(index=old)
    try:
        rate = "-"
        if args.reuse:
            restore = lifecycle.pending_restore(es, index)
            if restore is not None:
                lifecycle.end_bulk_load(es, index, restore)
        else:
            rate = f"{load(es, index, source, args.articles, console):,.0f}"
        if lifecycle.resolve_alias(es, ALIAS) != index:
            lifecycle.swap_alias(es, ALIAS, None, index)
        loaded, documents = _store(es, index)
        rows = [["bulk load of pre-built documents (docs/s)", rate]]
        if not args.no_latency:
            latency(searcher, args.rounds, KWIC_ROUNDS).show(console, args.markdown)
            exported, export_per_second = export_rate(searcher)
            rows.append(
                [f"search {EXPORT_QUERY} --all: hits exported / per second", f"{exported:,} / {export_per_second:,.0f}"]
            )
        used, most = heap(es)
        es.indices.flush(index=index)
        flushed, _ = _store(es, index)
        rows += [
            ["primary store, as loaded (GB)", f"{loaded / 1024**3:.2f}"],
            ["bytes per article, as loaded", f"{loaded / documents:,.0f}"],
            ["bytes per article, after a flush", f"{flushed / documents:,.0f}"],
            ["heap in use / heap max after the queries (MB)", f"{used / 1024**2:,.0f} / {most / 1024**2:,.0f}"],
        ]
        Report(f"Index of {documents:,} articles ({index})", ["metric", "value"], rows).show(console, args.markdown)
    finally:
        if not args.keep:
            es.indices.delete(index=index, ignore_unavailable=True)


if __name__ == "__main__":
    main()
