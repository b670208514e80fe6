"""Searching the index behind an alias: a page of hits, exact counts, every hit streamed, histograms, top terms
and one stored article.

Queries come from :func:`indexer.query.parse`; highlights are computed here from ``_source`` with
:mod:`indexer.highlight`. Before the first query the alias passes the ownership check of
:func:`indexer.lifecycle.existing` (a missing index is IndexMissing); client errors are let through for
:func:`indexer.client.explain` to turn into one line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.choices import Interval, Sort, TermField
from indexer.client import connect
from indexer.config import Settings
from indexer.counting import AliasReader
from indexer.errors import IndexerError, QueryError
from indexer.highlight import Fragment, Needle, fragments, needle
from indexer.mapping import IndexMeta
from indexer.paging import KEEP_ALIVE, PAGE_SIZE, Pages
from indexer.query import DATE_FIELD, KEYWORD_FIELDS, DateRange, Query, Text, recall_clause, to_dsl
from indexer.segment import Segmenter, get_segmenter
from indexer.story_counts import STORY_FIELD, distinct_stories
from indexer.variants import Variant

SORTS: tuple[str, ...] = get_args(Sort)
INTERVALS: tuple[str, ...] = get_args(Interval)
TERM_FIELDS: dict[str, str] = {name: KEYWORD_FIELDS[name] for name in get_args(TermField)}
"""``indexer terms --field`` names and the keyword fields they count."""
MAX_WINDOW = 10_000
"""Elasticsearch's default ``index.max_result_window``: offset + limit beyond it needs ``stream``."""
LISTING_FIELDS = ("id", "outlet", "url", "title", DATE_FIELD, STORY_FIELD)
"""What a hit shows."""
SOURCE_FIELDS = (*LISTING_FIELDS, "body", "headings", "images", "gallery_title", "gallery", "links")
"""What a highlighted hit needs from ``_source``: the listing fields and every displayed text."""
LABELS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
COPIES = 20
"""Most copies listed with a hit of ``unique`` search, and by :meth:`Searcher.show`."""


def local_time(value: str | None, timezone: str) -> datetime | None:
    """A stored ISO time in `timezone` (None stays None)."""
    return datetime.fromisoformat(value).astimezone(ZoneInfo(timezone)) if value else None


def _sort(sort: str) -> list[dict[str, Any]]:
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    date_order = {"order": "asc" if sort == "oldest" else "desc", "missing": "_last"}
    by_date = {DATE_FIELD: date_order}
    return [{"_score": "desc"}, by_date] if sort == "relevance" else [by_date]


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching article: what a listing shows, and highlighted fragments of its original text."""

    id: str
    url: str
    title: str
    outlet: str
    published_at: str | None
    score: float | None
    fragments: tuple[Fragment, ...] = ()
    story: str = ""
    copies: tuple[Hit, ...] | None = None
    """With ``unique``: the story's other matching articles (at most :data:`COPIES`, earliest first)."""
    copies_total: int = 0
    """With ``unique``: how many other matching articles the story has."""

    def published(self, timezone: str = "UTC") -> datetime | None:
        """The publish time in `timezone`."""
        return local_time(self.published_at, timezone)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of hits and the exact number of matching articles."""

    total: int
    hits: list[Hit]
    took_ms: int = 0
    stories: int | None = None
    """With ``unique``: the exact number of matching stories (hits are one per story)."""


class HitStream:
    """Every hit of a query, fetched a page at a time over a point in time (:class:`indexer.paging.Pages`).

    The exact total is known up front (from the first page). The point in time is released when iteration
    ends, on :meth:`close`, or on leaving a ``with`` block; only one page is held in memory at a time. A stream
    cut off before the end (the point in time expired, the server failed) raises
    :class:`indexer.paging.PagingCut`, which counts the hits delivered before.
    """

    def __init__(self, pages: Pages, needles: Sequence[Needle]) -> None:
        self.total: int = pages.total or 0
        self._pages = pages
        self._needles = needles

    def __iter__(self) -> Iterator[Hit]:
        for raw in self._pages.hits():
            yield _hit(raw, self._needles)

    def close(self) -> None:
        """Release the point in time (idempotent)."""
        self._pages.close()

    def __enter__(self) -> HitStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Bucket:
    """Articles (or stories) published in the period starting at ``start``."""

    start: datetime
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Histogram:
    """Matching articles per period, empty periods included; ``undated`` ones have no publish time, ``outside``
    ones were published outside the range the buckets were limited to.

    With ``unit == "stories"`` the counts are exact numbers of distinct stories: a story with articles in two
    periods counts in both, so the periods can add up to more than ``total``; ``undated`` and ``outside`` count
    the stories with an article undated or outside the range."""

    interval: str
    total: int
    buckets: list[Bucket]
    outside: int = 0
    undated: int = 0
    unit: str = "articles"


@dataclass(frozen=True, slots=True)
class TermCounts:
    """The most frequent values of a keyword field among the matching articles."""

    field: str
    total: int
    values: list[tuple[str, int]]
    other: int = 0
    missing: int = 0
    error_bound: int = 0
    unit: str = "articles"
    """``stories``: exact numbers of distinct stories (a story counts once per value any of its articles has)."""


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """One article as stored: its ``_id``, index and ``_source``."""

    id: str
    index: str
    source: dict[str, Any] = field(default_factory=dict)
    copies: tuple[Hit, ...] = ()
    """The other articles of its story, earliest first (at most :data:`COPIES`)."""


@dataclass(frozen=True, slots=True)
class SpellingCounts:
    """The spellings ``~term`` searches, each with the articles holding it; ``total`` holds any of them."""

    term: str
    counts: list[tuple[Variant, int]]
    total: int
    version: str
    """The table's version (:attr:`indexer.variants.VariantTable.version`), to cite with the counts."""


class Searcher(AliasReader):
    """Runs queries against the index behind an alias, with the indexing side's segmenter and dictionaries."""

    def __init__(
        self,
        settings: Settings,
        index: str | None = None,
        es: Elasticsearch | None = None,
        segmenter: Segmenter | None = None,
    ) -> None:
        super().__init__(settings, index)
        self.es = es or connect(settings)
        self.segmenter = segmenter or get_segmenter(settings.user_dict, settings.cache_dir)
        self._behind: dict[str, IndexMeta] | None = None

    @property
    def analysis_version(self) -> str:
        return self.segmenter.version

    def _alias(self) -> str:
        """The alias to query, once it passed the ownership check (:func:`indexer.lifecycle.existing`)."""
        if self._behind is None:
            self._behind = lifecycle.existing(self.es, self.index)
        return self.index

    def indices(self) -> dict[str, IndexMeta]:
        self._alias()
        assert self._behind is not None
        return dict(self._behind)

    def total(self) -> int:
        """How many articles the index behind the alias holds."""
        return int(self.es.count(index=self._alias())["count"])

    def spelling_counts(self, term: str) -> SpellingCounts:
        """Each regional spelling of `term` (the term first) and how many articles hold it in a displayed field."""
        table = self.variant_table()
        variants = table.expand(term)
        counts = [(variant, self.count(Query(((Text(variant.form),),)))) for variant in variants]
        spellings = tuple(variant.form for variant in variants)
        total = self.count(Query(((Text(term, spellings=spellings),),)))
        return SpellingCounts(term, counts, total, table.version)

    def dsl(self, query: Query) -> dict[str, Any]:
        return to_dsl(query, self.segmenter)

    def search(
        self,
        query: Query,
        sort: Sort = "relevance",
        limit: int = 10,
        offset: int = 0,
        highlight: bool = True,
        unique: bool = False,
    ) -> Page:
        """One page of hits, best first (or by date), with the exact total.

        With `unique`, one hit per story (its best or first article by `sort`), listing the story's other matching
        articles, and the exact number of stories."""
        if limit < 0 or offset < 0:
            raise QueryError("offset and limit must not be negative", param="offset and limit")
        if offset + limit > MAX_WINDOW:
            raise QueryError(
                f"offset + limit may be at most {MAX_WINDOW:,}", "stream() gives every hit", param="offset + limit"
            )
        answer = self.es.search(
            index=self._alias(),
            query=self.dsl(query),
            sort=_sort(sort),
            from_=offset,
            size=limit,
            track_total_hits=True,
            source_includes=list(SOURCE_FIELDS if highlight else LISTING_FIELDS),
            collapse=_collapse() if unique else None,
        )
        needles = _needles(query) if highlight else []
        hits = [_hit(raw, needles) for raw in answer["hits"]["hits"]]
        stories = self.count_stories(query) if unique else None
        return Page(answer["hits"]["total"]["value"], hits, answer.get("took", 0), stories)

    def count(self, query: Query) -> int:
        return int(self.es.count(index=self._alias(), query=self._matching(query))["count"])

    def count_stories(self, query: Query) -> int:
        """The exact number of distinct stories among the matching articles."""
        return distinct_stories(self.es, self._alias(), self.dsl(query))[None]

    def stories_per_period(self, query: Query, interval: Interval) -> Counter[Any]:
        """Exact numbers of distinct stories among the matching articles per period (keyed like ``date_histogram``
        buckets, epoch milliseconds; None for stories with an undated article)."""
        spec = self.period_spec(query, interval)
        group = {key: spec[key] for key in ("field", "calendar_interval", "time_zone")} | {"missing_bucket": True}
        return distinct_stories(self.es, self._alias(), self.dsl(query), {"date_histogram": group})

    def stream(
        self,
        query: Query,
        sort: Sort = "newest",
        page_size: int = PAGE_SIZE,
        highlight: bool = True,
        keep_alive: str = KEEP_ALIVE,
    ) -> HitStream:
        """Every hit in `sort` order, streamed over a point in time that lives `keep_alive` after each page
        (memory stays flat); see :class:`HitStream`."""
        pages = Pages(
            self.es,
            self._alias(),
            size=page_size,
            keep_alive=keep_alive,
            sort=_sort(sort),
            track_total_hits=True,
            query=self.dsl(query),
            source_includes=list(SOURCE_FIELDS if highlight else LISTING_FIELDS),
        )
        return HitStream(pages, _needles(query) if highlight else [])

    def ids(self, query: Query, fields: Sequence[str] = ()) -> Iterator[tuple[str, dict[str, Any]]]:
        """The ``_id`` of every matching article with the doc values of `fields` (first value each), over a point
        in time, in no particular order; no ``_source`` is read."""
        pages = Pages(
            self.es,
            self._alias(),
            query=self.dsl(query),
            source=False,
            docvalue_fields=list(fields),
        )
        with pages:
            for raw in pages.hits():
                values = raw.get("fields", {})
                yield raw["_id"], {name: values[name][0] for name in fields if values.get(name)}

    def sources(
        self, ids: Sequence[str], fields: Sequence[str] = SOURCE_FIELDS, batch: int = 500
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The stored ``_source`` (only `fields`) of the articles `ids`, in the order given; unknown ids are left
        out."""
        for start in range(0, len(ids), batch):
            chunk = list(ids[start : start + batch])
            answer = self.es.search(
                index=self._alias(), query={"ids": {"values": chunk}}, size=len(chunk), source_includes=list(fields)
            )
            found = {raw["_id"]: raw.get("_source", {}) for raw in answer["hits"]["hits"]}
            yield from ((doc_id, found[doc_id]) for doc_id in chunk if doc_id in found)

    def hits(self, ids: Sequence[str]) -> list[Hit]:
        """The listing of the articles `ids` (no highlights), in the order given."""
        return [_hit({"_id": doc_id, "_source": source}, []) for doc_id, source in self.sources(ids, LISTING_FIELDS)]

    def stream_sources(self, query: Query, fields: Sequence[str], sort: Sort = "oldest") -> Pages:
        """Every matching document's ``_source`` `fields`, a page at a time over a point in time (use it in a
        ``with`` block)."""
        return Pages(
            self.es,
            self._alias(),
            sort=_sort(sort),
            track_total_hits=True,
            query=self.dsl(query),
            source_includes=list(fields),
        )

    def period_spec(self, query: Query, interval: Interval) -> dict[str, Any]:
        """The ``date_histogram`` of `histogram` and `compare`: calendar periods in the configured time zone, empty
        ones included, spanning the query's date bounds where it has them."""
        if interval not in INTERVALS:
            raise QueryError(f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}")
        spec: dict[str, Any] = {
            "field": DATE_FIELD,
            "calendar_interval": interval,
            "time_zone": self.settings.timezone,
            "min_doc_count": 0,
        }
        extended = millis_bounds(query.date_bounds())
        if extended:
            spec["extended_bounds"] = extended
        return spec

    def period(self, key: int, interval: Interval) -> tuple[datetime, str]:
        """The start (configured time zone) and label of the period a ``date_histogram`` bucket key stands for."""
        start = datetime.fromtimestamp(key / 1000, ZoneInfo(self.settings.timezone))
        return start, start.strftime(LABELS[interval])

    def aggregate(self, query: Query, aggs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The exact number of matching articles and the `aggs` computed over them."""
        answer = self.es.search(
            index=self._alias(), query=self._matching(query), size=0, track_total_hits=True, aggs=aggs
        )
        return int(answer["hits"]["total"]["value"]), answer["aggregations"]

    def aggregate_within(
        self, query: Query, aggs: dict[str, Any], within: DateRange | None
    ) -> tuple[int, dict[str, Any], int]:
        """Like :meth:`aggregate`, with `aggs` computed only over the matches published within `within` (over all
        of them when None); also returns how many matches were published outside it."""
        if within is None:
            total, found = self.aggregate(query, aggs)
            return total, found, 0
        shown = {"filter": recall_clause(within), "aggs": aggs}
        total, found = self.aggregate(query, {"shown": shown, "outside": {"filter": outside_clause(within)}})
        return total, found["shown"], int(found["outside"]["doc_count"])

    def stories_outside(self, query: Query, within: DateRange | None) -> int:
        """The exact number of distinct stories with a matching article published outside `within` (0 when None)."""
        if within is None:
            return 0
        far = {"bool": {"filter": [self.dsl(query), outside_clause(within)]}}
        return distinct_stories(self.es, self._alias(), far)[None]

    def histogram(
        self, query: Query, interval: Interval = "month", within: DateRange | None = None, unique: bool = False
    ) -> Histogram:
        """Matching articles per day/week/month/year in the configured time zone, empty periods included; with
        `unique`, exact numbers of distinct stories (see :class:`Histogram`).

        The periods run from the first to the last match (or over the query's own date range). With `within`, only
        matches published in that range are bucketed, and the others are counted as ``outside``.
        """
        aggs = {"periods": {"date_histogram": self.period_spec(query, interval)}}
        total, found, outside = self.aggregate_within(query, aggs, within)
        counts = {raw["key"]: raw["doc_count"] for raw in found["periods"]["buckets"]}
        undated = total - outside - sum(counts.values())
        if unique:
            per_period = self.stories_per_period(query, interval)
            undated = per_period.pop(None, 0)
            counts = {key: per_period.get(key, 0) for key in counts}
            outside = self.stories_outside(query, within)
            total = self.count_stories(query)
        buckets = []
        for key, count in counts.items():
            start, label = self.period(key, interval)
            buckets.append(Bucket(start, count, label))
        return Histogram(interval, total, buckets, outside, undated, "stories" if unique else "articles")

    def terms(self, query: Query, name: TermField, size: int = 20, unique: bool = False) -> TermCounts:
        """The `size` most frequent values of person/place/org/outlet/keyword among the matching articles; with
        `unique`, by exact numbers of distinct stories."""
        if name not in TERM_FIELDS:
            raise QueryError(f"unknown field {name!r}: use one of {', '.join(TERM_FIELDS)}")
        if size < 1:
            raise QueryError("the number of values must be at least 1")
        target = TERM_FIELDS[name]
        if unique:
            return self._story_terms(query, name, size)
        answer = self.es.search(
            index=self._alias(),
            query=self._matching(query),
            size=0,
            track_total_hits=True,
            aggs={
                "top": {"terms": {"field": target, "size": size, "show_term_doc_count_error": True}},
                "missing": {"missing": {"field": target}},
            },
        )
        top = answer["aggregations"]["top"]
        return TermCounts(
            field=name,
            total=answer["hits"]["total"]["value"],
            values=[(bucket["key"], bucket["doc_count"]) for bucket in top["buckets"]],
            other=top.get("sum_other_doc_count", 0),
            missing=answer["aggregations"]["missing"]["doc_count"],
            error_bound=top.get("doc_count_error_upper_bound", 0),
        )

    def _story_terms(self, query: Query, name: TermField, size: int) -> TermCounts:
        group = {"terms": {"field": TERM_FIELDS[name], "missing_bucket": True}}
        counts = distinct_stories(self.es, self._alias(), self.dsl(query), group)
        missing = counts.pop(None, 0)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        other = sum(count for _, count in ranked[size:])
        return TermCounts(name, self.count_stories(query), ranked[:size], other, missing, 0, "stories")

    def copies(self, doc_id: str, story: str) -> tuple[Hit, ...]:
        """The other articles of `story` than `doc_id`, earliest first (at most :data:`COPIES`)."""
        answer = self.es.search(
            index=self._alias(),
            query={"bool": {"filter": {"term": {STORY_FIELD: story}}, "must_not": {"ids": {"values": [doc_id]}}}},
            sort=_sort("oldest"),
            size=COPIES,
            source_includes=list(LISTING_FIELDS),
        )
        return tuple(_hit(raw, ()) for raw in answer["hits"]["hits"])

    def show(self, ref: str) -> StoredArticle:
        """One article by ``outlet:id`` (its ``_id``), by the outlet's article id alone, or by its URL."""
        ref = ref.strip()
        if not ref:
            raise QueryError("give an article id (outlet:id, as search prints it) or its URL")
        query: dict[str, Any]
        if ref.startswith(("http://", "https://")):
            what, query = "URL", {"terms": {"url": _url_variants(ref)}}
        elif ":" in ref:
            what, query = "id", {"ids": {"values": [ref]}}
        else:
            what, query = "article id", {"term": {"id": ref}}
        answer = self.es.search(index=self._alias(), query=query, size=5, source_excludes=["chars", "words"])
        hits = answer["hits"]["hits"]
        if not hits:
            raise IndexerError(
                f"no article with {what} {ref!r} in {self.index!r}", "find articles with `indexer search QUERY`"
            )
        if len(hits) > 1:
            ids = ", ".join(hit["_id"] for hit in hits)
            raise IndexerError(f"{what} {ref!r} names several articles: {ids}", "pass one of these ids")
        found = hits[0]
        story = found["_source"].get(STORY_FIELD)
        copies = self.copies(found["_id"], story) if story else ()
        return StoredArticle(found["_id"], found["_index"], found["_source"], copies)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def outside_clause(bounds: DateRange) -> dict[str, Any]:
    """Matches the dated articles published outside `bounds`."""
    return {"bool": {"filter": [{"exists": {"field": DATE_FIELD}}], "must_not": [recall_clause(bounds)]}}


def millis_bounds(bounds: DateRange) -> dict[str, int]:
    """`bounds` as a date_histogram's ``extended_bounds`` (epoch ms, both ends included)."""
    ends = {"min": bounds.start and _millis(bounds.start), "max": bounds.end and _millis(bounds.end) - 1}
    return {key: value for key, value in ends.items() if value}


def _collapse() -> dict[str, Any]:
    """One hit per story; the story's other matching articles as inner hits, earliest first."""
    copies = {"name": "copies", "size": COPIES + 1, "sort": _sort("oldest"), "_source": list(LISTING_FIELDS)}
    return {"field": STORY_FIELD, "inner_hits": copies}


def _url_variants(url: str) -> list[str]:
    """The URL as given, percent-decoded and re-encoded, under both schemes (feeds store either form)."""
    rest = url.split("://", 1)[1]
    forms = {rest, unquote(rest), quote(unquote(rest), safe=":/?&=#%+@,;~!$'()*[]")}
    return sorted(f"{scheme}://{form}" for form in forms for scheme in ("http", "https"))


def _needles(query: Query) -> list[Needle]:
    """One needle per spelling searched: highlights mark whichever matched."""
    return [needle(form, term.fields) for term in query.text_terms() for form in term.forms]


def _hit(raw: dict[str, Any], needles: Sequence[Needle]) -> Hit:
    source = raw.get("_source", {})
    found: list[Fragment] = []
    if needles:
        from indexer.document import article_from_source, field_texts  # the parser's types: not for counts

        texts = field_texts(article_from_source(source))
        title = texts.pop("title")
        found = fragments({"title": title}, needles, count=1, size=max(map(len, title), default=1))
        found += fragments(texts, needles)
    copies = None
    copies_total = 0
    if "inner_hits" in raw:
        inner = raw["inner_hits"]["copies"]["hits"]
        copies = tuple(_hit(other, ()) for other in inner["hits"] if other["_id"] != raw["_id"])[:COPIES]
        copies_total = inner["total"]["value"] - 1
    return Hit(
        id=raw["_id"],
        url=source.get("url", ""),
        title=source.get("title", ""),
        outlet=source.get("outlet", ""),
        published_at=source.get(DATE_FIELD),
        score=raw.get("_score"),
        fragments=tuple(found),
        story=source.get(STORY_FIELD, ""),
        copies=copies,
        copies_total=copies_total,
    )
