"""Latency of `sample`, `collocates` and `keyness`: the library calls the commands make, on an indexed alias.

Run from the repository root (nothing is written)::

    .venv/bin/python -m bench.analysis --index news --rounds 3

Queries of three sizes (a few articles, about a thousand, most of the corpus, where collocates and keyness
analyse a sample of ``MAX_ARTICLES``); each call once to warm up (the segmenter's dictionary loads), then
`--rounds` times; the median and the largest wall time in seconds, with the matching and analysed articles.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from indexer.collocation import MAX_ARTICLES, collocates, keyness
from indexer.config import load_settings
from indexer.sampling import sample
from indexer.search import Searcher

QUERIES = ("拉夫罗夫", "疫苗", "中国")
KEYNESS = (
    ("拉夫罗夫 outlet:dw", "拉夫罗夫 -outlet:dw"),
    ("疫苗 outlet:voa", "疫苗 outlet:dw"),
    ("中国 date:2020", "中国 date:2021"),
)


def timed(call: Callable[[], object], rounds: int) -> tuple[list[float], object]:
    result = call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    searcher = Searcher(load_settings(), index=args.index)
    table = Table(title=f"{searcher.total():,} articles in {searcher.index}; {args.rounds} rounds, seconds")
    for name in ("command", "query", "matching", "analysed", "median", "max"):
        table.add_column(name, justify="left" if name in ("command", "query") else "right")

    def add(command: str, query: str, matching: int, analysed: int, times: list[float]) -> None:
        table.add_row(
            command, query, f"{matching:,}", f"{analysed:,}", f"{statistics.median(times):.2f}", f"{max(times):.2f}"
        )

    for text in QUERIES:
        parsed = searcher.parse(text)
        times, drawn = timed(lambda parsed=parsed: sample(searcher, parsed, 200, 7), args.rounds)
        add("sample --n 200", text, drawn.population, len(drawn.ids), times)  # type: ignore[attr-defined]
        times, found = timed(lambda parsed=parsed: collocates(searcher, parsed), args.rounds)
        analysed = found.analysed  # type: ignore[attr-defined]
        add("collocates", text, analysed.matching, analysed.articles, times)
    for focus, reference in KEYNESS:
        pair = (searcher.parse(focus), searcher.parse(reference))
        times, found = timed(lambda pair=pair: keyness(searcher, *pair), args.rounds)
        sides = (found.focus, found.reference)  # type: ignore[attr-defined]
        add(
            "keyness",
            f"{focus} / {reference}",
            *(sum(getattr(s, f) for s in sides) for f in ("matching", "articles")),
            times,
        )
    Console().print(table)
    Console().print(f"collocates and keyness analyse at most {MAX_ARTICLES:,} articles per set (a uniform sample)")


if __name__ == "__main__":
    main()
