"""Rendering search results: rich tables for people, JSON / JSON Lines / CSV for programs.

Table cells are built as :class:`rich.text.Text` (never markup strings), so text from articles is shown as is.
JSON carries highlight fragments HTML-escaped with matches in ``<em>…</em>``; CSV carries them as plain text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from indexer.highlight import Fragment
from indexer.search import Histogram, Hit, Page, StoredArticle, TermCounts, local_time

MATCH_STYLE = "bold black on yellow"
HIT_COLUMNS = ("id", "published_at", "outlet", "title", "url", "score", "highlight")
BAR_WIDTH = 40


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
        writer.writerow([hit.id, hit.published_at or "", hit.outlet, hit.title, hit.url, score, fragments])


def marked_text(fragment: Fragment, style: str = MATCH_STYLE) -> Text:
    """A fragment as rich Text with its matches styled."""
    text = Text("…" if fragment.cut_before else "")
    offset = len(text)
    text.append(fragment.text)
    for start, end in fragment.spans:
        text.stylize(style, offset + start, offset + end)
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
        title = next((marked_text(f) for f in hit.fragments if f.field == "title"), Text(hit.title))
        fragment = best_fragment(hit)
        table.add_row(
            published.strftime("%Y-%m-%d %H:%M") if published else "-",
            hit.outlet,
            Group(title, Text(hit.id, style="dim")),
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
    writer = csv.DictWriter(out, fieldnames=["period", "start", "count"])
    writer.writeheader()
    writer.writerows(histogram_rows(histogram))


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
    writer.writerows(counts.values)


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
        table.add_row(Text(value), f"{count:,}", f"{count / counts.total:.1%}" if counts.total else "-")
    return table


def article_json(article: StoredArticle) -> str:
    return _dumps({"_id": article.id, "_index": article.index, **article.source})


def _list(values: Iterable[Any]) -> Text:
    return Text(", ".join(str(value) for value in values) or "-")


def article_view(article: StoredArticle, timezone: str) -> RenderableType:
    """One stored article: metadata, entities and keywords, then the text, captions and links."""
    source = article.source
    meta = Table(show_header=False, box=None, padding=(0, 1))
    meta.add_column(style="bold", no_wrap=True)
    meta.add_column()
    rows: list[tuple[str, Text]] = [
        ("id", Text(article.id)),
        ("index", Text(article.index)),
        ("outlet", Text(f"{source.get('outlet', '')} ({source.get('host', '')})")),
        ("url", Text(source.get("url", ""))),
        ("published", Text(_local(source.get("published_at"), timezone))),
        ("script", Text(source.get("script", "-"))),
        ("persons", _list(source.get("persons", []))),
        ("places", _list(source.get("places", []))),
        ("orgs", _list(source.get("orgs", []))),
        ("keywords", _list(source.get("keywords", []))),
        ("counts", _list(f"{key} {value}" for key, value in source.get("counts", {}).items())),
        ("warnings", _list(source.get("warnings", []))),
        ("file", Text(source.get("source", {}).get("path", "-"))),
    ]
    for key, value in rows:
        meta.add_row(key, value)
    parts: list[RenderableType] = [Text(source.get("title", ""), style="bold"), meta]
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
            parts.extend(Text(str(value)) for value in values)
    return Group(*parts)


def _local(value: str | None, timezone: str) -> str:
    moment = local_time(value, timezone)
    return moment.isoformat() if moment else "-"
