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
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from indexer.article import TIME_SOURCES
from indexer.highlight import Fragment
from indexer.kwic import Line
from indexer.query import Query
from indexer.search import Histogram, Hit, Page, SpellingCounts, StoredArticle, TermCounts, local_time

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


Spellings = Mapping[str, Sequence[str]]
"""For each ``~term`` of a query, the spellings searched (what :func:`searched_spellings` gives)."""


def searched_spellings(query: Query) -> dict[str, list[str]]:
    """``{"~川普": ["川普", "特朗普"], …}`` for the ``~`` terms of `query`: expansion is never silent."""
    return {f"~{term.text}": list(term.spellings) for term in query.expansions()}


def spellings_note(spellings: Spellings) -> str | None:
    """One line saying which spellings each ``~`` term searched; None without ``~`` terms."""
    if not spellings:
        return None
    return "; ".join(f"{term} searched {', '.join(forms)}" for term, forms in spellings.items())


def write_json(total: int, hits: Iterable[Hit], out: IO[str], spellings: Spellings | None = None) -> None:
    """``{"total": N, "hits": [...]}``, written hit by hit (so a streamed --all keeps memory flat); with ``~``
    terms, ``"spellings"`` maps each to the spellings searched."""
    searched = f'"spellings": {_dumps(spellings)}, ' if spellings else ""
    out.write(f'{{"total": {total}, {searched}"hits": [')
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


def hits_table(page: Page, timezone: str, offset: int = 0, spellings: Spellings | None = None) -> Table:
    """Date, outlet, title and the best fragment of each hit, matches in colour; the spellings of ``~`` terms in
    the caption."""
    shown = f"{offset + 1:,}–{offset + len(page.hits):,} of " if page.hits else ""
    caption = spellings_note(spellings or {})
    table = Table(
        title=f"{shown}{page.total:,} articles",
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


def _bar(count: int, largest: int) -> str:
    eighths = round(BAR_WIDTH * 8 * count / largest) if largest else 0
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
