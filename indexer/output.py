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
from indexer.highlight import Fragment
from indexer.search import Histogram, Hit, Page, StoredArticle, TermCounts, local_time

if TYPE_CHECKING:
    from indexer.ingest import Summary
    from indexer.story_ids import StoryPass

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


def write_json(total: int, hits: Iterable[Hit], out: IO[str], stories: int | None = None) -> None:
    """``{"total": N, "hits": [...]}``, written hit by hit (so a streamed --all keeps memory flat); a ``--unique``
    page also has ``"stories"``, the exact number of matching stories."""
    counted = "" if stories is None else f'"stories": {stories}, '
    out.write(f'{{"total": {total}, {counted}"hits": [')
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
    counted = (
        f"{page.total:,} articles" if page.stories is None else f"{page.stories:,} stories ({page.total:,} articles)"
    )
    table = Table(title=f"{shown}{counted}", title_justify="left", show_lines=True)
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


def histogram_rows(histogram: Histogram) -> list[dict[str, Any]]:
    return [
        {"period": bucket.label, "start": bucket.start.isoformat(), "count": bucket.count}
        for bucket in histogram.buckets
    ]


def histogram_json(histogram: Histogram) -> str:
    return _dumps(
        {
            "interval": histogram.interval,
            "unit": histogram.unit,
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


def _counts_table(title: str, notes: list[str], key: str, unit: str) -> Table:
    """A table of counts: its notes as the caption, the key column, then the count column named by `unit`."""
    table = Table(title=title, title_justify="left", caption="; ".join(notes) or None)
    table.add_column(key, no_wrap=True)
    table.add_column(unit, justify="right")
    return table


def histogram_table(histogram: Histogram) -> Table:
    """Period, count and a bar scaled to the largest period."""
    unit = histogram.unit
    notes = [f"{histogram.undated:,} matching {unit} have no publish time"] if histogram.undated else []
    if unit == "stories":
        notes.append("exact counts; a story with articles in several periods counts in each")
    table = _counts_table(f"{histogram.total:,} {unit} per {histogram.interval}", notes, histogram.interval, unit)
    table.add_column("", no_wrap=True)
    largest = max((bucket.count for bucket in histogram.buckets), default=0)
    for bucket in histogram.buckets:
        table.add_row(bucket.label, f"{bucket.count:,}", Text(_bar(bucket.count, largest), style="cyan"))
    return table


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
