"""Searching the index behind an alias: a page of hits, exact counts, every hit streamed, histograms, top terms
and one stored article.

Queries come from :func:`indexer.query.parse`; highlights are computed here from ``_source`` with
:mod:`indexer.highlight`. Before the first query the alias passes the ownership check of
:func:`indexer.lifecycle.existing` (a missing index is IndexMissing); client errors are let through for
:func:`indexer.client.explain` to turn into one line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.client import connect
from indexer.config import Settings
from indexer.document import article_from_source, field_texts
from indexer.errors import IndexerError, IndexMissing, QueryError
from indexer.highlight import Fragment, Needle, fragments, needle
from indexer.mapping import IndexMeta
from indexer.paging import KEEP_ALIVE, PAGE_SIZE, Pages
from indexer.query import DATE_FIELD, KEYWORD_FIELDS, Query, parse, to_dsl
from indexer.segment import Segmenter, get_segmenter
from indexer.story_counts import STORY_FIELD, distinct_stories

Sort = Literal["relevance", "newest", "oldest"]
Interval = Literal["day", "week", "month", "year"]
TermField = Literal["person", "place", "org", "outlet", "keyword"]
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
    """Matching articles per period, empty periods included; ``undated`` ones have no publish time.

    With ``unit == "stories"`` the counts are exact numbers of distinct stories: a story with articles in two
    periods counts in both, so the periods can add up to more than ``total``; ``undated`` counts the stories
    with an undated article."""

    interval: str
    total: int
    buckets: list[Bucket]
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


class Searcher:
    """Runs queries against the index behind an alias, with the indexing side's segmenter and dictionaries."""

    def __init__(
        self,
        settings: Settings,
        index: str | None = None,
        es: Elasticsearch | None = None,
        segmenter: Segmenter | None = None,
    ) -> None:
        self.settings = settings
        self.index = index or settings.index
        self.es = es or connect(settings)
        self.segmenter = segmenter or get_segmenter(settings.user_dict, settings.cache_dir)
        self._behind: dict[str, IndexMeta] | None = None

    def _alias(self) -> str:
        """The alias to query, once it passed the ownership check (:func:`indexer.lifecycle.existing`)."""
        if self._behind is None:
            self._behind = lifecycle.existing(self.es, self.index)
        return self.index

    def parse(
        self,
        text: str,
        outlets: Sequence[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        allow_empty: bool = False,
    ) -> Query:
        """Parse query text with the configured time zone (see :func:`indexer.query.parse`)."""
        return parse(text, self.settings.timezone, outlets, date_from, date_to, allow_empty)

    def dsl(self, query: Query) -> dict[str, Any]:
        return to_dsl(query, self.segmenter)

    def version_warning(self) -> str | None:
        """Why results may be off when the index was built with another mapping or analysis version (dictionaries,
        normalization rules) than this searcher uses; None when they agree, or when the index doesn't exist."""
        try:
            self._alias()
        except IndexMissing:
            return None
        assert self._behind is not None
        reasons = {
            f"{name} was {reason}"
            for name, meta in self._behind.items()
            if (reason := lifecycle.stale_reason(meta, self.segmenter.version))
        }
        if not reasons:
            return None
        return (
            f"{'; '.join(sorted(reasons))}: matches may be missed and ranking be off; "
            f"rebuild it with `indexer reindex --index {self.index}`"
        )

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
        collapse = {"collapse": _collapse()} if unique else {}
        answer = self.es.search(
            index=self._alias(),
            query=self.dsl(query),
            sort=_sort(sort),
            from_=offset,
            size=limit,
            track_total_hits=True,
            source_includes=list(SOURCE_FIELDS if highlight else LISTING_FIELDS),
            **collapse,
        )
        needles = _needles(query) if highlight else []
        hits = [_hit(raw, needles) for raw in answer["hits"]["hits"]]
        stories = self.count_stories(query) if unique else None
        return Page(answer["hits"]["total"]["value"], hits, answer.get("took", 0), stories)

    def count(self, query: Query) -> int:
        """The exact number of matching articles."""
        return int(self.es.count(index=self._alias(), query=self.dsl(query))["count"])

    def count_stories(self, query: Query) -> int:
        """The exact number of distinct stories among the matching articles."""
        return distinct_stories(self.es, self._alias(), self.dsl(query))[None]

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

    def histogram(self, query: Query, interval: Interval = "month", unique: bool = False) -> Histogram:
        """Matching articles per day/week/month/year in the configured time zone, empty periods included; with
        `unique`, exact numbers of distinct stories (see :class:`Histogram`)."""
        if interval not in INTERVALS:
            raise QueryError(f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}")
        spec: dict[str, Any] = {
            "field": DATE_FIELD,
            "calendar_interval": interval,
            "time_zone": self.settings.timezone,
            "min_doc_count": 0,
        }
        bounds = query.date_bounds()
        extended = {"min": bounds.start and _millis(bounds.start), "max": bounds.end and _millis(bounds.end) - 1}
        if any(extended.values()):
            spec["extended_bounds"] = {key: value for key, value in extended.items() if value}
        answer = self.es.search(
            index=self._alias(),
            query=self.dsl(query),
            size=0,
            track_total_hits=True,
            aggs={"periods": {"date_histogram": spec}},
        )
        zone = ZoneInfo(self.settings.timezone)
        raw_buckets = answer["aggregations"]["periods"]["buckets"]
        counts = {raw["key"]: raw["doc_count"] for raw in raw_buckets}
        total = answer["hits"]["total"]["value"]
        undated = total - sum(counts.values())
        if unique:
            group = {key: spec[key] for key in ("field", "calendar_interval", "time_zone")}
            per_period = distinct_stories(self.es, self._alias(), self.dsl(query), {"date_histogram": group})
            undated = per_period.pop(None, 0)
            counts = {key: per_period.get(key, 0) for key in counts}
            total = self.count_stories(query)
        buckets = []
        for key, count in counts.items():
            start = datetime.fromtimestamp(key / 1000, zone)
            buckets.append(Bucket(start, count, start.strftime(LABELS[interval])))
        return Histogram(interval, total, buckets, undated, "stories" if unique else "articles")

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
            query=self.dsl(query),
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
    return [needle(term.text, term.fields) for term in query.text_terms()]


def _hit(raw: dict[str, Any], needles: Sequence[Needle]) -> Hit:
    source = raw.get("_source", {})
    found: list[Fragment] = []
    if needles:
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
