"""Measure the story post-pass on an indexed alias, side by side with the same rule in memory.

Usage: ``ES_URL=... .venv/bin/python bench/story_ids.py [--index news] [--rounds 2]``

Each round runs :func:`indexer.story_ids.assign_stories` over every article of the index as if all were new
(their stored ids come out again, so nothing is rewritten when the index is settled), then
:func:`indexer.stories.assign` over the same signatures read from the index. Wall-clock times: the index side is
mostly the server's work; the machine is shared, so compare the columns of one run.
"""

from __future__ import annotations

import argparse
import time

from indexer.client import connect
from indexer.config import load_settings
from indexer.lifecycle import resolve_alias
from indexer.paging import Pages
from indexer.segment import get_segmenter
from indexer.stories import assign
from indexer.story_ids import SIGNATURE_FIELDS, assign_stories, entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=None, help="the alias (default: the configured one)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = load_settings()
    es = connect(settings)
    alias = args.index or settings.index
    index = resolve_alias(es, alias)
    if index is None:
        raise SystemExit(f"no index behind {alias!r}: index some articles first")
    segmenter = get_segmenter(settings.user_dict, settings.cache_dir)
    print(f"{'round':>5} {'articles':>9} {'stories':>8} {'rewritten':>9} {'index s':>8} {'ms/1000':>8}", end="")
    print(f" {'memory s':>9} {'ms/1000':>8} {'same ids':>9}")
    for number in range(1, args.rounds + 1):
        result = assign_stories(es, index, segmenter, since=None)
        hits = list(Pages(es, index, source_includes=SIGNATURE_FIELDS).hits())
        stored = {hit["_id"]: hit["_source"].get("story") for hit in hits}
        started = time.monotonic()
        in_memory = assign(entry(hit) for hit in hits)
        memory = time.monotonic() - started
        same = sum(in_memory[doc_id] == story for doc_id, story in stored.items())
        per = 1_000_000 / max(1, result.articles)
        print(
            f"{number:>5} {result.articles:>9,} {result.stories:>8,} {result.rewritten:>9,} {result.elapsed:>8.1f}"
            f" {result.elapsed * per:>8.0f} {memory:>9.1f} {memory * per:>8.0f} {same:>9,}"
        )


if __name__ == "__main__":
    main()
