"""Story ids in the index: the post-pass that settles the ``story`` of newly indexed articles.

A load indexes every article with its signature fields (:func:`indexer.document.story_fields`), a provisional
``story`` (its own id) and ``story_pending``. After the load's refresh, :func:`assign_stories` reads the pending
articles a page at a time and looks up each one's candidates: a query for any of its LSH band keys
(``story_bands``) among articles published within :data:`indexer.stories.WINDOW` of it (or undated), best
matching bands first. Each candidate is verified with :func:`indexer.stories.is_copy` on the stored signatures;
a pending candidate is a copy within the run (:meth:`~indexer.stories.StoryGraph.link`), a settled one a stored
story to join (:meth:`~indexer.stories.StoryGraph.join`). The graph holds ids and times only; the final ids
(:meth:`~indexer.stories.StoryGraph.stories`) go back as bulk partial updates that also clear
``story_pending``. No script, no ingest pipeline, no ``_reindex``.

An interrupted load leaves its articles pending with valid singleton stories; the next load settles them.
A rebuild copies ``story`` with the stored document; an article loaded again from its file during a rebuild
keeps the story it had in the old index when its signature is the same (``previous``).

Two loads running their post-passes at the same time can each settle their own articles without seeing the
other's final ids; the ids stay valid story ids, but two copies loaded that way can end in two stories.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.errors import IndexerError
from indexer.paging import Pages
from indexer.query import DATE_FIELD
from indexer.stories import WINDOW, Entry, Signature, StoryGraph, is_copy

PAGE = 200
"""Pending articles read, and looked up in one ``_msearch``, at a time."""
CANDIDATES = 100
"""Most candidates looked at per article (those sharing the most band keys)."""
SIGNATURE_FIELDS = [DATE_FIELD, "story", "story_pending", "story_bands", "story_minhash", "story_size", "story_numbers"]
PENDING = {"term": {"story_pending": True}}


@dataclass(frozen=True, slots=True)
class StoryPass:
    """What a post-pass did: ``articles`` settled, of which ``joined`` joined a story stored before and
    ``kept`` kept their story from the previous index; ``stories`` distinct stories among them."""

    articles: int = 0
    stories: int = 0
    joined: int = 0
    kept: int = 0


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def entry(hit: dict[str, Any]) -> Entry:
    """The story rules' view of a stored article (its signature, when it has one)."""
    source = hit.get("_source", {})
    found = None
    if "story_minhash" in source:
        found = Signature.decode(source["story_minhash"], source["story_size"], source.get("story_numbers", ()))
    return Entry(hit["_id"], _time(source.get(DATE_FIELD)), found, source.get("story"))


def candidates_query(item: Entry, bands: Iterable[str]) -> dict[str, Any]:
    """Articles other than `item` sharing a band key with it, published within the window or undated; the more
    keys shared, the higher the score."""
    when: list[dict[str, Any]] = [{"bool": {"must_not": {"exists": {"field": DATE_FIELD}}}}]
    if item.published_at is not None:
        start, end = item.published_at - WINDOW, item.published_at + WINDOW
        when.append({"range": {DATE_FIELD: {"gte": start.isoformat(), "lte": end.isoformat()}}})
    else:
        when.append({"match_all": {}})
    return {
        "bool": {
            "should": [{"term": {"story_bands": key}} for key in bands],
            "minimum_should_match": 1,
            "filter": {"bool": {"should": when, "minimum_should_match": 1}},
            "must_not": {"ids": {"values": [item.doc_id]}},
        }
    }


def _link(es: Elasticsearch, index: str, graph: StoryGraph, hits: list[dict[str, Any]]) -> int:
    """Find and verify the copies of one page of pending articles; returns how many joined a stored story."""
    asked = [(entry(hit), hit["_source"]["story_bands"]) for hit in hits if hit["_source"].get("story_bands")]
    if not asked:
        return 0
    searches: list[dict[str, Any]] = []
    for item, bands in asked:
        searches += [
            {"index": index},
            {"query": candidates_query(item, bands), "size": CANDIDATES, "_source": SIGNATURE_FIELDS},
        ]
    joined = set()
    for (item, _), response in zip(asked, es.msearch(searches=searches)["responses"], strict=True):
        if "error" in response:
            raise IndexerError(f"looking up the copies of {item.doc_id} failed: {response['error']}")
        for raw in response["hits"]["hits"]:
            other = entry(raw)
            if not is_copy(item, other):
                continue
            if raw["_source"].get("story_pending"):
                graph.add(Entry(other.doc_id, other.published_at, None))
                graph.link(item.doc_id, other.doc_id)
            else:
                graph.join(item.doc_id, other)
                joined.add(item.doc_id)
    return len(joined)


def _updates(index: str, stories: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for doc_id, story in stories:
        yield {
            "_op_type": "update",
            "_index": index,
            "_id": doc_id,
            "doc": {"story": story, "story_pending": False},
        }


def _send(es: Elasticsearch, index: str, stories: Iterable[tuple[str, str]]) -> None:
    _, errors = helpers.bulk(es, _updates(index, stories), raise_on_error=False, chunk_size=1000)
    if errors:
        first = errors[0]
        raise IndexerError(f"{len(errors):,} story updates failed in {index}, the first: {first}")
    es.indices.refresh(index=index)


def _carry_over(es: Elasticsearch, index: str, previous: str) -> int:
    """Pending articles of `index` whose signature equals that of their settled copy in `previous` take its
    story; returns how many."""
    kept: list[tuple[str, str]] = []
    with Pages(es, index, size=PAGE, query=PENDING, source_includes=["story_minhash"]) as pages:
        for hits in pages:
            old = es.mget(index=previous, ids=[hit["_id"] for hit in hits], source_includes=SIGNATURE_FIELDS)
            for hit, doc in zip(hits, old["docs"], strict=True):
                stored = doc.get("_source", {})
                settled = doc.get("found") and "story" in stored and not stored.get("story_pending")
                if settled and stored.get("story_minhash") == hit["_source"].get("story_minhash"):
                    kept.append((hit["_id"], stored["story"]))
    if kept:
        _send(es, index, kept)
    return len(kept)


def assign_stories(es: Elasticsearch, index: str, previous: str | None = None) -> StoryPass:
    """Settle the story of every pending article of `index` (see the module docstring); `previous` is the index a
    rebuild replaces, whose stories unchanged articles keep."""
    kept = _carry_over(es, index, previous) if previous else 0
    graph = StoryGraph()
    joined = 0
    with Pages(es, index, size=PAGE, query=PENDING, source_includes=SIGNATURE_FIELDS) as pages:
        for hits in pages:
            for hit in hits:
                item = entry(hit)
                graph.add(Entry(item.doc_id, item.published_at, None))
            joined += _link(es, index, graph, hits)
    stories = graph.stories()
    if stories:
        _send(es, index, stories.items())
    return StoryPass(len(stories) + kept, len(set(stories.values())), joined, kept)
