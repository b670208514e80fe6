"""Comparing queries over time, normalized by volume: per period the number of articles under the same filters
(the denominator) and, for each query, its count and its share of them.

Everything comes from one request: a ``date_histogram`` of the filters alone (the same periods, interval and time
zone as :meth:`indexer.search.Searcher.histogram`), with one ``filters`` bucket per query, each the query's full
DSL as ``search --count`` runs it, so every count is exact and equals ``search Q --from P --to P --count``. With
``by`` (outlet or region) each period is also split by that field, exactly (a ``terms`` bucket per value, with
every value returned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, get_args

from indexer.choices import By, Interval
from indexer.errors import QueryError
from indexer.outlet_meta import UNKNOWN
from indexer.query import KEYWORD_FIELDS, DateRange, Query
from indexer.search import Searcher

BY_FIELDS: tuple[str, ...] = get_args(By)
MAX_GROUPS = 1000
"""More outlets or regions than this in one period is an error, not a silently cut list."""


def share(count: int, articles: int) -> float | None:
    """`count` as a fraction of `articles`; None for a period without articles."""
    return count / articles if articles else None


@dataclass(frozen=True, slots=True)
class Cell:
    """The articles of one period (or one group of it) and how many of them each query matches."""

    articles: int
    counts: dict[str, int]

    @property
    def shares(self) -> dict[str, float | None]:
        return {name: share(count, self.articles) for name, count in self.counts.items()}


@dataclass(frozen=True, slots=True)
class Period:
    """One calendar period: its label (as ``histogram`` prints it), start, totals and, with ``by``, its groups."""

    label: str
    start: datetime
    total: Cell
    groups: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Queries compared period by period; ``articles`` and ``undated`` count the articles under the filters."""

    interval: Interval
    queries: tuple[str, ...]
    periods: tuple[Period, ...]
    articles: int
    undated: int
    by: str | None = None
    unit: str = "articles"
    """What is counted: ``articles``, or ``stories`` (distinct stories, exact) with ``unique``."""
    range_reason: str = ""
    """Why the periods start and end where they do (see :func:`indexer.coverage.display_range`)."""
    outside: int = 0
    """Articles (stories with ``unique``) under the filters published outside the display range (outliers)."""

    @property
    def groups(self) -> list[str]:
        """The groups (outlets or regions) that have articles in any period, in order of name."""
        return sorted({name for period in self.periods for name in period.groups})


def _cell(bucket: dict[str, Any], names: Sequence[str]) -> Cell:
    matched = bucket["queries"]["buckets"]
    return Cell(bucket["doc_count"], {name: matched[str(i)]["doc_count"] for i, name in enumerate(names)})


def _groups(bucket: dict[str, Any], names: Sequence[str], by: str) -> dict[str, Cell]:
    groups = bucket["groups"]
    if groups.get("sum_other_doc_count"):
        raise QueryError(f"a period holds more than {MAX_GROUPS} values of {by}: too many to compare")
    return {raw["key"]: _cell(raw, names) for raw in groups["buckets"]}


def compare(
    searcher: Searcher,
    filters: Query,
    queries: Sequence[tuple[str, Query]],
    interval: Interval = "month",
    by: By | None = None,
    unique: bool = False,
    within: DateRange | None = None,
) -> Comparison:
    """Compare `queries` (name and parsed query, each parsed with the same filters) per period of `interval`.

    `filters` is the query of the filters alone (outlets, dates: ``parse("", …, allow_empty=True)``); its articles
    are each period's denominator. Names must be distinct; they key the counts. With `unique` every count is an
    exact number of distinct stories (the denominator too: the stories under the filters); a story with articles
    in two periods counts in both. With `within` (a display range, see :func:`indexer.coverage.comparison`) only
    the periods of the articles published in it are compared, and ``outside`` counts the others.
    """
    names = [name for name, _ in queries]
    if not names:
        raise QueryError("give at least one query to compare")
    if len(set(names)) != len(names):
        raise QueryError("each query may be given once")
    if by is not None and by not in BY_FIELDS:
        raise QueryError(f"cannot split by {by!r}: use one of {', '.join(BY_FIELDS)}")
    if unique and by is not None:
        raise QueryError("stories are counted per period, not per group: compare stories without a split")
    matched = {"filters": {"filters": {str(i): searcher.dsl(query) for i, (_, query) in enumerate(queries)}}}
    inner: dict[str, Any] = {"queries": matched}
    if by is not None:
        terms = {"field": KEYWORD_FIELDS[by], "size": MAX_GROUPS, "missing": UNKNOWN}
        inner["groups"] = {"terms": terms, "aggs": {"queries": matched}}
    histogram = {"date_histogram": searcher.period_spec(filters, interval), "aggs": inner}
    total, aggregations, outside = searcher.aggregate_within(filters, {"periods": histogram}, within)
    periods = []
    for bucket in aggregations["periods"]["buckets"]:
        start, label = searcher.period(bucket["key"], interval)
        groups = _groups(bucket, names, by) if by is not None else {}
        periods.append(Period(label, start, _cell(bucket, names), groups))
    dated = sum(period.total.articles for period in periods)
    comparison = Comparison(interval, tuple(names), tuple(periods), total, total - outside - dated, by, outside=outside)
    return _stories(searcher, comparison, filters, queries, within) if unique else comparison


def _stories(
    searcher: Searcher,
    comparison: Comparison,
    filters: Query,
    queries: Sequence[tuple[str, Query]],
    within: DateRange | None,
) -> Comparison:
    """`comparison` with every count replaced by the exact number of distinct stories (same periods)."""
    interval = comparison.interval
    denominators = searcher.stories_per_period(filters, interval)
    matched = {name: searcher.stories_per_period(query, interval) for name, query in queries}

    def cell(key: int) -> Cell:
        return Cell(denominators.get(key, 0), {name: counts.get(key, 0) for name, counts in matched.items()})

    periods = tuple(replace(period, total=cell(int(period.start.timestamp() * 1000))) for period in comparison.periods)
    stories = searcher.count_stories(filters)
    undated = denominators.get(None, 0)
    outside = searcher.stories_outside(filters, within)
    return replace(comparison, periods=periods, articles=stories, undated=undated, outside=outside, unit="stories")
