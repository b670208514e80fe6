"""Rendering results: rich tables for people, JSON / JSON Lines / CSV for programs.

Text from articles is data, and is never let act on the reader's terminal or spreadsheet:

- Table cells and ``show`` are built as :class:`rich.text.Text` (never markup strings), with terminal control
  characters removed (:func:`terminal_safe`: escape sequences such as ``ESC ]0;…`` or ``ESC [2J``, and the other
  C0 and C1 controls), so a title can't retitle the window, clear the screen or move the cursor.
- CSV cells that a spreadsheet would run as a formula get a leading ``'`` (:func:`csv_safe`, the OWASP rule).
- JSON and JSON Lines keep the text exactly as stored (control characters escaped by JSON itself). JSON carries
  highlight fragments HTML-escaped with matches in ``<em>…</em>``; CSV carries them as plain text.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from indexer.article import TIME_SOURCES
from indexer.compare import Cell, Comparison, share
from indexer.highlight import Fragment
from indexer.search import Histogram, Hit, Page, StoredArticle, TermCounts, local_time

if TYPE_CHECKING:
    from indexer.ingest import Summary

MATCH_STYLE = "bold black on yellow"
HIT_COLUMNS = ("id", "published_at", "outlet", "title", "url", "score", "highlight")
BAR_WIDTH = 40
_CONTROLS = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (7- or 8-bit): parameters, intermediates, final byte
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, DCS, SOS, PM, APC
    r"|\x1b.?"  # any other escape and the character it introduces
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # the other C0 controls (tab and newline stay), DEL, C1 controls
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""


def terminal_safe(text: str) -> str:
    """`text` without terminal escape sequences and control characters (tab and newline kept)."""
    return _CONTROLS.sub("", text)


def csv_safe(value: Any) -> Any:
    """A CSV cell that can't start a formula: text starting with = + - @ tab or CR gets a leading ``'``."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_row(writer: Any, row: Iterable[Any]) -> None:
    writer.writerow([csv_safe(value) for value in row])


def _text(value: Any, style: str = "") -> Text:
    return Text(terminal_safe(str(value)), style=style)


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit as JSON: listing fields and highlight fragments (``{"field", "fragment"}``)."""
    return {
        "id": hit.id,
        "url": hit.url,
        "title": hit.title,
        "published_at": hit.published_at,
        "outlet": hit.outlet,
        "score": hit.score,
        "highlights": [{"field": f.field, "fragment": f.marked()} for f in hit.fragments],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_json(total: int, hits: Iterable[Hit], out: IO[str]) -> None:
    """``{"total": N, "hits": [...]}``, written hit by hit (so a streamed --all keeps memory flat)."""
    out.write(f'{{"total": {total}, "hits": [')
    for number, hit in enumerate(hits):
        out.write(("," if number else "") + "\n  " + _dumps(hit_dict(hit)))
    out.write("\n]}\n")


def write_jsonl(hits: Iterable[Hit], out: IO[str]) -> int:
    """One JSON object per hit and line; returns how many were written."""
    written = 0
    for hit in hits:
        out.write(_dumps(hit_dict(hit)) + "\n")
        written += 1
    return written


def write_csv(hits: Iterable[Hit], out: IO[str]) -> None:
    """A header and one row per hit; ``highlight`` is the best fragments as plain text, joined by ' | '."""
    writer = csv.writer(out)
    writer.writerow(HIT_COLUMNS)
    for hit in hits:
        fragments = " | ".join(f.marked("", "", escape=False) for f in hit.fragments)
        score = "" if hit.score is None else hit.score
        _csv_row(writer, [hit.id, hit.published_at or "", hit.outlet, hit.title, hit.url, score, fragments])


def marked_text(fragment: Fragment, style: str = MATCH_STYLE) -> Text:
    """A fragment as rich Text with its matches styled (control characters removed)."""
    text = Text("…" if fragment.cut_before else "")
    position = 0
    for start, end in fragment.spans:
        text.append(terminal_safe(fragment.text[position:start]))
        text.append(terminal_safe(fragment.text[start:end]), style=style)
        position = end
    text.append(terminal_safe(fragment.text[position:]))
    if fragment.cut_after:
        text.append("…")
    return text


def best_fragment(hit: Hit) -> Fragment | None:
    """The first fragment outside the title (the title has its own column)."""
    return next((f for f in hit.fragments if f.field != "title"), None)


def hits_table(page: Page, timezone: str, offset: int = 0) -> Table:
    """Date, outlet, title and the best fragment of each hit, matches in colour."""
    shown = f"{offset + 1:,}–{offset + len(page.hits):,} of " if page.hits else ""
    table = Table(title=f"{shown}{page.total:,} articles", title_justify="left", show_lines=True)
    table.add_column("date", no_wrap=True)
    table.add_column("outlet", no_wrap=True)
    table.add_column("title", ratio=1, overflow="fold")
    table.add_column("match", ratio=2, overflow="fold")
    for hit in page.hits:
        published = hit.published(timezone)
        title = next((marked_text(f) for f in hit.fragments if f.field == "title"), _text(hit.title))
        fragment = best_fragment(hit)
        table.add_row(
            published.strftime("%Y-%m-%d %H:%M") if published else "-",
            _text(hit.outlet),
            Group(title, _text(hit.id, style="dim")),
            marked_text(fragment) if fragment else Text(""),
        )
    return table


def histogram_rows(histogram: Histogram) -> list[dict[str, Any]]:
    return [
        {"period": bucket.label, "start": bucket.start.isoformat(), "count": bucket.count}
        for bucket in histogram.buckets
    ]


def histogram_json(histogram: Histogram) -> str:
    return _dumps(
        {
            "interval": histogram.interval,
            "total": histogram.total,
            "undated": histogram.undated,
            "buckets": histogram_rows(histogram),
        }
    )


def write_histogram_csv(histogram: Histogram, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["period", "start", "count"])
    for row in histogram_rows(histogram):
        _csv_row(writer, row.values())


def _bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    eighths = round(width * 8 * count / largest) if largest else 0
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def histogram_table(histogram: Histogram) -> Table:
    """Period, count and a bar scaled to the largest period."""
    caption = f"{histogram.undated:,} matching articles have no publish time" if histogram.undated else None
    table = Table(title=f"{histogram.total:,} articles per {histogram.interval}", title_justify="left", caption=caption)
    table.add_column(histogram.interval, no_wrap=True)
    table.add_column("articles", justify="right")
    table.add_column("", no_wrap=True)
    largest = max((bucket.count for bucket in histogram.buckets), default=0)
    for bucket in histogram.buckets:
        table.add_row(bucket.label, f"{bucket.count:,}", Text(_bar(bucket.count, largest), style="cyan"))
    return table


def terms_json(counts: TermCounts) -> str:
    return _dumps(
        {
            "field": counts.field,
            "total": counts.total,
            "values": [{"value": value, "count": count} for value, count in counts.values],
            "other": counts.other,
            "missing": counts.missing,
            "error_bound": counts.error_bound,
        }
    )


def write_terms_csv(counts: TermCounts, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow([counts.field, "count"])
    for row in counts.values:
        _csv_row(writer, row)


def terms_table(counts: TermCounts) -> Table:
    """The top values with counts and their share of the matching articles."""
    notes = [f"{counts.missing:,} articles have no {counts.field}"] if counts.missing else []
    if counts.error_bound:
        notes.append(f"counts may be low by up to {counts.error_bound:,} (several shards)")
    table = Table(
        title=f"top {counts.field} values in {counts.total:,} articles",
        title_justify="left",
        caption="; ".join(notes) or None,
    )
    table.add_column(counts.field)
    table.add_column("articles", justify="right")
    table.add_column("share", justify="right")
    for value, count in counts.values:
        table.add_row(_text(value), f"{count:,}", f"{count / counts.total:.1%}" if counts.total else "-")
    return table


def article_json(article: StoredArticle) -> str:
    return _dumps({"_id": article.id, "_index": article.index, **article.source})


def _list(values: Iterable[Any]) -> Text:
    return _text(", ".join(str(value) for value in values) or "-")


def article_view(article: StoredArticle, timezone: str) -> RenderableType:
    """One stored article: metadata, entities and keywords, then the text, captions and links."""
    source = article.source
    meta = Table(show_header=False, box=None, padding=(0, 1))
    meta.add_column(style="bold", no_wrap=True)
    meta.add_column()
    rows: list[tuple[str, Text]] = [
        ("id", _text(article.id)),
        ("index", _text(article.index)),
        ("outlet", _text(f"{source.get('outlet', '')} ({source.get('host', '')})")),
        ("url", _text(source.get("url", ""))),
        ("published", _text(_local(source.get("published_at"), timezone))),
        ("script", _text(source.get("script", "-"))),
        ("persons", _list(source.get("persons", []))),
        ("places", _list(source.get("places", []))),
        ("orgs", _list(source.get("orgs", []))),
        ("keywords", _list(source.get("keywords", []))),
        ("counts", _list(f"{key} {value}" for key, value in source.get("counts", {}).items())),
        ("warnings", _list(source.get("warnings", []))),
        ("file", _text(source.get("source", {}).get("path", "-"))),
    ]
    for key, value in rows:
        meta.add_row(key, value)
    parts: list[RenderableType] = [_text(source.get("title", ""), style="bold"), meta]
    for heading, values in (
        ("headings", source.get("headings", [])),
        ("body", source.get("body", [])),
        ("captions", source.get("captions", [])),
        ("gallery", [source["gallery_title"]] if source.get("gallery_title") else []),
        (
            "gallery items",
            [f"{item.get('title', '')}: {item.get('caption', '')}" for item in source.get("gallery", [])],
        ),
        ("links", [f"{link.get('text', '')} <{link.get('url', '')}>" for link in source.get("links", [])]),
    ):
        if values:
            parts.append(Text(f"\n{heading}", style="bold underline"))
            parts.extend(_text(value) for value in values)
    return Group(*parts)


def _local(value: str | None, timezone: str) -> str:
    moment = local_time(value, timezone)
    return moment.isoformat() if moment else "-"


def summary_table(title: str, summary: Summary, items: str = "files") -> Table:
    """An ingest run's counts: seen, indexed, unchanged (moved), rejected by reason, whether all are accounted for."""
    table = Table(title=title, show_header=False)
    rate = summary.indexed / summary.elapsed if summary.elapsed else 0.0
    rows = [
        (f"{items} seen", f"{summary.seen:,}"),
        ("indexed", f"{summary.indexed:,}"),
        *_time_source_rows(summary),
        ("unchanged (skipped)", f"{summary.unchanged:,}"),
        *(
            [("  of them stored with another path", f"{summary.moved:,} (moved? `indexer reindex PATH` updates)")]
            if summary.moved
            else []
        ),
        ("rejected", f"{summary.rejected:,}" + (f"  {_reasons(summary)}" if summary.reasons else "")),
        ("indexed with warnings", f"{summary.warned:,}"),
        ("accounted for", "yes" if summary.complete else f"NO: {summary.aborted or 'incomplete'}"),
        ("time", f"{summary.elapsed:,.1f} s ({rate:,.0f} documents/s)"),
    ]
    if items == "files":
        rows.insert(1, ("  of them read", f"{summary.read:,} (the others have the stored path, size and mtime)"))
    if summary.skipped_paths:
        rows.append(("folders/entries skipped", f"{summary.skipped_paths:,} (see report)"))
    for key, value in rows:
        table.add_row(key, _text(value))
    return table


def _time_source_rows(summary: Summary) -> list[tuple[str, str]]:
    """One row per source of the indexed articles' publish times, best source first."""
    return [
        ("  undated (no time found)" if code == "none" else f"  dated by {description}", f"{count:,}")
        for code, description in TIME_SOURCES.items()
        if (count := summary.time_sources.get(code, 0))
    ]


def _reasons(summary: Summary) -> str:
    return ", ".join(f"{reason}: {count:,}" for reason, count in sorted(summary.reasons.items()))


def summary_dict(summary: Summary) -> dict[str, Any]:
    """An ingest run's summary as JSON-ready data (``complete`` included)."""
    data = dataclasses.asdict(summary)
    data["report"] = str(summary.report) if summary.report else None
    data["complete"] = summary.complete
    return data


COMPARE_BAR_WIDTH = 16
SERIES_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red")
"""Bar colours of the compared queries, in order (repeating)."""


def _cell_dict(cell: Cell) -> dict[str, Any]:
    return {"articles": cell.articles, "counts": cell.counts, "shares": cell.shares}


def compare_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """One dict per period: ``period``, ``start``, ``articles``, ``counts``, ``shares`` (and ``by`` per group)."""
    rows = []
    for period in comparison.periods:
        row = {"period": period.label, "start": period.start.isoformat(), **_cell_dict(period.total)}
        if comparison.by:
            row["by"] = {name: _cell_dict(cell) for name, cell in sorted(period.groups.items())}
        rows.append(row)
    return rows


def compare_json(comparison: Comparison) -> str:
    return _dumps(
        {
            "interval": comparison.interval,
            "queries": list(comparison.queries),
            "by": comparison.by,
            "articles": comparison.articles,
            "undated": comparison.undated,
            "periods": compare_rows(comparison),
        }
    )


def _csv_share(fraction: float | None) -> str:
    return "" if fraction is None else f"{fraction:.6f}"


def write_compare_csv(comparison: Comparison, out: IO[str]) -> None:
    """One row per period, query (and group with ``by``): articles, count, share."""
    writer = csv.writer(out)
    group = [comparison.by] if comparison.by else []
    writer.writerow(["period", "start", *group, "query", "articles", "count", "share"])
    for period in comparison.periods:
        cells = sorted(period.groups.items()) if comparison.by else [("", period.total)]
        for name, cell in cells:
            for query, count in cell.counts.items():
                row = [period.label, period.start.isoformat(), *([name] if comparison.by else [])]
                _csv_row(writer, [*row, query, cell.articles, count, _csv_share(share(count, cell.articles))])


def _share_bar(fraction: float | None, largest: float, width: int = BAR_WIDTH) -> str:
    """A bar for a share, scaled to the `largest` share (in steps of 0.01 percentage points)."""
    return _bar(round(10_000 * (fraction or 0)), round(10_000 * largest), width)


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction:.1%}"


def _compare_table(comparison: Comparison, title: str, cells: list[tuple[str, Cell]]) -> Table:
    queries = comparison.queries
    largest = max((fraction or 0 for _, cell in cells for fraction in cell.shares.values()), default=0)
    styles = _styles(len(queries))
    legend = "  ".join(f"[{style}]█[/] {number}" for number, style in enumerate(styles, 1))
    table = Table(title=title, title_justify="left", caption=f"share of the period's articles: {legend}")
    table.add_column(comparison.interval, no_wrap=True)
    table.add_column("articles", justify="right", no_wrap=True)
    for number, query in enumerate(queries, 1):
        table.add_column(_text(f"{number} {query}"), justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for label, cell in cells:
        values = [item for query in queries for item in (f"{cell.counts[query]:,}", _percent(cell.shares[query]))]
        bars = Text("\n").join(
            Text(_share_bar(cell.shares[query], largest, COMPARE_BAR_WIDTH), style=style)
            for query, style in zip(queries, styles, strict=True)
        )
        table.add_row(label, f"{cell.articles:,}", *values, bars)
    return table


def _styles(count: int) -> list[str]:
    return [SERIES_STYLES[i % len(SERIES_STYLES)] for i in range(count)]


def compare_table(comparison: Comparison) -> RenderableType:
    """Per period: the articles, each query's count and share, and a bar per query scaled to the largest share;
    with ``by``, one such table per group."""
    what = f"{comparison.articles:,} articles under the filters, by {comparison.interval}"
    if comparison.undated:
        what += f" ({comparison.undated:,} undated, not in any period)"
    if not comparison.by:
        return _compare_table(comparison, what, [(p.label, p.total) for p in comparison.periods])
    tables = []
    for group in comparison.groups:
        empty = Cell(0, dict.fromkeys(comparison.queries, 0))
        cells = [(p.label, p.groups.get(group, empty)) for p in comparison.periods]
        articles = sum(cell.articles for _, cell in cells)
        title = f"{comparison.by} {group}: {articles:,} of the {comparison.articles:,} articles"
        tables.append(_compare_table(comparison, title, cells))
    return Group(*tables)


def share_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """``histogram --share`` rows: one query's count, the period's articles and the share."""
    (query,) = comparison.queries
    return [
        {
            "period": period.label,
            "start": period.start.isoformat(),
            "count": period.total.counts[query],
            "articles": period.total.articles,
            "share": period.total.shares[query],
        }
        for period in comparison.periods
    ]


def share_histogram_json(comparison: Comparison) -> str:
    return _dumps(
        {
            "interval": comparison.interval,
            "query": comparison.queries[0],
            "articles": comparison.articles,
            "undated": comparison.undated,
            "buckets": share_rows(comparison),
        }
    )


def write_share_histogram_csv(comparison: Comparison, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["period", "start", "count", "articles", "share"])
    for row in share_rows(comparison):
        _csv_row(writer, [*list(row.values())[:4], _csv_share(row["share"])])


def share_histogram_table(comparison: Comparison) -> Table:
    """Period, matching articles, all articles under the filters, the share, and a bar scaled to the largest."""
    rows = share_rows(comparison)
    title = f"matching articles, share of the {comparison.articles:,} under the filters, by {comparison.interval}"
    table = Table(title=title, title_justify="left")
    table.add_column(comparison.interval, no_wrap=True)
    for column in ("matching", "articles", "share"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    largest = max((row["share"] or 0 for row in rows), default=0)
    for row in rows:
        bar = _share_bar(row["share"], largest, COMPARE_BAR_WIDTH * 2)
        cells = (f"{row['count']:,}", f"{row['articles']:,}", _percent(row["share"]))
        table.add_row(row["period"], *cells, Text(bar, style="cyan"))
    return table
