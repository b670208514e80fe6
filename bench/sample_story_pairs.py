"""Draw the candidate pairs that were labelled into ``bench/data/story_pairs.tsv`` (labels were given by reading).

Usage: ``.venv/bin/python bench/sample_story_pairs.py [CORPUS_DIR] > pairs.tsv``

The pool: pairs found by a loose LSH (rensa's own ``RMinHashLSH``, 64 bands of 2 rows over the 5-shingles of
the story text) whose exact containment is at least 0.1, plus every pair published within 24 hours whose
titles share three or more Han bigrams. Both articles need 30 shingles. The pool is cut into strata by exact
containment (0.1, 0.3, 0.5, 0.7, 0.9) and kind (same outlet, across outlets, Traditional vs Simplified
outlet), and a fixed number is drawn from each with a seeded generator; a second round draws more pairs within
one outlet, where copies are rarer. Prints ``doc_a, doc_b, stratum`` per line.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from rensa import RMinHash, RMinHashLSH

from indexer.document import document_id
from indexer.normalize import fold
from indexer.parser import ParseError, parse_file
from indexer.stories import shingles, story_text

EDGES = (0.1, 0.3, 0.5, 0.7, 0.9, 1.01)
FIRST = {5: (25, 15, 16), 4: (15, 15, 12), 3: (12, 15, 10), 2: (12, 12, 10), 1: (8, 8, 8), 0: (6, 6, 6)}
"""Pairs drawn per containment bin, for (across outlets, same outlet, Traditional vs Simplified)."""
SECOND = {5: 99, 4: 12, 3: 8}
"""Second round: more same-outlet pairs from the upper bins."""
TRADITIONAL = {"cna", "rti"}
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_RFI_SUFFIX = re.compile(r" – 法国国际广播电台 - rfi$")
_SECTION = re.compile(r"^\[[^\]]*\]\s*")


def _title_bigrams(title: str) -> set[str]:
    text = _SECTION.sub("", _RFI_SUFFIX.sub("", fold(title)))
    return {run[i : i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)}


def _kind(a: str, b: str) -> str:
    if a == b:
        return "same"
    return "trad" if {a, b} & TRADITIONAL and not {a, b} <= TRADITIONAL else "cross"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("corpus", nargs="?", default="/work/shared/corpus", type=Path)
    args = options.parse_args()
    articles = []
    for path in sorted(args.corpus.rglob("*.md")):
        if path.name != "README.md":
            try:
                articles.append(parse_file(path))
            except ParseError:
                continue
    sets = [shingles(story_text(article)) for article in articles]
    minhashes = RMinHash.from_token_sets([list(grams) for grams in sets], num_perm=128, seed=7)
    lsh = RMinHashLSH(threshold=0.1, num_perm=128, num_bands=64)
    for index, minhash in enumerate(minhashes):
        lsh.insert(index, minhash)

    def containment(i: int, j: int) -> float:
        return len(sets[i] & sets[j]) / min(len(sets[i]), len(sets[j]))

    pool: dict[tuple[int, int], float] = {}
    for i, minhash in enumerate(minhashes):
        if len(sets[i]) >= 30:
            for j in lsh.query(minhash):
                if j > i and len(sets[j]) >= 30 and containment(i, j) >= 0.1:
                    pool[(i, j)] = containment(i, j)
    bigrams = [_title_bigrams(article.title) for article in articles]
    dated = sorted((a.published_at, n) for n, a in enumerate(articles) if a.published_at)
    for position, (moment, i) in enumerate(dated):
        for later, j in dated[position + 1 :]:
            if later - moment > timedelta(hours=24):
                break
            pair = (min(i, j), max(i, j))
            if len(bigrams[i] & bigrams[j]) >= 3 and min(len(sets[i]), len(sets[j])) >= 30 and pair not in pool:
                pool[pair] = containment(i, j)

    strata: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for (i, j), value in pool.items():
        band = next(n for n, edge in enumerate(EDGES) if value < edge)
        ids = sorted((document_id(articles[i]), document_id(articles[j])))
        strata[(band, _kind(articles[i].outlet, articles[j].outlet))].append((ids[0], ids[1]))
    rows: list[tuple[str, str, str]] = []
    first = random.Random(20201022)
    for (band, kind), pairs in sorted(strata.items()):
        quota = FIRST[band][("cross", "same", "trad").index(kind)]
        pairs.sort()
        rows += [(a, b, f"{band}-{kind}") for a, b in (first.sample(pairs, quota) if len(pairs) > quota else pairs)]
    drawn = {(a, b) for a, b, _ in rows}
    second = random.Random(20201023)
    for band, quota in SECOND.items():
        pairs = sorted(pair for pair in strata[(band, "same")] if pair not in drawn)
        rows += [(a, b, f"{band}-same2") for a, b in (second.sample(pairs, quota) if len(pairs) > quota else pairs)]
    for row in rows:
        print("\t".join(row))


if __name__ == "__main__":
    main()
