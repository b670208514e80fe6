"""Story ids in the index: the post-pass that settles the ``story`` of newly indexed articles.

A load indexes every article with its signature fields (:func:`indexer.document.story_fields`) and a
provisional ``story``, its own id. The index's ``_meta`` records until when stories are settled
(:data:`SETTLED_META`): an article indexed at or after that time (``indexed_at``) is new. After the load's
refresh, :func:`assign_stories` reads the new articles a page at a time and looks up each one's candidates: a
query for any of its LSH band keys (``story_bands``) among articles published within
:data:`indexer.stories.WINDOW` of it (or undated), best matching bands first. Each candidate is verified with
:func:`indexer.stories.is_copy` on the stored signatures; a new candidate is a copy within the run
(:meth:`~indexer.stories.StoryGraph.link`), a settled one a stored story to join
(:meth:`~indexer.stories.StoryGraph.join`). The graph holds ids and times only. Then the mark moves to the
time the pass began.

Writing the final ids. ``chars.*`` and ``words.*`` are left out of ``_source``, so a partial update (which
rebuilds the document from ``_source``) would drop them. The articles whose story differs from the stored one
(copies: a few per cent) are rebuilt from ``_source`` with the indexer's segmenter, as a rebuild does, and
indexed again with their version and ``indexed_at``. No script, no ingest pipeline, no ``_reindex``.

An interrupted load leaves its articles with valid singleton stories and the mark where it was: the next load
settles them with its own. A rebuild copies ``story`` with each stored document; an article loaded again
from its file during a rebuild keeps the story it had in the old index when its signature is the same
(``previous``), and only the others are new.

Two loads running at once each settle what they see as new; an article of one that the other's pass did not
see yet is settled by its own pass, but two copies loaded by the two at the same moment can end in two stories.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.document import SourceFile, article_from_source, build_document
from indexer.errors import IndexerError
from indexer.paging import Pages
from indexer.query import DATE_FIELD
from indexer.segment import Segmenter
from indexer.stories import STORY_VERSION, WINDOW, Entry, Signature, StoryGraph, is_copy

PAGE = 200
"""New articles read, and looked up in one ``_msearch``, at a time."""
CANDIDATES = 100
"""Most candidates looked at per article (those sharing the most band keys)."""
SIGNATURE_FIELDS = [DATE_FIELD, "story", "story_bands", "story_minhash", "story_size", "story_numbers"]
SETTLED_META = "stories_settled_before"
"""``_meta`` key: the stories of articles indexed before this time (ISO, milliseconds) are settled."""
VERSION_META = "story_version"
"""``_meta`` key: the :data:`indexer.stories.STORY_VERSION` the stories were settled with."""


@dataclass(frozen=True, slots=True)
class StoryPass:
    """What a post-pass did: ``articles`` new ones settled in ``stories`` distinct stories, of which ``joined``
    joined a story stored before and ``kept`` kept their story from the previous index; ``rewritten``
    documents were indexed again with a new story; ``elapsed`` seconds."""

    articles: int = 0
    stories: int = 0
    joined: int = 0
    kept: int = 0
    rewritten: int = 0
    elapsed: float = 0.0


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def entry(hit: dict[str, Any]) -> Entry:
    """The story rules' view of a stored article (its signature, when it has one)."""
    source = hit.get("_source", {})
    found = None
    if "story_minhash" in source:
        found = Signature.decode(source["story_minhash"], source["story_size"], source.get("story_numbers", ()))
    return Entry(hit["_id"], _time(source.get(DATE_FIELD)), found, source.get("story"))


def settled_before(es: Elasticsearch, index: str) -> str | None:
    """Until when the stories of `index` are settled; None when never (every article is new)."""
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    return meta.get(SETTLED_META)


def _mark_settled(es: Elasticsearch, index: str, moment: str) -> None:
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    if meta.get(SETTLED_META, "") < moment:
        es.indices.put_mapping(index=index, meta={**meta, SETTLED_META: moment, VERSION_META: STORY_VERSION})


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


def _link(es: Elasticsearch, index: str, graph: StoryGraph, hits: list[dict[str, Any]], new: set[str]) -> set[str]:
    """Find and verify the copies of one page of new articles; returns those that joined a stored story."""
    asked = [(entry(hit), hit["_source"]["story_bands"]) for hit in hits if hit["_source"].get("story_bands")]
    joined: set[str] = set()
    if not asked:
        return joined
    searches: list[dict[str, Any]] = []
    for item, bands in asked:
        searches += [
            {"index": index},
            {"query": candidates_query(item, bands), "size": CANDIDATES, "_source": SIGNATURE_FIELDS},
        ]
    for (item, _), response in zip(asked, es.msearch(searches=searches)["responses"], strict=True):
        if "error" in response:
            raise IndexerError(f"looking up the copies of {item.doc_id} failed: {response['error']}")
        for raw in response["hits"]["hits"]:
            other = entry(raw)
            if not is_copy(item, other):
                continue
            if other.doc_id in new:
                graph.link(item.doc_id, other.doc_id)
            else:
                graph.join(item.doc_id, other)
                joined.add(item.doc_id)
    return joined


def _rewrites(es: Elasticsearch, index: str, segmenter: Segmenter, stories: dict[str, str]) -> Iterator[dict[str, Any]]:
    ids = list(stories)
    for start in range(0, len(ids), PAGE):
        for doc in es.mget(index=index, ids=ids[start : start + PAGE])["docs"]:
            if not doc.get("found"):
                continue
            source = doc["_source"]
            origin = source.get("source")
            document = build_document(article_from_source(source), segmenter, SourceFile(**origin) if origin else None)
            document |= {"story": stories[doc["_id"]], "indexed_at": source.get("indexed_at", document["indexed_at"])}
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": doc["_id"],
                "version": doc["_version"],
                "version_type": "external_gte",
                "_source": document,
            }


def _rewrite(es: Elasticsearch, index: str, segmenter: Segmenter, stories: dict[str, str]) -> int:
    """Index the documents again with their new story; a document replaced meanwhile by a newer version (409)
    is left alone (it is new for the next pass). Returns how many were written."""
    if not stories:
        return 0
    written, errors = helpers.bulk(
        es, _rewrites(es, index, segmenter, stories), raise_on_error=False, chunk_size=500, stats_only=False
    )
    assert isinstance(errors, list)  # stats_only=False: the failed items themselves
    failed = [error for error in errors if next(iter(error.values())).get("status") != 409]
    if failed:
        raise IndexerError(f"{len(failed):,} story updates failed in {index}, the first: {failed[0]}")
    es.indices.refresh(index=index)
    return written


def _new_articles(es: Elasticsearch, index: str, since: str | None) -> Pages:
    query = {"range": {"indexed_at": {"gte": since}}} if since else {"match_all": {}}
    return Pages(es, index, size=PAGE, query=query, source_includes=SIGNATURE_FIELDS)


def _carry_over(es: Elasticsearch, index: str, previous: str, hits: list[dict[str, Any]]) -> dict[str, str]:
    """The articles of one page whose signature equals that of their copy in `previous`, with its story."""
    old = es.mget(index=previous, ids=[hit["_id"] for hit in hits], source_includes=["story", "story_minhash"])
    kept = {}
    for hit, doc in zip(hits, old["docs"], strict=True):
        stored = doc.get("_source", {})
        if (
            doc.get("found")
            and "story" in stored
            and stored.get("story_minhash") == hit["_source"].get("story_minhash")
        ):
            kept[hit["_id"]] = stored["story"]
    return kept


def assign_stories(
    es: Elasticsearch, index: str, segmenter: Segmenter, since: str | None = None, previous: str | None = None
) -> StoryPass:
    """Settle the story of every article of `index` indexed at or after `since` (:func:`settled_before`, read
    before the load began; None: every article), see the module docstring. `previous` is the index a rebuild
    replaces: its articles with an unchanged signature keep their story there."""
    began = datetime.now(UTC).isoformat(timespec="milliseconds")
    started = time.monotonic()
    graph = StoryGraph()
    stored: dict[str, str | None] = {}  # the new articles, and the story each has in the index now
    kept = 0
    moved: dict[str, str] = {}
    with _new_articles(es, index, since) as pages:
        for hits in pages:
            carried = _carry_over(es, index, previous, hits) if previous else {}
            kept += len(carried)
            for hit in hits:
                item = entry(hit)
                if item.doc_id in carried:
                    if carried[item.doc_id] != item.story:
                        moved[item.doc_id] = carried[item.doc_id]
                else:
                    stored[item.doc_id] = item.story
                    graph.add(Entry(item.doc_id, item.published_at, None))
    rewritten = _rewrite(es, index, segmenter, moved)
    new = set(stored)
    joined: set[str] = set()
    with _new_articles(es, index, since) as pages:
        for hits in pages:
            joined |= _link(es, index, graph, [hit for hit in hits if hit["_id"] in new], new)
    stories = graph.stories()
    changed = {doc_id: story for doc_id, story in stories.items() if story != stored[doc_id]}
    rewritten += _rewrite(es, index, segmenter, changed)
    _mark_settled(es, index, began)
    elapsed = time.monotonic() - started
    return StoryPass(len(stories), len(set(stories.values())), len(joined), kept, rewritten, elapsed)
