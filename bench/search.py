"""Search benchmark: latency of the library calls the CLI makes, and recall of alternative query strategies.

Run from the repository root against an indexed alias (nothing is written)::

    .venv/bin/python -m bench.search --index news --rounds 30
    .venv/bin/python -m bench.search --index news --corpus ../shared/corpus --recall

Latency: a fixed mix of queries (1, 2 and 3 terms, a phrase, a date filter, histogram, terms), each run once to
warm up, then `--rounds` times, each time after clearing Elasticsearch's query and request caches (so a repeated
query is not answered from a cache, as a researcher's new query would not be); p50/p95/p99 of the wall time of
``Searcher.search`` (parse, request, highlights from ``_source``; 10 hits), ``Searcher.histogram`` and
``Searcher.terms``, and the median of Elasticsearch's own ``took`` for searches. Grouped ORs, NEAR/10 and ``~``
terms are search rows too; ``compare`` rows time :func:`indexer.compare.compare` of 2-3 queries per month (its
"median hits" is the articles under the filters); ``kwic --all`` rows time a whole concordance (every line,
:mod:`indexer.kwic`) with at most 5 rounds.

Start-up (`--startup`): the wall time of the command a researcher types, ``indexer search TERM --count`` (a new
process: imports, settings, the alias check, the count), against ``grep -rl TERM`` over the corpus, alternated in
one run after one untimed run of each (so both read warm caches; the package's bytecode is compiled first, as a
wheel install leaves it); medians and the ratio (target: at most 2). ``indexer --help`` is timed the same way.

Recall (`--recall`): for the query set derived from the corpus by ``tests.oracle``, how many of the articles
the grep-style oracle finds each strategy misses, and how many it returns that the oracle doesn't (extra):
words field only; chars field with its default search analyzer (standard); chars with the whitespace analyzer;
the combined query the search uses. `--ranking` compares the ranking with and without a small title boost on
chars.title (share of top-10 hits with the term in the title, whole-word share, p95).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import indexer
from indexer.compare import compare
from indexer.config import load_settings
from indexer.kwic import KwicSort, concordance
from indexer.mapping import TEXT_FIELDS
from indexer.normalize import char_tokens
from indexer.paging import Pages
from indexer.query import Query, Text, recall_clause, to_dsl
from indexer.search import Searcher
from tests.oracle import DerivedQuery, derive_queries, load, stored_hashes

MIX: dict[str, list[str]] = {
    "1 term": ["疫情", "拜登", "香港", "台湾", "选举", "疫苗", "华为", "口罩"],
    "2 terms": [
        "拜登 特朗普",
        "香港 国安法",
        "台湾 疫苗",
        "华为 制裁",
        "新冠 德国",
        "中国 人权",
        "美国 大选",
        "欧盟 峰会",
    ],
    "3 terms": [
        "拜登 特朗普 选举",
        "香港 国安法 抗议",
        "中国 美国 贸易",
        "疫苗 德国 辉瑞",
        "台湾 美国 军售",
        "北京 新冠 隔离",
    ],
    "phrase": ['"美国总统"', '"国家安全法"', '"世界卫生组织"', '"新冠病毒"', '"香港警方"', '"联合国"'],
    "date filter": [
        "疫情 date:2020-10..2020-12",
        "拜登 date:2020-11",
        "香港 date:2020-07..2020-08",
        "台湾 date:2020-09",
    ],
    "grouped OR": ["(拜登 疫苗) OR (川普 口罩)", "(香港 国安法) OR (台湾 军售)", "(中国 人权) OR (新疆 制裁)"],
    "NEAR/10": ["金正恩 NEAR/10 普京", "拜登 NEAR/10 特朗普", "香港 NEAR/10 国安法", "疫苗 NEAR/10 辉瑞"],
    "~ spellings": ["~川普", "~普京", "~新西兰", "~默克尔 疫情"],
}
AGGREGATIONS = ["疫情", "香港", "拜登 特朗普", "台湾"]
KWIC = ["普京", "~普京", "金正恩 NEAR/10 普京", "辉瑞", "国安法"]
"""Concordances timed to the last line (every matching article's text is read)."""
KWIC_ROUNDS = 5
COMPARE = [["拜登", "特朗普"], ["疫苗", "口罩", "隔离"], ["香港 国安法", "台湾 军售"]]
"""Query sets compared per month (``compare A B``: one request, a filters bucket per query)."""
STARTUP_TERMS = ["金正恩", "疫苗", "拉夫罗夫"]


@dataclass
class Report:
    """One result table: printed with rich, or as Markdown for the docs (`--markdown`)."""

    title: str
    columns: list[str]
    rows: list[list[str]]

    def show(self, console: Console, markdown: bool) -> None:
        if markdown:
            console.print(f"**{self.title}**\n", markup=False, highlight=False)
            lines = [self.columns, ["---"] + ["---:"] * (len(self.columns) - 1), *self.rows]
            for line in lines:
                console.print("| " + " | ".join(line) + " |", markup=False, highlight=False, soft_wrap=True)
            console.print()
            return
        table = Table(title=self.title)
        for number, column in enumerate(self.columns):
            table.add_column(column, justify="right" if number else "left")
        for row in self.rows:
            table.add_row(*row)
        console.print(table)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Timing:
    wall_ms: list[float]
    server_ms: list[float]
    hits: int


def measure(call: Callable[[], tuple[int, int | None]], rounds: int, clear: Callable[[], object]) -> Timing:
    """Run `call` once to warm up, then `rounds` times, each after `clear` (untimed); `call` returns (hits,
    Elasticsearch's took in ms or None)."""
    hits, _ = call()
    wall, server = [], []
    for _ in range(rounds):
        clear()
        started = time.perf_counter()
        _, took = call()
        wall.append((time.perf_counter() - started) * 1000)
        if took is not None:
            server.append(float(took))
    return Timing(wall, server, hits)


def latency(searcher: Searcher, rounds: int, kwic_rounds: int = KWIC_ROUNDS) -> Report:
    """The latency table; kwic rows run `kwic_rounds` times (at most `rounds`)."""

    def page(text: str) -> tuple[int, int | None]:
        result = searcher.search(searcher.parse(text), limit=10)
        return result.total, result.took_ms

    groups: dict[str, list[Callable[[], tuple[int, int | None]]]] = {
        kind: [lambda text=text: page(text) for text in texts] for kind, texts in MIX.items()
    }
    for interval in ("month", "day"):
        groups[f"histogram ({interval})"] = [
            lambda text=text, interval=interval: (searcher.histogram(searcher.parse(text), interval).total, None)
            for text in AGGREGATIONS
        ]
    groups["terms (person, top 20)"] = [
        lambda text=text: (searcher.terms(searcher.parse(text), "person", 20).total, None) for text in AGGREGATIONS
    ]
    filters = searcher.parse("", allow_empty=True)
    groups["compare (month)"] = [
        lambda texts=texts: (
            compare(searcher, filters, [(text, searcher.parse(text)) for text in texts], "month").articles,
            None,
        )
        for texts in COMPARE
    ]
    documents = searcher.es.count(index=searcher.index)["count"]
    load = os.getloadavg()[0]

    def lines(text: str, sort: KwicSort) -> tuple[int, int | None]:
        return sum(1 for _ in concordance(searcher, searcher.parse(text), sort=sort, limit=None)), None

    kwic = {
        f"kwic --all --sort {sort}": [lambda text=text, sort=sort: lines(text, sort) for text in KWIC]
        for sort in ("date", "left")
    }

    def clear() -> object:
        """Drop the query and request caches, so a repeated query is timed as a new one would be."""
        return searcher.es.indices.clear_cache(index=searcher.index, query=True, request=True)

    rows = []
    for kind, calls in [*groups.items(), *kwic.items()]:
        timings = [measure(call, rounds if kind in groups else min(rounds, kwic_rounds), clear) for call in calls]
        wall = [value for timing in timings for value in timing.wall_ms]
        server = [value for timing in timings for value in timing.server_ms]
        rows.append(
            [
                kind,
                str(len(calls)),
                f"{statistics.median(t.hits for t in timings):,.0f}",
                f"{percentile(wall, 0.50):.1f}",
                f"{percentile(wall, 0.95):.1f}",
                f"{percentile(wall, 0.99):.1f}",
                f"{percentile(server, 0.50):.0f}" if server else "-",
            ]
        )
    return Report(
        f"Search latency: {documents:,} articles ({searcher.index}), {rounds} warm rounds, load average {load:.1f}",
        ["query kind", "queries", "median hits (kwic: lines)", "p50 ms", "p95 ms", "p99 ms", "ES took p50 ms"],
        rows,
    )


def _wall_ms(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def startup(index: str, corpus: Path, rounds: int) -> Report:
    """``indexer search TERM --count`` and ``indexer --help`` against ``grep -rl TERM corpus``, alternated."""
    compileall.compile_dir(Path(indexer.__file__).parent, quiet=1)
    command = str(Path(sys.executable).with_name("indexer"))
    grep = shutil.which("grep") or "grep"
    rows = []
    for term in STARTUP_TERMS:
        pair = {
            "indexer": [command, "search", term, "--count", "--index", index],
            "grep": [grep, "-rl", term, str(corpus)],
        }
        times: dict[str, list[float]] = {name: [] for name in pair}
        for line in pair.values():
            _wall_ms(line)
        for _ in range(rounds):
            for name, line in pair.items():
                times[name].append(_wall_ms(line))
        mine, theirs = statistics.median(times["indexer"]), statistics.median(times["grep"])
        rows.append([f"search {term} --count", f"{mine:.0f}", f"{theirs:.0f}", f"{mine / theirs:.2f}"])
    help_ms = statistics.median(_wall_ms([command, "--help"]) for _ in range(rounds))
    rows.append(["--help", f"{help_ms:.0f}", "-", "-"])
    return Report(
        f"Start-up: a new `indexer` process against grep -rl over {corpus} (medians of {rounds} alternated runs, "
        f"warm), load average {os.getloadavg()[0]:.1f}",
        ["command", "indexer ms", "grep -rl ms", "indexer / grep (target ≤ 2)"],
        rows,
    )


def _words_only(searcher: Searcher, text: str) -> dict[str, Any]:
    words = " ".join(searcher.segmenter.words(text))
    clauses = [
        {"match_phrase": {f"words.{field}": {"query": words, "analyzer": "whitespace"}}} for field in TEXT_FIELDS
    ]
    return {"bool": {"filter": [{"bool": {"should": clauses, "minimum_should_match": 1}}]}}


def _chars_default_analyzer(searcher: Searcher, text: str) -> dict[str, Any]:
    clauses = [{"match_phrase": {f"chars.{field}": char_tokens(text)}} for field in TEXT_FIELDS]
    return {"bool": {"filter": [{"bool": {"should": clauses, "minimum_should_match": 1}}]}}


def _chars_whitespace(searcher: Searcher, text: str) -> dict[str, Any]:
    return {"bool": {"filter": [recall_clause(Text(text))]}}


def _combined(searcher: Searcher, text: str) -> dict[str, Any]:
    return to_dsl(Query(((Text(text),),)), searcher.segmenter)


STRATEGIES: dict[str, Callable[[Searcher, str], dict[str, Any]]] = {
    "words field only": _words_only,
    "chars, default search analyzer (standard)": _chars_default_analyzer,
    "chars, whitespace analyzer": _chars_whitespace,
    "combined (what search runs)": _combined,
}


def _ids(searcher: Searcher, query: dict[str, Any]) -> set[str]:
    return {hit["_id"] for hit in Pages(searcher.es, searcher.index, query=query, source=False).hits()}


@dataclass
class RecallResult:
    report: Report
    queries: list[DerivedQuery]
    whole_word: dict[str, set[str]]
    """Per query, the articles where it is a whole-word phrase (what the words field finds)."""


def recall(searcher: Searcher, corpus: Path) -> RecallResult:
    oracle = load(corpus, stored_hashes(searcher.es, searcher.index))
    queries = derive_queries(oracle)
    expected = {query.text: oracle.find(query.text) for query in queries}
    rows = []
    total = sum(len(found) for found in expected.values())
    whole_word: dict[str, set[str]] = {}
    for name, build in STRATEGIES.items():
        missed = extra = failing = 0
        for query in queries:
            found = _ids(searcher, build(searcher, query.text))
            if build is _words_only:
                whole_word[query.text] = found
            lost = len(expected[query.text] - found)
            missed += lost
            failing += lost > 0
            extra += len(found - expected[query.text])
        rows.append([name, f"{failing:,}", f"{missed:,} of {total:,}", f"{extra:,}"])
    report = Report(
        f"Recall against a grep-style scan: {len(queries)} derived queries, {len(oracle):,} articles",
        ["strategy", "queries with misses", "articles missed", "extra articles"],
        rows,
    )
    return RecallResult(report, queries, whole_word)


def ranking(searcher: Searcher, result: RecallResult, rounds: int) -> Report:
    """Top-10 quality proxies and latency of the search's ranking, and with a chars.title boost added."""
    rows = []
    for name, boost in (
        ("search (words phrases, boosted by field)", 0.0),
        ("+ chars.title phrase, boost 0.5", 0.5),
        ("+ chars.title phrase, boost 2", 2.0),
    ):
        in_title = whole = counted = 0
        wall: list[float] = []
        for query in result.queries:
            dsl = to_dsl(Query(((Text(query.text),),)), searcher.segmenter)
            if boost:
                phrase = {"query": char_tokens(query.text), "analyzer": "whitespace", "boost": boost}
                dsl["bool"].setdefault("should", []).append({"match_phrase": {"chars.title": phrase}})
            for _ in range(rounds):
                started = time.perf_counter()
                answer = searcher.es.search(
                    index=searcher.index, query=dsl, size=10, source_includes=["title"], track_total_hits=True
                )
                wall.append((time.perf_counter() - started) * 1000)
            hits = answer["hits"]["hits"]
            if len(hits) < 10:
                continue
            counted += 1
            target = char_tokens(query.text)
            for hit in hits:
                in_title += target in char_tokens(hit["_source"].get("title", ""))
                whole += hit["_id"] in result.whole_word[query.text]
        rows.append(
            [
                name,
                str(counted),
                f"{in_title / (10 * counted):.1%}",
                f"{whole / (10 * counted):.1%}",
                f"{percentile(wall, 0.50):.1f}",
                f"{percentile(wall, 0.95):.1f}",
            ]
        )
    return Report(
        "Ranking variants: top 10 of each derived query with 10+ hits (Elasticsearch request only)",
        ["variant", "queries", "term in title", "term a whole word", "p50 ms", "p95 ms"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="alias to measure (default: the configured one)")
    parser.add_argument("--rounds", type=int, default=30, help="timed runs of each query")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--recall", action="store_true", help="also measure recall per strategy (needs --corpus)")
    parser.add_argument("--ranking", action="store_true", help="also compare ranking variants (needs --corpus)")
    parser.add_argument("--startup", action="store_true", help="also time a new `indexer search --count` vs grep")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency table")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/search.md)")
    args = parser.parse_args()
    settings = load_settings()
    searcher = Searcher(settings, index=args.index or settings.index)
    console = Console(width=200 if args.markdown else None)
    if not args.no_latency:
        latency(searcher, args.rounds).show(console, args.markdown)
    if args.startup:
        startup(searcher.index, args.corpus, args.rounds).show(console, args.markdown)
    if args.recall or args.ranking:
        result = recall(searcher, args.corpus)
        result.report.show(console, args.markdown)
        if args.ranking:
            ranking(searcher, result, 3).show(console, args.markdown)


if __name__ == "__main__":
    main()
