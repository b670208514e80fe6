"""Regional spellings (indexer.variants): cost of building the table, loading it, expanding a term, learning words.

    .venv/bin/python -m bench.variants [--repeat 3] [--articles 500]

Rows, side by side in one run (one process, one core):
- build: the links of the default vocabulary into an empty cache dir (what the first ``~`` search pays);
- load: the same table from the cache, as every later process does (the variants files included);
- expand: one :meth:`VariantTable.expand` of a name, the table loaded;
- table_words: characters/s over a corpus sample (only for a caller that adds an archive's words).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from indexer.variants import load_table, table_words
from tools.build_news_dict import CORPUS, corpus_texts

TERMS = ("特朗普", "川普", "歐巴馬", "约翰逊", "新闻")


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--articles", type=int, default=500, help="corpus sample for table_words")
    args = parser.parse_args()
    table = Table(title="indexer.variants: build once, load per process")
    for column in ("step", "median", "min", "max", "unit"):
        table.add_column(column, justify="right")

    def row(step: str, times: list[float], scale: float, unit: str) -> None:
        values = [value * scale for value in times]
        table.add_row(step, *(f"{value:,.1f}" for value in (statistics.median(values), min(values), max(values))), unit)

    builds: list[float] = []
    loads: list[float] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            builds += timed(lambda cache=cache: load_table(cache), 1)
            loads += timed(lambda cache=cache: load_table(cache), 1)
    row("build (empty cache)", builds, 1, "s")
    row("load (from cache)", loads, 1000, "ms")
    with tempfile.TemporaryDirectory() as cache:
        spellings = load_table(cache)
        for term in TERMS:
            row(f"expand {term}", timed(lambda term=term: spellings.expand(term), 200), 1e6, "µs")
    texts = list(corpus_texts(CORPUS, ()))[:: max(1, 16131 // args.articles)][: args.articles]
    chars = sum(map(len, texts))
    learn = timed(lambda: table_words(texts), 1)
    row(f"table_words ({len(texts)} articles)", [chars / value for value in learn], 1e-3, "k chars/s")
    Console().print(table)


if __name__ == "__main__":
    main()
