"""Uniform random samples of the matching articles, reproducible by seed.

Every matching ``_id`` is read over a point in time (no text, about 17 pages for the whole corpus), and each gets
the key SHA-256(``seed``, ``_id``); the sample is the `n` ids of smallest key, in key order. That is uniform (with
a hash that behaves as a random function, every set of `n` matches is equally likely) and reproducible: the key
depends only on the seed and the article, not on shards, segment merges, index generation, paging order or the
Python version. Two more properties follow: the first k of a sample of n are the sample of k with the same seed,
and an article added to the index enters a sample only by displacing the one of largest key.

Elasticsearch's ``random_score`` was the alternative, and rejected: its hash is salted with the concrete index
name and shard (a rebuild behind the same alias gives another sample), its scores have 24 bits (ties among a
few thousand matches, broken by document order), and ``_seq_no`` changes whenever an article is re-indexed.

With ``unique``, one article per story (the ``story`` field of :mod:`indexer.stories`): within a story the article
of smallest key stands for it, and stories are drawn as articles are, so each story is equally likely.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass

from indexer.errors import IndexerError
from indexer.query import Query
from indexer.search import Searcher

STORY_FIELD = "story"


@dataclass(frozen=True, slots=True)
class Sample:
    """The ids drawn (in key order) out of ``population`` matches (or stories, when ``unique``)."""

    ids: list[str]
    population: int
    seed: int
    unique: bool = False


def sample_key(seed: int, doc_id: str) -> bytes:
    """The sort key of an article in the sample of `seed`."""
    return hashlib.sha256(f"{seed}\x00{doc_id}".encode()).digest()


def draw(ids: list[str], n: int, seed: int) -> list[str]:
    """The `n` of `ids` of smallest key for `seed`, in key order (all of them when there are fewer)."""
    return heapq.nsmallest(n, ids, key=lambda doc_id: sample_key(seed, doc_id))


def has_field(searcher: Searcher, name: str) -> bool:
    """Whether every index behind the searcher's alias maps the field `name`."""
    mappings = searcher.es.indices.get_field_mapping(index=searcher.index, fields=name)
    return all(body.get("mappings", {}).get(name) for body in mappings.values()) and bool(mappings)


def sample(searcher: Searcher, query: Query, n: int, seed: int, unique: bool = False) -> Sample:
    """A uniform sample of `n` articles matching `query` (see the module docstring)."""
    if n < 1:
        raise IndexerError(f"a sample needs at least one article, not {n}")
    if not unique:
        ids = [doc_id for doc_id, _ in searcher.ids(query)]
        return Sample(draw(ids, n, seed), len(ids), seed)
    if not has_field(searcher, STORY_FIELD):
        raise IndexerError(
            f"the index behind {searcher.index!r} has no {STORY_FIELD!r} field, so articles can't be grouped by story",
            "rebuild it with a version of the indexer that finds stories, or sample without one per story",
        )
    chosen: dict[str, tuple[bytes, str]] = {}
    for doc_id, values in searcher.ids(query, (STORY_FIELD,)):
        story = str(values.get(STORY_FIELD, doc_id))
        key = sample_key(seed, doc_id)
        if story not in chosen or key < chosen[story][0]:
            chosen[story] = (key, doc_id)
    stories = heapq.nsmallest(n, chosen, key=lambda story: sample_key(seed, story))
    return Sample([chosen[story][1] for story in stories], len(chosen), seed, unique=True)
