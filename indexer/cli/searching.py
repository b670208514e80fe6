"""`indexer search`, `histogram`, `terms` and `show`: finding and counting articles."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Annotated

import typer

from indexer.choices import KEEP_ALIVE, Interval, Sort, TermField
from indexer.cli.app import (
    QUERY_CONTEXT,
    CountQueryArg,
    CsvOpt,
    FromOpt,
    IndexOpt,
    JsonOpt,
    OutletsOpt,
    ProvenanceOpt,
    QueryArg,
    ToOpt,
    UniqueOpt,
    app,
    console,
    count_query,
    emit_counts,
    filters,
    note_spellings,
    one_format,
    open_counter,
    open_searcher,
    save_provenance,
    to_stdout,
)
from indexer.cli.measuring import PlotOpt, plot_comparison, run_compare
from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.query import Query
    from indexer.search import Searcher

SEARCH_HELP = (
    "Search articles: prints a table, or --json / --jsonl / --csv; --count prints just the number.\n\n"
    "[bold]What a term matches:[/] an article whose title, body, subheadings, image captions or gallery text "
    "contain it (not link text: a list of links to other articles is navigation; search it with links:), "
    "as grep would find it, except that width (ＡＢＣ = ABC), case, Traditional vs Simplified script "
    "(臺灣 = 台湾) and whitespace next to a Chinese character don't matter (between Latin letters or digits it "
    "separates words: l2 doesn't find Jul 23). A term inside a longer word matches too (农业 finds "
    "中国农业发展银行); articles where it is a whole word rank higher, in the title highest.\n\n"
    "[bold]Query language:[/]\n"
    "  拉夫罗夫 金正恩            both terms (terms are ANDed)\n"
    "  朝鲜 OR 北韩 核武器         (朝鲜 or 北韩) and 核武器: OR binds tighter than AND\n"
    "  疫情 -武汉                  疫情 but not 武汉\n"
    "  (拜登 疫苗) OR (川普 口罩)   parentheses group and nest; -(a OR b) excludes a group\n"
    "  金正恩 NEAR/10 普京          both in one paragraph (title, caption), at most 10 characters between, "
    "either order (n ≤ 99)\n"
    "  ~川普 title:~特朗普          every regional spelling (川普, 特朗普 …; `indexer variants 川普` lists them)\n"
    '  "B-52 轰炸机"               one exact phrase\n'
    "  title:普京 body:… caption:…  only in the title / body and subheadings / captions and galleries\n"
    "  links:普京                   only in link text (related-reading lists too), never searched without links:\n"
    "  outlet:dw person:习近平 place:… org:… keyword:…  exact values, as `indexer terms` lists them\n"
    "  region:tw kind:state         the outlet's region (cn hk tw sg intl) and kind, as `indexer outlets` lists them\n"
    "  date:2020-10..2020-12 date:2020 date:2020-07-01..  publish dates (YYYY, YYYY-MM or YYYY-MM-DD, "
    "ends included, configured time zone); --from/--to do the same\n"
    "  date:none                    articles without a publish time (undated); 疫情 -date:none: dated ones only\n\n"
    "Only a known field name before a colon is field syntax: 12:30, B-52: or https://… are searched as text, and "
    "an unknown name: is an error (quote it to search it). Precedence, loosest first: AND, OR, NEAR, -, "
    "parentheses. A parenthesis groups only at the edge of a word; quote text that holds ( ) or starts with - or ~."
)


@app.command("search", help=SEARCH_HELP, context_settings=QUERY_CONTEXT)
def search_command(
    query: QueryArg,
    index: IndexOpt = None,
    sort: Annotated[Sort, typer.Option(help="relevance (whole words, title first), newest or oldest")] = "relevance",
    limit: Annotated[int, typer.Option(min=0, help="hits per page")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="skip this many hits (offset + limit ≤ 10,000)")] = 0,
    all_hits: Annotated[
        bool, typer.Option("--all", help="every hit, streamed (JSON Lines unless --json/--csv); no --limit/--offset")
    ] = False,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    count: Annotated[bool, typer.Option("--count", help="print only the number of matching articles")] = False,
    unique: Annotated[
        bool,
        typer.Option(
            "--unique",
            help="one hit per story (near-duplicate copies collapsed; the other outlets carrying it are listed); "
            "with --count, the exact number of stories",
        ),
    ] = False,
    json_output: JsonOpt = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="print one JSON object per hit and line")] = False,
    csv_output: CsvOpt = False,
    keep_alive: Annotated[
        str,
        typer.Option(
            help="with --all: how long the server keeps the result set between two pages of 1,000 hits "
            "(raise it for a slow reader), in Elasticsearch units: 30s, 5m, 1h"
        ),
    ] = KEEP_ALIVE,
    provenance: ProvenanceOpt = None,
) -> None:
    from indexer.query import searched_spellings

    fmt = one_format(json=json_output, jsonl=jsonl, csv=csv_output)
    if count and not unique:  # the light client: most of a count's time would go to importing elasticsearch-py
        counter = open_counter(index)
        parsed = counter.parse(" ".join(query), outlet or (), date_from, date_to)
        note_spellings(searched_spellings(parsed))
        typer.echo(counter.count(parsed))
        return
    searcher = open_searcher(index)
    parsed = searcher.parse(" ".join(query), outlet or (), date_from, date_to)
    spellings = searched_spellings(parsed)
    if count or fmt not in ("json", "table") or (fmt == "table" and all_hits):
        note_spellings(spellings)
    if count:
        typer.echo(searcher.count_stories(parsed))
        return
    if provenance is not None and not all_hits:
        raise typer.BadParameter("is for exports: use it with --all", param_hint="--provenance")
    if all_hits:
        if unique:
            raise typer.BadParameter("--unique works on pages of hits, not with --all", param_hint="--unique")
        save_provenance(provenance, searcher, " ".join(query), filters(outlet, date_from, date_to), {"sort": sort})
        _export(searcher, parsed, sort, fmt, _keep_alive(keep_alive))
        return
    from indexer import output

    page = searcher.search(parsed, sort, limit, offset, unique=unique)
    if fmt == "table":
        console.print(output.hits_table(page, searcher.settings.timezone, offset, spellings))
    else:
        writers = {
            "json": lambda out: output.write_json(page.total, page.hits, out, spellings, page.stories),
            "jsonl": lambda out: output.write_jsonl(page.hits, out),
            "csv": lambda out: output.write_csv(page.hits, out),
        }
        to_stdout(writers[fmt])


def _keep_alive(text: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*(ms|s|m|h|d)", text):
        raise typer.BadParameter(f"{text!r} is not a time like 30s, 5m or 1h", param_hint="--keep-alive")
    return text


def _export(searcher: Searcher, query: Query, sort: Sort, fmt: str, keep_alive: str) -> None:
    """Every hit to stdout (`search --all`); a cut-off export says how far it got and what to do."""
    from indexer import output
    from indexer.paging import PagingCut
    from indexer.query import searched_spellings

    try:
        with searcher.stream(query, sort, keep_alive=keep_alive) as stream:
            writers: dict[str, Callable[[IO[str]], object]] = {
                "json": lambda out: output.write_json(stream.total, stream, out, searched_spellings(query)),
                "csv": lambda out: output.write_csv(stream, out),
            }
            to_stdout(writers.get(fmt, lambda out: output.write_jsonl(stream, out)))
    except PagingCut as cut:
        hint = (
            f"run it again with a longer --keep-alive than {cut.keep_alive}, or write to a file and read that"
            if cut.expired
            else "check the server (`indexer doctor`), then run it again"
        )
        raise IndexerError(
            f"the export is incomplete: {cut.progress} were written, then {cut.reason}", f"{hint}; it starts over"
        ) from cut


@app.command("histogram", context_settings=QUERY_CONTEXT)
def histogram_command(
    query: CountQueryArg = None,
    interval: Annotated[Interval, typer.Option(help="period of each bar")] = "month",
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    share: Annotated[
        bool, typer.Option("--share", help="also the period's articles under the filters and the share matching")
    ] = False,
    unique: UniqueOpt = False,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Matching articles per day, week (from Monday), month or year, with a bar chart; empty periods included.

    Without --from/--to (or date:) the periods run from the first to the last match inside the archive's dense
    span (see `indexer coverage`), not from a far-off outlier; the table says why, and counts the matches outside.
    Periods for which the archive holds no article of the outlets asked for (all outlets when none) are marked.
    Periods are in the configured time zone (INDEXER_TIMEZONE, default UTC). With --share each period also
    shows how many articles it holds under the same --outlet/--from/--to filters, and the share that match.
    With --unique, each period counts its distinct stories (exact), so a story with copies in two periods counts
    in both.
    """
    from indexer import output
    from indexer.charts import check_path, line_chart
    from indexer.coverage import histogram as shown_histogram

    fmt = one_format(json=json_output, csv=csv_output)
    if plot is not None:
        check_path(plot)
    if share:
        searcher = open_searcher(index)
        texts = [" ".join(query or ())]
        comparison = run_compare(searcher, texts, outlet, date_from, date_to, interval, unique=unique)
        emit_counts(
            fmt,
            lambda: output.share_histogram_json(comparison),
            lambda out: output.write_share_histogram_csv(comparison, out),
            lambda: output.share_histogram_table(comparison),
        )
        if plot is not None:
            plot_comparison(comparison, plot)
        return
    searcher, parsed = count_query(index, query, outlet, date_from, date_to)
    histogram = shown_histogram(searcher, parsed, interval, unique=unique)
    emit_counts(
        fmt,
        lambda: output.histogram_json(histogram),
        lambda out: output.write_histogram_csv(histogram, out),
        lambda: output.histogram_table(histogram),
    )
    if plot is not None:
        buckets = histogram.histogram.buckets
        counts = {" ".join(query or ()) or "all articles": [float(bucket.count) for bucket in buckets]}
        title = f"{histogram.histogram.total:,} articles per {interval}"
        for warning in line_chart(plot, [bucket.label for bucket in buckets], {"": counts}, title, "articles"):
            console.print(f"warning: {warning}", highlight=False)
        console.print(f"chart written to {plot}", highlight=False)


@app.command("terms", context_settings=QUERY_CONTEXT)
def terms_command(
    query: CountQueryArg = None,
    field_name: Annotated[TermField, typer.Option("--field", help="what to count")] = "person",
    limit: Annotated[int, typer.Option(min=1, help="how many values")] = 20,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    unique: UniqueOpt = False,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
) -> None:
    """The most frequent persons, places, organisations, outlets, regions, kinds or keywords among the matching
    articles.

    With --unique, values are ranked by their exact number of distinct stories.
    """
    from indexer import output

    searcher, parsed = count_query(index, query, outlet, date_from, date_to)
    counts = searcher.terms(parsed, field_name, limit, unique)
    emit_counts(
        one_format(json=json_output, csv=csv_output),
        lambda: output.terms_json(counts),
        lambda out: output.write_terms_csv(counts, out),
        lambda: output.terms_table(counts),
    )


@app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="outlet:id as search prints it, the outlet's article id, or the URL")],
    index: IndexOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the stored document as JSON")] = False,
) -> None:
    """One article as stored: metadata, its story and the other articles of it, entities, keywords, text, captions
    and links."""
    from indexer import output

    searcher = open_searcher(index)
    article = searcher.show(ref)
    if json_output:
        typer.echo(output.article_json(article))
    else:
        console.print(output.article_view(article, searcher.settings.timezone))
