"""`indexer compare` and `indexer outlets`: queries compared over time as shares of the archive, and the outlet
metadata those shares can be split by."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from indexer.choices import By, Interval
from indexer.cli.app import (
    QUERY_CONTEXT,
    CsvOpt,
    FromOpt,
    IndexOpt,
    JsonOpt,
    OutletsOpt,
    ProvenanceOpt,
    ToOpt,
    UniqueOpt,
    app,
    console,
    emit_counts,
    filters,
    one_format,
    open_searcher,
    save_provenance,
    state,
)

if TYPE_CHECKING:
    from indexer.compare import Comparison
    from indexer.search import Searcher

PlotOpt = Annotated[
    Path | None, typer.Option("--plot", help="also draw the chart to this file (.svg or .png; needs the plot extra)")
]


def run_compare(
    searcher: Searcher,
    queries: list[str],
    outlet: list[str] | None,
    date_from: str | None,
    date_to: str | None,
    interval: Interval,
    by: By | None = None,
    unique: bool = False,
) -> Comparison:
    """Parse each query with the same filters and compare them (shared by `compare` and `histogram --share`)."""
    from indexer.coverage import comparison

    filters = searcher.parse("", outlet or (), date_from, date_to, allow_empty=True)
    parsed = [(text, searcher.parse(text, outlet or (), date_from, date_to, allow_empty=True)) for text in queries]
    return comparison(searcher, filters, parsed, interval, by, unique)


def plot_comparison(comparison: Comparison, path: Path) -> None:
    """A line per query of its share of each period's articles; with ``by``, one panel per group."""
    from indexer.charts import line_chart

    labels = [period.label for period in comparison.periods]
    panels: dict[str, dict[str, list[float | None]]] = {}
    for group in comparison.groups if comparison.by else [""]:
        cells = [period.groups.get(group) if comparison.by else period.total for period in comparison.periods]
        panels[f"{comparison.by} {group}" if comparison.by else ""] = {
            query: [cell.shares[query] if cell else None for cell in cells] for query in comparison.queries
        }
    title = f"share of the articles of each {comparison.interval}"
    for warning in line_chart(path, labels, panels, title, "share of the period's articles", percent=True):
        console.print(f"warning: {warning}", highlight=False)
    console.print(f"chart written to {path}", highlight=False)


@app.command("compare", context_settings=QUERY_CONTEXT)
def compare_command(
    queries: Annotated[list[str], typer.Argument(help="the queries, each one argument (quote a query with spaces)")],
    interval: Annotated[Interval, typer.Option(help="period of each row")] = "month",
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    by: Annotated[By | None, typer.Option("--by", help="split every period by outlet or region")] = None,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
    unique: UniqueOpt = False,
    plot: PlotOpt = None,
    provenance: ProvenanceOpt = None,
) -> None:
    """Compare queries over time: per period the articles under the filters (--outlet, --from/--to), and for each
    query its count and its share of them, with a bar per query.

    Each query is one argument in the query language of `indexer search` (a scope inside it, such as outlet:dw, is
    part of that query, not of the denominator). Counts equal `indexer search Q --from P --to P --count` for each
    period P. Periods are in the configured time zone (INDEXER_TIMEZONE, default UTC). With --unique every count is
    an exact number of distinct stories (near-duplicate copies once), the denominator too.
    """
    from indexer import output
    from indexer.charts import check_path

    fmt = one_format(json=json_output, csv=csv_output)
    if plot is not None:
        check_path(plot)
    searcher = open_searcher(index)
    comparison = run_compare(searcher, queries, outlet, date_from, date_to, interval, by, unique)
    emit_counts(
        fmt,
        lambda: output.compare_json(comparison),
        lambda out: output.write_compare_csv(comparison, out),
        lambda: output.compare_table(comparison),
    )
    if plot is not None:
        plot_comparison(comparison, plot)
    parameters: dict[str, object] = {"interval": interval, "by": by, "unique": unique}
    save_provenance(provenance, searcher, " | ".join(queries), filters(outlet, date_from, date_to), parameters)


@app.command("outlets")
def outlets_command(json_output: JsonOpt = False) -> None:
    """The outlet metadata: region, script and kind of each known outlet, and which file said so.

    The table ships in the package (indexer/data/outlets.toml); a file named by `outlets` under [index] in the
    config file, or by INDEXER_OUTLETS, adds or overrides outlets. Articles of an outlet not listed are indexed
    with region and kind "unknown". Changes apply to articles indexed afterwards: `indexer reindex` applies them
    to the whole index.
    """
    from rich.table import Table

    from indexer.outlet_meta import KINDS, REGIONS, load_outlets

    table = load_outlets(state.settings.outlets_file)
    if json_output:
        rows = [
            {
                "outlet": m.outlet,
                "name": m.name,
                "region": m.region,
                "script": m.script,
                "kind": m.kind,
                "origin": m.origin,
            }
            for m in table.values()
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    regions = ", ".join(f"{code} {name}" for code, name in REGIONS.items())
    kinds = ", ".join(f"{code} {name}" for code, name in KINDS.items())
    view = Table(title=f"{len(table)} outlets", title_justify="left", caption=f"region: {regions}\nkind: {kinds}")
    for column in ("outlet", "name", "region", "script", "kind", "origin"):
        view.add_column(column)
    for meta in table.values():
        view.add_row(meta.outlet, meta.name, meta.region, meta.script, meta.kind, meta.origin)
    console.print(view)
