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
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from indexer.article import TIME_SOURCES
from indexer.compare import Cell, Comparison, share
from indexer.coverage import Coverage, Dated, DisplayRange, Gap, ShownHistogram
from indexer.highlight import Fragment
from indexer.kwic import Line
from indexer.query import Spellings, spellings_note
from indexer.search import Hit, Page, SpellingCounts, StoredArticle, TermCounts, local_time

if TYPE_CHECKING:
    from indexer.ingest import Summary
    from indexer.story_ids import StoryPass

MATCH_STYLE = "bold black on yellow"
HIT_COLUMNS = ("id", "published_at", "outlet", "title", "url", "score", "highlight", "story")
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


def copy_dict(hit: Hit) -> dict[str, Any]:
    """Another article of a hit's story, as JSON."""
    return {"id": hit.id, "outlet": hit.outlet, "published_at": hit.published_at, "title": hit.title, "url": hit.url}


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit as JSON: listing fields, its story and highlight fragments (``{"field", "fragment"}``); a hit of a
    ``--unique`` search also lists the story's other matching articles (``copies``, ``copies_total``)."""
    data = {
        "id": hit.id,
        "url": hit.url,
        "title": hit.title,
        "published_at": hit.published_at,
        "outlet": hit.outlet,
        "story": hit.story,
        "score": hit.score,
        "highlights": [{"field": f.field, "fragment": f.marked()} for f in hit.fragments],
    }
    if hit.copies is not None:
        data |= {"copies": [copy_dict(other) for other in hit.copies], "copies_total": hit.copies_total}
    return data


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_json(
    total: int, hits: Iterable[Hit], out: IO[str], spellings: Spellings | None = None, stories: int | None = None
) -> None:
    """``{"total": N, "hits": [...]}``, written hit by hit (so a streamed --all keeps memory flat); with ``~``
    terms, ``"spellings"`` maps each to the spellings searched; a ``--unique`` page also has ``"stories"``, the
    exact number of matching stories."""
    searched = f'"spellings": {_dumps(spellings)}, ' if spellings else ""
    counted = "" if stories is None else f'"stories": {stories}, '
    out.write(f'{{"total": {total}, {counted}{searched}"hits": [')
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
    """A header and one row per hit; ``highlight`` is the best fragments as plain text, joined by ' | ';
    ``story`` is the hit's story id (empty for an index without stories)."""
    writer = csv.writer(out)
    writer.writerow(HIT_COLUMNS)
    for hit in hits:
        fragments = " | ".join(f.marked("", "", escape=False) for f in hit.fragments)
        score = "" if hit.score is None else hit.score
        row = [hit.id, hit.published_at or "", hit.outlet, hit.title, hit.url, score, fragments, hit.story or ""]
        _csv_row(writer, row)


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


def hits_table(page: Page, timezone: str, offset: int = 0, spellings: Spellings | None = None) -> Table:
    """Date, outlet, title and the best fragment of each hit, matches in colour; the spellings of ``~`` terms in
    the caption."""
    shown = f"{offset + 1:,}–{offset + len(page.hits):,} of " if page.hits else ""
    caption = spellings_note(spellings or {})
    counted = (
        f"{page.total:,} articles" if page.stories is None else f"{page.stories:,} stories ({page.total:,} articles)"
    )
    table = Table(
        title=f"{shown}{counted}",
        title_justify="left",
        show_lines=True,
        caption=caption and terminal_safe(caption),
        caption_justify="left",
    )
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
            Group(title, _text(hit.id, style="dim"), *_also(hit)),
            marked_text(fragment) if fragment else Text(""),
        )
    return table


def _also(hit: Hit) -> list[Text]:
    """The other outlets carrying a hit's story (``--unique``)."""
    if not hit.copies_total or hit.copies is None:
        return []
    outlets = sorted({other.outlet for other in hit.copies})
    more = hit.copies_total - len(hit.copies)
    tail = f" and {more:,} more" if more else ""
    return [
        _text(
            f"+{hit.copies_total:,} {'copy' if hit.copies_total == 1 else 'copies'}: {', '.join(outlets)}{tail}", "cyan"
        )
    ]


def histogram_rows(shown: ShownHistogram) -> list[dict[str, Any]]:
    """One row per period: its label, start, matching articles, and every archived article of the outlets asked for
    (0: the period is outside their coverage)."""
    return [
        {"period": bucket.label, "start": bucket.start.isoformat(), "count": bucket.count, "archived": held}
        for bucket, held in zip(shown.histogram.buckets, shown.archived, strict=True)
    ]


def _range_dict(shown: DisplayRange) -> dict[str, Any]:
    within = shown.within
    return {
        "from": within.start.isoformat() if within and within.start else None,
        "to": within.end.isoformat() if within and within.end else None,
        "reason": shown.reason,
    }


def histogram_json(shown: ShownHistogram) -> str:
    histogram = shown.histogram
    return _dumps(
        {
            "interval": histogram.interval,
            "unit": histogram.unit,
            "total": histogram.total,
            "undated": histogram.undated,
            "outside": histogram.outside,
            "range": _range_dict(shown.shown),
            "outlets": list(shown.outlets),
            "uncovered": shown.uncovered,
            "buckets": histogram_rows(shown),
        }
    )


def write_histogram_csv(shown: ShownHistogram, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["period", "start", "count", "archived"])
    for row in histogram_rows(shown):
        _csv_row(writer, row.values())


def _bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    eighths = round(width * 8 * count / largest) if largest else 0
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def _counts_table(title: str, notes: list[str], key: str, unit: str) -> Table:
    """A table of counts: its notes as the caption, the key column, then the count column named by `unit`."""
    table = Table(title=title, title_justify="left", caption="; ".join(notes) or None)
    table.add_column(key, no_wrap=True)
    table.add_column(unit, justify="right")
    return table


def _whose(outlets: tuple[str, ...]) -> str:
    return f"of {', '.join(outlets)} " if outlets else ""


def _matching(count: int, unit: str) -> str:
    """``1 matching article``, ``3 matching stories``."""
    one = {"articles": "article", "stories": "story"}.get(unit, unit)
    return f"{count:,} matching {one if count == 1 else unit}"


def range_notes(reason: str, outside: int, undated: int, unit: str, counted: Callable[[int], str]) -> list[str]:
    """Why a histogram or comparison starts and ends where it does, what it counts, and what it doesn't show;
    `counted` names a number of `unit` (``3 matching articles``)."""
    notes = [f"range: {reason}"] if reason else []
    if outside:
        notes.append(
            f"not shown: {counted(outside)} published outside this range (outliers, listed by `indexer coverage`; "
            "--from/--to show any range)"
        )
    if undated:
        notes.append(f"not shown: {counted(undated)} without a publish time")
    if unit == "stories":
        notes.append("exact counts; a story with articles in several periods counts in each")
    return notes


def histogram_notes(shown: ShownHistogram) -> list[str]:
    """:func:`range_notes` of a histogram, and the periods the archive holds nothing for."""
    histogram = shown.histogram
    unit = histogram.unit
    notes = range_notes(shown.shown.reason, histogram.outside, histogram.undated, unit, lambda n: _matching(n, unit))
    if shown.uncovered:
        notes.append(
            f"not archived: the archive holds no article {_whose(shown.outlets)}at all for {len(shown.uncovered):,} "
            "of these periods, so a 0 there says nothing about what was published"
        )
    return notes


def histogram_table(shown: ShownHistogram) -> Group:
    """Period, count and a bar scaled to the largest period, periods outside the outlets' coverage marked; then
    :func:`histogram_notes`."""
    histogram = shown.histogram
    unit = histogram.unit
    shown_total = histogram.total if unit == "stories" else histogram.total - histogram.outside - histogram.undated
    table = Table(title=f"{shown_total:,} {unit} per {histogram.interval}", title_justify="left")
    table.add_column(histogram.interval, no_wrap=True)
    table.add_column(unit, justify="right")
    table.add_column("", no_wrap=True)
    largest = max((bucket.count for bucket in histogram.buckets), default=0)
    for bucket, held in zip(histogram.buckets, shown.archived, strict=True):
        bar = Text(_bar(bucket.count, largest), style="cyan") if held else Text("not archived", style="dim")
        table.add_row(bucket.label, f"{bucket.count:,}", bar)
    return Group(table, *(Text(note, style="dim") for note in histogram_notes(shown)))


def terms_json(counts: TermCounts) -> str:
    return _dumps(
        {
            "field": counts.field,
            "unit": counts.unit,
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
    unit = counts.unit
    notes = [f"{counts.missing:,} {unit} have no {counts.field}"] if counts.missing else []
    if counts.error_bound:
        notes.append(f"counts may be low by up to {counts.error_bound:,} (several shards)")
    if unit == "stories":
        notes.append("exact counts of distinct stories")
    table = _counts_table(f"top {counts.field} values in {counts.total:,} {unit}", notes, counts.field, unit)
    table.add_column("share", justify="right")
    for value, count in counts.values:
        table.add_row(_text(value), f"{count:,}", f"{count / counts.total:.1%}" if counts.total else "-")
    return table


def article_json(article: StoredArticle) -> str:
    """The stored document, and the other articles of its story (``copies``)."""
    copies = [copy_dict(other) for other in article.copies]
    return _dumps({"_id": article.id, "_index": article.index, **article.source, "copies": copies})


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
        ("story", _text(source.get("story", "-"))),
        *(
            (
                "copies" if number == 0 else "",
                _text(f"{_local(other.published_at, timezone)}  {other.id}  {other.title}"),
            )
            for number, other in enumerate(article.copies)
        ),
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
    if summary.stories:
        rows.append(("stories", story_pass_line(summary.stories)))
    for key, value in rows:
        table.add_row(key, _text(value))
    return table


def story_pass_line(stories: StoryPass) -> str:
    """What a story post-pass did, in one line."""
    kept = f", {stories.kept:,} kept from the old index" if stories.kept else ""
    return (
        f"{stories.articles:,} new articles in {stories.stories:,} stories "
        f"({stories.joined:,} joined a stored story{kept}; {stories.elapsed:,.1f} s)"
    )


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


SPARKS = "▁▂▃▄▅▆▇█"
OUTLIERS_SHOWN = 20
"""Outliers listed in the terminal; JSON lists up to :data:`indexer.coverage.OUTLIER_LIMIT`."""
GRID_PERIODS = 24
"""Up to this many periods, the terminal also shows the exact counts per outlet and period."""


def _spark(counts: list[int]) -> str:
    """One character per period: · for none, else a block whose height is the count relative to the largest."""
    largest = max(counts, default=0)
    return "".join(SPARKS[(len(SPARKS) - 1) * count // largest] if count else "·" for count in counts)


def _dated_dict(item: Dated | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {"id": item.id, "outlet": item.outlet, "published_at": item.published.isoformat(), "title": item.title}


def coverage_json(report: Coverage) -> str:
    span = report.span
    return _dumps(
        {
            "interval": report.interval,
            "total": report.total,
            "undated": report.undated,
            "span": span
            and {
                "from": span.start.isoformat(),
                "to": span.end.isoformat(),
                "inside": span.inside,
                "dated": span.dated,
            },
            "periods": [
                {"period": label, "start": start.isoformat()}
                for label, start in zip(report.labels, report.periods, strict=True)
            ],
            "outlets": [
                {
                    "outlet": row.outlet,
                    "total": row.total,
                    "counts": row.counts,
                    "first": _dated_dict(row.first),
                    "last": _dated_dict(row.last),
                    "empty": row.empty,
                    "longest_gap": row.longest_gap and dataclasses.asdict(row.longest_gap),
                    "outliers": row.outliers,
                    "undated": row.undated,
                }
                for row in report.outlets
            ],
            "outlier_total": report.outlier_total,
            "outliers": [_dated_dict(item) for item in report.outliers],
        }
    )


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
            "unit": comparison.unit,
            "articles": comparison.articles,
            "undated": comparison.undated,
            "outside": comparison.outside,
            "range": comparison.range_reason,
            "periods": compare_rows(comparison),
        }
    )


def write_coverage_csv(report: Coverage, out: IO[str]) -> None:
    """One row per outlet and period, then per outlet its rows ``outliers`` and ``undated`` (no start): an outlet's
    counts add up to its articles."""
    writer = csv.writer(out)
    writer.writerow(["outlet", "period", "start", "count"])
    for row in report.outlets:
        for label, start, count in zip(report.labels, report.periods, row.counts, strict=True):
            _csv_row(writer, [row.outlet, label, start.isoformat(), count])
        _csv_row(writer, [row.outlet, "outliers", "", row.outliers])
        _csv_row(writer, [row.outlet, "undated", "", row.undated])


def _day(item: Dated | None) -> str:
    return item.published.strftime("%Y-%m-%d") if item else "-"


def _gap(gap: Gap | None) -> str:
    if gap is None:
        return "-"
    return gap.first if gap.periods == 1 else f"{gap.periods}: {gap.first}–{gap.last}"


def _coverage_counts(report: Coverage) -> Table:
    """The exact count per outlet and period (· for none), for a few periods; a heat strip per outlet for many."""
    if len(report.labels) <= GRID_PERIODS:
        grid = Table(title=f"articles per outlet and {report.interval}", title_justify="left")
        grid.add_column("outlet", no_wrap=True)
        for label in report.labels:
            grid.add_column(label, justify="right")
        for row in report.outlets:
            cells = (f"{count:,}" if count else Text("·", style="dim") for count in row.counts)
            grid.add_row(_text(row.outlet), *cells)
        return grid
    heat = Table(
        title=f"per {report.interval}, {report.labels[0]} … {report.labels[-1]}",
        title_justify="left",
        caption=f"· none, {SPARKS[0]}…{SPARKS[-1]} up to the outlet's busiest {report.interval} (counts: --csv)",
        caption_justify="left",
    )
    heat.add_column("outlet", no_wrap=True)
    heat.add_column("", overflow="fold")
    for row in report.outlets:
        heat.add_row(_text(row.outlet), Text(_spark(row.counts), style="cyan"))
    return heat


def coverage_view(report: Coverage) -> Group:
    """Per outlet: articles, first and last article inside the dense span, the periods without articles between
    them and the longest run of them, outliers and undated articles; then the counts per period (a grid, or heat
    strips for many periods) and the outliers."""
    span = report.span
    where = f"dense span {span.start:%Y-%m-%d} to {span.last_day:%Y-%m-%d}" if span else "no dated articles"
    table = Table(
        title=f"{report.total:,} articles from {len(report.outlets):,} outlets, {where}",
        title_justify="left",
        caption=f"first/last: inside the dense span; empty: {report.interval}s without articles between them",
        caption_justify="left",
    )
    for name in ("outlet", "articles", "first", "last", "empty", "longest gap", "outliers", "undated"):
        right = name in {"articles", "empty", "outliers", "undated"}
        table.add_column(
            name, justify="right" if right else "left", no_wrap=True, min_width=10 if name == "longest gap" else None
        )
    for row in report.outlets:
        table.add_row(
            _text(row.outlet),
            f"{row.total:,}",
            _day(row.first),
            _day(row.last),
            f"{len(row.empty):,}",
            _gap(row.longest_gap),
            f"{row.outliers:,}",
            f"{row.undated:,}",
        )
    parts: list[RenderableType] = [table]
    if report.labels:
        parts.append(_coverage_counts(report))
    if report.outliers:
        more = report.outlier_total - min(len(report.outliers), OUTLIERS_SHOWN)
        outliers = Table(
            title=f"{report.outlier_total:,} articles with an outlier publish time (far outside the span, or future)",
            title_justify="left",
            caption=f"{more:,} more: --json lists them" if more > 0 else None,
        )
        for name in ("published", "id", "title"):
            outliers.add_column(name, overflow="fold")
        for item in report.outliers[:OUTLIERS_SHOWN]:
            outliers.add_row(item.published.strftime("%Y-%m-%d %H:%M"), _text(item.id), _text(item.title))
        parts.append(outliers)
    return Group(*parts)


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
    table.add_column(comparison.unit, justify="right", no_wrap=True)
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


def comparison_notes(comparison: Comparison) -> list[str]:
    """:func:`range_notes` of a comparison (its counts under the filters)."""
    unit = comparison.unit
    return range_notes(
        comparison.range_reason,
        comparison.outside,
        comparison.undated,
        unit,
        lambda n: f"{n:,} {unit} under the filters",
    )


def compare_table(comparison: Comparison) -> RenderableType:
    """Per period: the articles, each query's count and share, and a bar per query scaled to the largest share;
    with ``by``, one such table per group; then why the range is what it is."""
    return Group(_compare_tables(comparison), *(Text(note) for note in comparison_notes(comparison)))


def _compare_tables(comparison: Comparison) -> RenderableType:
    what = f"{comparison.articles:,} {comparison.unit} under the filters, by {comparison.interval}"
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
            "unit": comparison.unit,
            "articles": comparison.articles,
            "undated": comparison.undated,
            "outside": comparison.outside,
            "range": comparison.range_reason,
            "buckets": share_rows(comparison),
        }
    )


def variants_rows(spellings: SpellingCounts) -> list[dict[str, Any]]:
    return [
        {"spelling": variant.form, "source": variant.describe(), "articles": articles}
        for variant, articles in spellings.counts
    ]


def variants_json(spellings: SpellingCounts) -> str:
    """``{"term", "articles" (what ~term finds), "spellings": [{"spelling", "source", "articles"}], "version"}``."""
    return _dumps(
        {
            "term": spellings.term,
            "articles": spellings.total,
            "spellings": variants_rows(spellings),
            "version": spellings.version,
        }
    )


def write_share_histogram_csv(comparison: Comparison, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["period", "start", "count", "articles", "share"])
    for row in share_rows(comparison):
        _csv_row(writer, [*list(row.values())[:4], _csv_share(row["share"])])


def share_histogram_table(comparison: Comparison) -> RenderableType:
    """Period, matching articles, all articles under the filters, the share, and a bar scaled to the largest."""
    rows = share_rows(comparison)
    title = f"matching articles, share of the {comparison.articles:,} under the filters, by {comparison.interval}"
    table = Table(title=title, title_justify="left")
    table.add_column(comparison.interval, no_wrap=True)
    for column in ("matching", comparison.unit, "share"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    largest = max((row["share"] or 0 for row in rows), default=0)
    for row in rows:
        bar = _share_bar(row["share"], largest, COMPARE_BAR_WIDTH * 2)
        cells = (f"{row['count']:,}", f"{row['articles']:,}", _percent(row["share"]))
        table.add_row(row["period"], *cells, Text(bar, style="cyan"))
    return Group(table, *(Text(note) for note in comparison_notes(comparison)))


def variants_table(spellings: SpellingCounts) -> Table:
    """Each spelling ~term searches, where it comes from, and the articles that hold it."""
    table = Table(
        title=f"~{terminal_safe(spellings.term)}: {len(spellings.counts)} spellings, "
        f"{spellings.total:,} articles hold one",
        title_justify="left",
        caption=terminal_safe(spellings.version),
        caption_justify="left",
    )
    table.add_column("spelling")
    table.add_column("from")
    table.add_column("articles", justify="right")
    for row in variants_rows(spellings):
        table.add_row(_text(row["spelling"]), _text(row["source"]), f"{row['articles']:,}")
    return table


KWIC_COLUMNS = (
    "id",
    "outlet",
    "published_at",
    "title",
    "url",
    "path",
    "field",
    "entry",
    "start",
    "end",
    "term",
    "left",
    "match",
    "right",
)
"""The fields of a concordance line in CSV and JSON Lines."""
BOM = "\ufeff"


def write_kwic_csv(lines: Iterable[Line], out: IO[str], bom: bool = True) -> int:
    """A header and one row per line; with `bom` (the default) a UTF-8 byte order mark first, so that Excel
    reads the file as UTF-8 (LibreOffice reads it either way). Returns the number of lines."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(KWIC_COLUMNS)
    written = 0
    for line in lines:
        _csv_row(writer, (getattr(line, name) for name in KWIC_COLUMNS))
        written += 1
    return written


def write_kwic_jsonl(lines: Iterable[Line], out: IO[str]) -> int:
    """One JSON object per concordance line; returns the number of lines."""
    written = 0
    for line in lines:
        out.write(_dumps({name: getattr(line, name) for name in KWIC_COLUMNS}) + "\n")
        written += 1
    return written


def kwic_table(lines: Sequence[Line], width: int, timezone: str, spellings: Spellings | None = None) -> Table:
    """Left context right-aligned, the match in a centre column in colour, right context, then where from."""
    cells = 2 * width
    table = Table(
        title=f"{len(lines):,} lines",
        title_justify="left",
        caption=spellings_note(spellings or {}),
        caption_justify="left",
        box=None,
        padding=(0, 1),
    )
    table.add_column("left", justify="right", no_wrap=True, min_width=cells, max_width=cells)
    table.add_column("match", justify="center", no_wrap=True, style=MATCH_STYLE)
    table.add_column("right", no_wrap=True, min_width=cells, max_width=cells)
    table.add_column("date", no_wrap=True, style="dim")
    table.add_column("outlet", no_wrap=True, style="dim")
    table.add_column("id / field:entry:offset", no_wrap=True, style="dim")
    for line in lines:
        published = local_time(line.published_at, timezone)
        table.add_row(
            _text(_fit_left(line.left, cells)),
            _text(line.match),
            _text(_fit_right(line.right, cells)),
            published.strftime("%Y-%m-%d") if published else "-",
            _text(line.outlet),
            _text(f"{line.id} {line.field}:{line.entry}:{line.start}"),
        )
    return table


def _fit_left(text: str, cells: int) -> str:
    """The end of `text` that fits in `cells` terminal cells (CJK characters take two)."""
    while cell_len(text) > cells:
        text = text[1:]
    return text


def _fit_right(text: str, cells: int) -> str:
    while cell_len(text) > cells:
        text = text[:-1]
    return text
