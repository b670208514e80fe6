"""Measure the article parser on one core: articles/s per outlet folder over a corpus directory.

Usage: ``.venv/bin/python bench/parse.py [CORPUS_DIR] [--repeat N]`` (default /work/shared/corpus).
Files are read into memory first so that the numbers measure parsing, not the disk, and the time is the
process's CPU time (the machine is shared); the read-and-parse rate of ``parse_file`` is printed as well.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections import defaultdict
from pathlib import Path

from indexer.parser import ParseError, parse_bytes, parse_file


def main() -> None:
    """Parse every ``*/*/*.md`` below the corpus directory and print a table of rates."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("corpus", nargs="?", default="/work/shared/corpus", type=Path)
    options.add_argument("--repeat", type=int, default=3, help="passes over the corpus; the best counts")
    args = options.parse_args()
    files = sorted(args.corpus.glob("*/*/*.md"))
    if not files:
        raise SystemExit(f"no article files under {args.corpus}")
    groups: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for path in files:
        groups[path.relative_to(args.corpus).parts[0]].append((str(path), path.read_bytes()))

    print(f"{'outlet':<14}{'files':>7}{'MB':>8}{'KB/file':>9}{'CPU s':>9}{'articles/s':>12}{'MB/s':>7}")
    total_seconds = 0.0
    total_bytes = 0
    rejected: set[str] = set()
    for outlet, items in sorted(groups.items()):
        size = sum(len(data) for _, data in items)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            for source, data in items:
                try:
                    parse_bytes(data, source)
                except ParseError:
                    rejected.add(source)
            best = min(best, time.process_time() - start)
        total_seconds += best
        total_bytes += size
        print(
            f"{outlet:<14}{len(items):>7}{size / 1e6:>8.1f}{size / len(items) / 1e3:>9.1f}"
            f"{best:>9.2f}{len(items) / best:>12,.0f}{size / 1e6 / best:>7.1f}"
        )
    print(
        f"{'all':<14}{len(files):>7}{total_bytes / 1e6:>8.1f}{total_bytes / len(files) / 1e3:>9.1f}"
        f"{total_seconds:>9.2f}{len(files) / total_seconds:>12,.0f}{total_bytes / 1e6 / total_seconds:>7.1f}"
    )
    start = time.process_time()
    for path in files:
        with contextlib.suppress(ParseError):
            parse_file(path)
    elapsed = time.process_time() - start
    print(f"parse_file (read + parse), one pass: {len(files) / elapsed:,.0f} articles/s")
    if rejected:
        print(f"rejected (ParseError): {len(rejected)} files")


if __name__ == "__main__":
    main()
