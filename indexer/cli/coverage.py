"""`indexer coverage`: which periods the archive holds articles for, per outlet, and which publish times are off."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer.choices import CoverageInterval
from indexer.cli.app import (
    CsvOpt,
    IndexOpt,
    JsonOpt,
    OutletsOpt,
    app,
    emit_counts,
    err_console,
    one_format,
    open_searcher,
)


@app.command("coverage")
def coverage_command(
    interval: Annotated[CoverageInterval, typer.Option(help="period of each count")] = "month",
    outlet: OutletsOpt = None,
    index: IndexOpt = None,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
    plot: Annotated[
        Path | None, typer.Option(help="also draw a heat map to this file (.png or .svg; needs the plot extra)")
    ] = None,
) -> None:
    """Articles per outlet per day, week (from Monday) or month over the archive's dense span; per outlet its first
    and last article, the periods without articles inside its span and the longest run of them; the articles whose
    publish time is an outlier (far outside the span, or in the future), with their ids; undated articles.

    An outlier lies more than 3 interquartile ranges (at least 31 days) before the day by which a quarter of the
    dated articles were published, or after the day by which three quarters were (docs/coverage.md).
    """
    from rich.markup import escape

    from indexer import charts, output
    from indexer.coverage import coverage

    fmt = one_format(json=json_output, csv=csv_output)
    if plot is not None:
        charts.check_path(plot)
    report = coverage(open_searcher(index), interval, outlet or ())
    emit_counts(
        fmt,
        lambda: output.coverage_json(report),
        lambda out: output.write_coverage_csv(report, out),
        lambda: output.coverage_view(report),
    )
    if plot is not None:
        for warning in charts.coverage_heatmap(report, plot):
            err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
        err_console.print(f"heat map written to {escape(str(plot))}", highlight=False, soft_wrap=True)
