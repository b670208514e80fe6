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
from typing import Any, get_args
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.choices import Interval, Sort, TermField
from indexer.client import connect
from indexer.config import Settings
from indexer.errors import IndexerError, IndexMissing, QueryError
from indexer.highlight import Fragment, Needle, fragments, needle
from indexer.mapping import IndexMeta
from indexer.paging import KEEP_ALIVE, PAGE_SIZE, Pages
from indexer.query import DATE_FIELD, KEYWORD_FIELDS, Query, parse, to_dsl
from indexer.segment import Segmenter, get_segmenter

SORTS: tuple[str, ...] = get_args(Sort)
INTERVALS: tuple[str, ...] = get_args(Interval)
TERM_FIELDS: dict[str, str] = {name: KEYWORD_FIELDS[name] for name in get_args(TermField)}
"""``indexer terms --field`` names and the keyword fields they count."""
MAX_WINDOW = 10_000
"""Elasticsearch's default ``index.max_result_window``: offset + limit beyond it needs ``stream``."""
LISTING_FIELDS = ("id", "outlet", "url", "title", DATE_FIELD)
"""What a hit shows."""
SOURCE_FIELDS = (*LISTING_FIELDS, "body", "headings", "images", "gallery_title", "gallery", "links")
"""What a highlighted hit needs from ``_source``: the listing fields and every displayed text."""
LABELS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


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

    def published(self, timezone: str = "UTC") -> datetime | None:
        """The publish time in `timezone`."""
        return local_time(self.published_at, timezone)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of hits and the exact number of matching articles."""

    total: int
    hits: list[Hit]
    took_ms: int = 0


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
    """Articles published in the period starting at ``start``."""

    start: datetime
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Histogram:
    """Matching articles per period, empty periods included; ``undated`` ones have no publish time."""

    interval: str
    total: int
    buckets: list[Bucket]

    @property
    def undated(self) -> int:
        return self.total - sum(bucket.count for bucket in self.buckets)


@dataclass(frozen=True, slots=True)
class TermCounts:
    """The most frequent values of a keyword field among the matching articles."""

    field: str
    total: int
    values: list[tuple[str, int]]
    other: int = 0
    missing: int = 0
    error_bound: int = 0


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """One article as stored: its ``_id``, index and ``_source``."""

    id: str
    index: str
    source: dict[str, Any] = field(default_factory=dict)


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

    def _matching(self, query: Query) -> dict[str, Any]:
        """The query without its ranking clauses, for counts and aggregations: scores don't change which
        articles match, so the words of the terms (the segmenter's dictionary) aren't needed."""
        return to_dsl(query, _NO_WORDS)

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
        self, query: Query, sort: Sort = "relevance", limit: int = 10, offset: int = 0, highlight: bool = True
    ) -> Page:
        """One page of hits, best first (or by date), with the exact total."""
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
        )
        needles = _needles(query) if highlight else []
        hits = [_hit(raw, needles) for raw in answer["hits"]["hits"]]
        return Page(answer["hits"]["total"]["value"], hits, answer.get("took", 0))

    def count(self, query: Query) -> int:
        """The exact number of matching articles."""
        return int(self.es.count(index=self._alias(), query=self._matching(query))["count"])

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

    def histogram(self, query: Query, interval: Interval = "month") -> Histogram:
        """Matching articles per day/week/month/year in the configured time zone, empty periods included."""
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
            query=self._matching(query),
            size=0,
            track_total_hits=True,
            aggs={"periods": {"date_histogram": spec}},
        )
        zone = ZoneInfo(self.settings.timezone)
        buckets = []
        for raw in answer["aggregations"]["periods"]["buckets"]:
            start = datetime.fromtimestamp(raw["key"] / 1000, zone)
            buckets.append(Bucket(start, raw["doc_count"], start.strftime(LABELS[interval])))
        return Histogram(interval, answer["hits"]["total"]["value"], buckets)

    def terms(self, query: Query, name: TermField, size: int = 20) -> TermCounts:
        """The `size` most frequent values of person/place/org/outlet/keyword among the matching articles."""
        if name not in TERM_FIELDS:
            raise QueryError(f"unknown field {name!r}: use one of {', '.join(TERM_FIELDS)}")
        if size < 1:
            raise QueryError("the number of values must be at least 1")
        target = TERM_FIELDS[name]
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
        return StoredArticle(hits[0]["_id"], hits[0]["_index"], hits[0]["_source"])


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _url_variants(url: str) -> list[str]:
    """The URL as given, percent-decoded and re-encoded, under both schemes (feeds store either form)."""
    rest = url.split("://", 1)[1]
    forms = {rest, unquote(rest), quote(unquote(rest), safe=":/?&=#%+@,;~!$'()*[]")}
    return sorted(f"{scheme}://{form}" for form in forms for scheme in ("http", "https"))


class _NoWords:
    """A word splitter that finds no words: :func:`indexer.query.to_dsl` then adds no ranking clause."""

    def words(self, text: str) -> list[str]:
        return []


_NO_WORDS = _NoWords()


def _needles(query: Query) -> list[Needle]:
    return [needle(term.text, term.fields) for term in query.text_terms()]


def _hit(raw: dict[str, Any], needles: Sequence[Needle]) -> Hit:
    source = raw.get("_source", {})
    found: list[Fragment] = []
    if needles:
        from indexer.document import article_from_source, field_texts  # the parser's types: not for counts

        texts = field_texts(article_from_source(source))
        title = texts.pop("title")
        found = fragments({"title": title}, needles, count=1, size=max(map(len, title), default=1))
        found += fragments(texts, needles)
    return Hit(
        id=raw["_id"],
        url=source.get("url", ""),
        title=source.get("title", ""),
        outlet=source.get("outlet", ""),
        published_at=source.get(DATE_FIELD),
        score=raw.get("_score"),
        fragments=tuple(found),
    )
