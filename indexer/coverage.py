"""Archive coverage: which periods each outlet has articles for, which publish times can't be right, and which range
of dates a histogram should show.

**The dense span** (:func:`dense_span`) is the stretch of days that holds the archive's articles, computed from one
exact per-day count of every dated article. With Q1 and Q3 the days by which a quarter and three quarters of the
dated articles were published, an article is an *outlier* when it was published more than ``max(3 × (Q3 − Q1),
31 days)`` before Q1 or after Q3 (Tukey's "far out" fences, widened to a month for archives that span only a few
days), or after the present moment. The span runs from the first day with articles inside the fences to the end of
the last such day. The rule depends on the archive alone, not on the query or the interval, and a small archive
finds a far-off article as well as a big one (percentile cut-offs would drop the edges of a big one instead).

Counts are exact: terms over outlets with a size above their number (checked), and date histograms, whose bucket
counts are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

from indexer.choices import By, CoverageInterval, Interval
from indexer.compare import Comparison, compare
from indexer.errors import IndexerError, QueryError
from indexer.query import DATE_FIELD, KEYWORD_FIELDS, DateRange, Keyword, Query, recall_clause
from indexer.search import LABELS, Histogram, Searcher, millis_bounds, outside_clause

COVERAGE_INTERVALS: tuple[str, ...] = get_args(CoverageInterval)
FENCE_IQRS = 3.0
"""How many interquartile ranges beyond Q1/Q3 a publish time must lie to be an outlier (Tukey's far-out fence)."""
MIN_FENCE = timedelta(days=31)
"""The fence is never closer to Q1/Q3 than this."""
MAX_OUTLETS = 10_000
"""Terms size for the per-outlet aggregation; an archive with more outlets is refused rather than undercounted."""
OUTLIER_LIMIT = 1_000
"""At most this many outliers are listed (all are counted)."""
OUTLET_FIELD = KEYWORD_FIELDS["outlet"]


@dataclass(frozen=True, slots=True)
class DenseSpan:
    """Where the archive's articles are: [start, end) holds every dated article that is not an outlier."""

    start: datetime
    end: datetime
    inside: int
    dated: int

    def as_range(self) -> DateRange:
        return DateRange(self.start, self.end)

    @property
    def last_day(self) -> datetime:
        """A moment on the span's last day (for showing it)."""
        return self.end - timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Dated:
    """One article and its publish time."""

    id: str
    outlet: str
    published: datetime
    title: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of consecutive periods without articles: ``periods`` periods from ``first`` to ``last`` (labels)."""

    first: str
    last: str
    periods: int


@dataclass(frozen=True, slots=True)
class OutletCoverage:
    """One outlet: articles per period of the dense span (aligned with :attr:`Coverage.periods`), its first and
    last article inside the span, the periods without articles between them, and what lies outside."""

    outlet: str
    total: int
    counts: list[int]
    first: Dated | None
    last: Dated | None
    empty: list[str]
    longest_gap: Gap | None
    outliers: int
    undated: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """Articles per outlet per period over the archive's dense span, the outliers, and the undated articles."""

    interval: str
    periods: list[datetime]
    labels: list[str]
    span: DenseSpan | None
    outlets: list[OutletCoverage]
    outliers: list[Dated]
    outlier_total: int

    @property
    def total(self) -> int:
        return sum(outlet.total for outlet in self.outlets)

    @property
    def undated(self) -> int:
        return sum(outlet.undated for outlet in self.outlets)


@dataclass(frozen=True, slots=True)
class DisplayRange:
    """The dates a chart of a query shows: ``within`` for :meth:`Searcher.histogram` (None: the query's own date
    range, or everything), and why."""

    within: DateRange | None
    reason: str
    span: DenseSpan | None = None


@dataclass(frozen=True, slots=True)
class ShownHistogram:
    """A histogram over its display range; ``archived[i]`` counts every article (matching or not) of ``outlets``
    (all outlets when empty) in bucket i, so a period with 0 there lies outside their coverage."""

    histogram: Histogram
    shown: DisplayRange
    outlets: tuple[str, ...]
    archived: list[int]

    @property
    def uncovered(self) -> list[str]:
        """Labels of the periods the archive holds no article of the outlets for."""
        return [bucket.label for bucket, held in zip(self.histogram.buckets, self.archived, strict=True) if not held]


def _periods(searcher: Searcher, interval: str, min_doc_count: int) -> dict[str, Any]:
    """A date histogram of publish times per `interval` in the configured time zone."""
    return {
        "date_histogram": {
            "field": DATE_FIELD,
            "calendar_interval": interval,
            "time_zone": searcher.settings.timezone,
            "min_doc_count": min_doc_count,
        }
    }


def _period_counts(searcher: Searcher, interval: str, outlets: Sequence[str] = ()) -> dict[int, int]:
    """Articles of `outlets` (all when empty) per non-empty period, by the period's start in epoch ms."""
    answer = searcher.es.search(
        index=searcher._alias(),
        size=0,
        query={"bool": {"filter": _outlet_filter(outlets)}},
        aggs={"periods": _periods(searcher, interval, 1)},
    )
    return {raw["key"]: raw["doc_count"] for raw in answer["aggregations"]["periods"]["buckets"]}


def _quantile_day(days: list[tuple[datetime, int]], share: float, dated: int) -> datetime:
    seen = 0
    for day, count in days:
        seen += count
        if seen >= share * dated:
            return day
    return days[-1][0]


def dense_span(searcher: Searcher, now: datetime | None = None) -> DenseSpan | None:
    """The archive's dense span (see the module docstring); None when no article has a publish time."""
    zone = ZoneInfo(searcher.settings.timezone)
    days = [(_moment(key, zone), count) for key, count in sorted(_period_counts(searcher, "day").items())]
    if not days:
        return None
    now = now or datetime.now(zone)
    dated = sum(count for _, count in days)
    q1, q3 = _quantile_day(days, 0.25, dated), _quantile_day(days, 0.75, dated) + timedelta(days=1)
    fence = max((q3 - q1) * FENCE_IQRS, MIN_FENCE)
    inside = [(day, count) for day, count in days if q1 - fence <= day < q3 + fence and day <= now]
    if not inside:
        return None
    end = min(inside[-1][0] + timedelta(days=1), now)
    return DenseSpan(inside[0][0], end, sum(count for _, count in inside), dated)


def outlets_asked(query: Query) -> tuple[str, ...]:
    """The outlets a query is limited to (its groups of ``outlet:`` terms only); () when it isn't."""
    asked: set[str] | None = None
    for group in query.groups:
        if all(isinstance(term, Keyword) and term.field == OUTLET_FIELD for term in group):
            values = {term.value for term in group if isinstance(term, Keyword)}
            asked = values if asked is None else asked & values
    return tuple(sorted(asked or ()))


def _outlet_filter(outlets: Sequence[str]) -> list[dict[str, Any]]:
    return [{"terms": {OUTLET_FIELD: list(outlets)}}] if outlets else []


def _dated(raw: dict[str, Any], zone: ZoneInfo) -> Dated:
    source = raw["_source"]
    published = datetime.fromisoformat(source[DATE_FIELD]).astimezone(zone)
    return Dated(raw["_id"], source.get(OUTLET_FIELD, ""), published, source.get("title", ""))


def _edge(order: str) -> dict[str, Any]:
    return {"top_hits": {"size": 1, "sort": [{DATE_FIELD: order}], "_source": [DATE_FIELD, OUTLET_FIELD, "title"]}}


def _gaps(counts: list[int], labels: list[str]) -> tuple[list[str], Gap | None]:
    """The empty periods between the first and the last non-empty one, and the longest run of them."""
    filled = [index for index, count in enumerate(counts) if count]
    if not filled:
        return [], None
    empty = [index for index in range(filled[0], filled[-1] + 1) if not counts[index]]
    best: Gap | None = None
    run_start = None
    for index in range(filled[0], filled[-1] + 2):
        if index <= filled[-1] and not counts[index]:
            run_start = index if run_start is None else run_start
            continue
        if run_start is not None and (best is None or index - run_start > best.periods):
            best = Gap(labels[run_start], labels[index - 1], index - run_start)
        run_start = None
    return [labels[index] for index in empty], best


def coverage(
    searcher: Searcher, interval: CoverageInterval = "month", outlets: Sequence[str] = (), now: datetime | None = None
) -> Coverage:
    """Articles per outlet per period over the dense span, per-outlet first/last article, gaps, outliers and undated
    articles; `outlets` limits the report (an outlet without articles is listed with zero)."""
    if interval not in COVERAGE_INTERVALS:
        raise QueryError(f"unknown interval {interval!r}: use one of {', '.join(COVERAGE_INTERVALS)}")
    span = dense_span(searcher, now)
    zone = ZoneInfo(searcher.settings.timezone)
    in_span: dict[str, Any] = {"filter": recall_clause(span.as_range()) if span else {"match_none": {}}}
    grid = _periods(searcher, interval, 0)
    if span:
        grid["date_histogram"]["extended_bounds"] = millis_bounds(span.as_range())
    per_outlet = {
        **in_span,
        "aggs": {
            "periods": _periods(searcher, interval, 1),
            "first": _edge("asc"),
            "last": _edge("desc"),
        },
    }
    answer = searcher.es.search(
        index=searcher._alias(),
        size=0,
        track_total_hits=True,
        query={"bool": {"filter": _outlet_filter(outlets)}},
        aggs={
            "grid": {**in_span, "aggs": {"periods": grid}},
            "outlets": {
                "terms": {"field": OUTLET_FIELD, "size": MAX_OUTLETS, "min_doc_count": 1},
                "aggs": {
                    "span": per_outlet,
                    "undated": {"missing": {"field": DATE_FIELD}},
                    **({"outside": {"filter": outside_clause(span.as_range())}} if span else {}),
                },
            },
        },
    )
    aggs = answer["aggregations"]
    if aggs["outlets"].get("sum_other_doc_count"):
        raise IndexerError(f"the index holds more than {MAX_OUTLETS:,} outlets: coverage can't count them exactly")
    periods = [_moment(raw["key"], zone) for raw in aggs["grid"]["periods"]["buckets"]]
    labels = [start.strftime(LABELS[interval]) for start in periods]
    position = {raw["key"]: index for index, raw in enumerate(aggs["grid"]["periods"]["buckets"])}
    rows = {bucket["key"]: _outlet_row(bucket, labels, position, zone) for bucket in aggs["outlets"]["buckets"]}
    for name in outlets:
        rows.setdefault(name, _outlet_row({"key": name, "doc_count": 0}, labels, position, zone))
    listed, outlier_total = _outliers(searcher, span, outlets, zone) if span else ([], 0)
    ordered = sorted(rows.values(), key=lambda row: (-row.total, row.outlet))
    return Coverage(interval, periods, labels, span, ordered, listed, outlier_total)


def _outlet_row(bucket: dict[str, Any], labels: list[str], position: dict[int, int], zone: ZoneInfo) -> OutletCoverage:
    counts = [0] * len(labels)
    in_span = bucket.get("span", {})
    for raw in in_span.get("periods", {}).get("buckets", []):
        counts[position[raw["key"]]] = raw["doc_count"]
    edges = [in_span.get(name, {}).get("hits", {}).get("hits", []) for name in ("first", "last")]
    first, last = (_dated(hits[0], zone) if hits else None for hits in edges)
    empty, longest = _gaps(counts, labels)
    return OutletCoverage(
        outlet=bucket["key"],
        total=bucket["doc_count"],
        counts=counts,
        first=first,
        last=last,
        empty=empty,
        longest_gap=longest,
        outliers=bucket.get("outside", {}).get("doc_count", 0),
        undated=bucket.get("undated", {}).get("doc_count", 0),
    )


def _outliers(searcher: Searcher, span: DenseSpan, outlets: Sequence[str], zone: ZoneInfo) -> tuple[list[Dated], int]:
    answer = searcher.es.search(
        index=searcher._alias(),
        query={"bool": {"filter": [*_outlet_filter(outlets), outside_clause(span.as_range())]}},
        sort=[{DATE_FIELD: "asc"}],
        size=OUTLIER_LIMIT,
        track_total_hits=True,
        source_includes=[DATE_FIELD, OUTLET_FIELD, "title"],
    )
    hits = answer["hits"]
    return [_dated(raw, zone) for raw in hits["hits"]], hits["total"]["value"]


def display_range(searcher: Searcher, query: Query, now: datetime | None = None) -> DisplayRange:
    """What range of dates a chart of `query` shows by default: the query's own dates when it has any (--from/--to
    or date:), otherwise the archive's dense span, so the chart starts at the first period with a match inside it
    rather than at a far-off outlier. Pass ``within`` to :meth:`Searcher.histogram`."""
    bounds = query.date_bounds()
    if bounds.start or bounds.end:
        return DisplayRange(None, "the dates asked for")
    span = dense_span(searcher, now)
    if span is None:
        return DisplayRange(None, "no article has a publish time")
    reason = (
        f"from the first match inside the archive's dense span, {span.start:%Y-%m-%d} to "
        f"{span.last_day:%Y-%m-%d} ({span.inside:,} of {span.dated:,} dated articles); "
        "publish times far outside it are outliers"
    )
    return DisplayRange(span.as_range(), reason, span)


def comparison(
    searcher: Searcher,
    filters: Query,
    queries: Sequence[tuple[str, Query]],
    interval: Interval = "month",
    by: By | None = None,
    unique: bool = False,
    now: datetime | None = None,
) -> Comparison:
    """:func:`indexer.compare.compare` over the :func:`display_range` of `filters`: the periods a histogram of
    them shows by default, with why and what lies outside."""
    shown = display_range(searcher, filters, now)
    return replace(compare(searcher, filters, queries, interval, by, unique, shown.within), range_reason=shown.reason)


def histogram(
    searcher: Searcher,
    query: Query,
    interval: Interval = "month",
    now: datetime | None = None,
    unique: bool = False,
) -> ShownHistogram:
    """The histogram of `query` (of its distinct stories with `unique`) over its :func:`display_range`, with the
    archive's own count of articles per period for the outlets the query is limited to."""
    shown = display_range(searcher, query, now)
    counts = searcher.histogram(query, interval, shown.within, unique)
    outlets = outlets_asked(query)
    archived = _period_counts(searcher, interval, outlets)
    held = [archived.get(int(bucket.start.timestamp() * 1000), 0) for bucket in counts.buckets]
    return ShownHistogram(counts, shown, outlets, held)


def _moment(millis: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(millis / 1000, zone)
