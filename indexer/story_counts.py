"""Exact numbers of distinct stories among matching articles, overall or per group (period, field value).

Elasticsearch's ``cardinality`` aggregation is approximate (HyperLogLog++); these counts are exact: a
``composite`` aggregation lists every distinct (group, story) pair a page at a time, and the pairs are counted
here. Memory holds one page and one counter per group; the cost grows with the number of pairs (about the
number of matching articles times the values each has in the grouping field).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from elasticsearch import Elasticsearch

STORY_FIELD = "story"
PAGE = 10_000
"""Pairs per composite page."""


def distinct_stories(
    es: Elasticsearch, index: str, query: dict[str, Any], group: dict[str, Any] | None = None
) -> Counter[Any]:
    """The number of distinct stories among the articles matching `query`, per key of the composite value source
    `group` (a ``terms`` or ``date_histogram`` source; give it ``missing_bucket: true`` to count articles without
    a value under None). Without `group` the one key is None."""
    sources: list[dict[str, Any]] = [{"group": group}] if group else []
    sources.append({STORY_FIELD: {"terms": {"field": STORY_FIELD}}})
    counts: Counter[Any] = Counter()
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": PAGE, "sources": sources, **({"after": after} if after else {})}
        answer = es.search(
            index=index, query=query, size=0, track_total_hits=False, aggs={"pairs": {"composite": composite}}
        )
        pairs = answer["aggregations"]["pairs"]
        for bucket in pairs["buckets"]:
            counts[bucket["key"].get("group")] += 1
        after = pairs.get("after_key")
        if len(pairs["buckets"]) < PAGE or after is None:
            return counts
