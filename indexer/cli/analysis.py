"""`indexer sample`, `collocates` and `keyness`: reading the evidence behind a count."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from indexer.choices import MAX_ARTICLES, By, Measure
from indexer.cli.app import (
    QUERY_CONTEXT,
    CsvOpt,
    FromOpt,
    IndexOpt,
    JsonOpt,
    OutletsOpt,
    ProvenanceOpt,
    QueryArg,
    ToOpt,
    app,
    console,
    err_console,
    filters,
    one_format,
    open_searcher,
    save_provenance,
    to_stdout,
)

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from indexer.collocation import Analysed, Collocates, Keyness, WordFilter
    from indexer.search import Hit

SeedOpt = Annotated[int, typer.Option(help="seed of the random draw: the same seed and index give the same draw")]
MinFreqOpt = Annotated[int, typer.Option(min=1, help="only words seen at least this often")]
LimitOpt = Annotated[int, typer.Option(min=1, help="how many words (per group)")]
MaxArticlesOpt = Annotated[
    int, typer.Option(min=1, help="beyond this many matching articles, analyse a uniform sample of this many")
]
StopWordsOpt = Annotated[
    Path | None,
    typer.Option(help="stop-word list (one word per line) instead of the shipped one", exists=True, dir_okay=False),
]
KeepStopOpt = Annotated[bool, typer.Option("--keep-stop-words", help="count stop words too")]
KeepNumbersOpt = Annotated[bool, typer.Option("--keep-numbers", help="count numbers too")]


def _text_options(
    stop_words: Path | None, keep_stop_words: bool, keep_numbers: bool, max_articles: int, seed: int
) -> tuple[WordFilter, dict[str, object]]:
    """The word filter of the options collocates and keyness share, and those options as provenance names them."""
    from indexer.collocation import WordFilter, default_stop_words, stop_words_file

    if keep_stop_words:
        chosen: frozenset[str] = frozenset()
    else:
        chosen = stop_words_file(stop_words) if stop_words else default_stop_words()
    parameters: dict[str, object] = {"max_articles": max_articles, "seed": seed}
    parameters |= {"stop_words": str(stop_words or "default"), "keep_stop_words": keep_stop_words}
    return WordFilter(chosen, numbers=keep_numbers), parameters | {"keep_numbers": keep_numbers}


def _analysed_line(what: str, analysed: Analysed) -> str:
    if analysed.sampled:
        return f"{what}: a sample of {analysed.articles:,} of {analysed.matching:,} articles (seed {analysed.seed})"
    return f"{what}: all {analysed.matching:,} articles"


def _write_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]], out: IO[str]) -> None:
    from indexer import output

    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([output.csv_safe("" if row[name] is None else row[name]) for name in columns])


def _table(
    title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]], labels: dict[str, str] | None = None
) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        numeric = bool(rows) and isinstance(rows[0][name], int | float)
        label = (labels or {}).get(name, name)
        table.add_column(label, justify="right" if numeric else "left", overflow="fold", no_wrap=name != "title")
    for row in rows:
        table.add_row(*(_cell(row[name]) for name in columns))
    return table


def _cell(value: object) -> Text:
    """A number with separators (floats to two places), ∞ for a ratio with nothing to divide by, or text."""
    from rich.text import Text

    from indexer import output

    if value is None:
        return Text("∞")
    if isinstance(value, float):
        return Text(f"{value:,.1f}")
    if isinstance(value, int):
        return Text(f"{value:,}")
    return Text(output.terminal_safe(str(value)))


def _emit(
    fmt: str,
    data: dict[str, Any],
    columns: Sequence[str],
    rows: list[dict[str, Any]],
    title: str,
    labels: dict[str, str] | None = None,
) -> None:
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        to_stdout(lambda out: _write_csv(columns, rows, out))
    else:
        console.print(_table(title, columns, rows, labels))


SAMPLE_COLUMNS = ("#", "date", "outlet", "title", "id")


def _date(hit: Hit, timezone: str) -> str:
    published = hit.published(timezone)
    return published.strftime("%Y-%m-%d %H:%M") if published else "-"


@app.command("sample", context_settings=QUERY_CONTEXT)
def sample_command(
    query: QueryArg,
    n: Annotated[int, typer.Option("--n", min=1, help="how many articles")] = 200,
    seed: SeedOpt = 0,
    unique: Annotated[bool, typer.Option("--unique", help="one article per story (needs the story field)")] = False,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    json_output: JsonOpt = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="print one JSON object per article and line")] = False,
    csv_output: CsvOpt = False,
    provenance: ProvenanceOpt = None,
) -> None:
    """A uniform random sample of the matching articles, for manual coding: the same seed and index give the same
    sample, another seed another; the first k of a sample of n are the sample of k.

    Each matching article gets the key SHA-256(seed, id) and the n of smallest key are drawn, in key order.
    """
    from indexer import output
    from indexer.sampling import sample

    searcher = open_searcher(index)
    text = " ".join(query)
    parsed = searcher.parse(text, outlet or (), date_from, date_to)
    fmt = one_format(json=json_output, jsonl=jsonl, csv=csv_output)
    drawn = sample(searcher, parsed, n, seed, unique)
    save_provenance(
        provenance,
        searcher,
        text,
        filters(outlet, date_from, date_to),
        {"n": n, "seed": seed, "unique": unique, "population": drawn.population},
    )
    hits = searcher.hits(drawn.ids)
    what = "stories" if unique else "matching articles"
    err_console.print(f"{len(hits):,} drawn of {drawn.population:,} {what} (seed {seed})", highlight=False)
    if fmt == "table":
        rows = [
            {"#": number, "date": _date(hit, searcher.settings.timezone), "outlet": hit.outlet, "title": hit.title}
            | {"id": hit.id}
            for number, hit in enumerate(hits, 1)
        ]
        console.print(_table(f"sample of {len(hits):,} (seed {seed})", SAMPLE_COLUMNS, rows))
        return
    writers = {
        "json": lambda out: output.write_json(drawn.population, hits, out),
        "jsonl": lambda out: output.write_jsonl(hits, out),
        "csv": lambda out: output.write_csv(hits, out),
    }
    to_stdout(writers[fmt])


COLLOCATE_COLUMNS = ("group", "word", "freq", "docs", "word_freq", "score")


def collocates_data(found: Collocates) -> dict[str, Any]:
    """`collocates --json`: the analysed articles, the settings and each group's collocates."""
    return {
        **{key: value for key, value in dataclasses.asdict(found).items() if key != "groups"},
        "groups": [dataclasses.asdict(group) for group in found.groups],
    }


@app.command("collocates", context_settings=QUERY_CONTEXT)
def collocates_command(
    query: QueryArg,
    window: Annotated[int, typer.Option(min=1, help="words on each side of a match")] = 5,
    measure: Annotated[Measure, typer.Option(help="association score: logDice, log-likelihood or MI")] = "logdice",
    min_freq: MinFreqOpt = 3,
    by: Annotated[By | None, typer.Option(help="one list per outlet (or region)")] = None,
    limit: LimitOpt = 30,
    max_articles: MaxArticlesOpt = MAX_ARTICLES,
    seed: SeedOpt = 0,
    stop_words: StopWordsOpt = None,
    keep_stop_words: KeepStopOpt = False,
    keep_numbers: KeepNumbersOpt = False,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
    provenance: ProvenanceOpt = None,
) -> None:
    """The words most associated with the query's terms within ±window words of the original text, segmented as
    the index is, with stop words and numbers left out.

    freq: times the word is in a window; docs: articles where it is; word_freq: times in all analysed text;
    score: logdice = 14 + log2(2·freq / (matches + word_freq)), mi = log2(freq·N / (matches·word_freq)),
    ll = Dunning's log-likelihood (windows against the rest). See docs/evidence.md.
    """
    from rich.text import Text

    from indexer import output
    from indexer.collocation import collocates

    searcher = open_searcher(index)
    text = " ".join(query)
    parsed = searcher.parse(text, outlet or (), date_from, date_to)
    fmt = one_format(json=json_output, csv=csv_output)
    words, shared = _text_options(stop_words, keep_stop_words, keep_numbers, max_articles, seed)
    found = collocates(searcher, parsed, window, measure, min_freq, by, limit, max_articles, seed, words)
    parameters = {"window": window, "measure": measure, "min_freq": min_freq, "by": by, "limit": limit}
    save_provenance(provenance, searcher, text, filters(outlet, date_from, date_to), parameters | shared)
    err_console.print(_analysed_line("analysed", found.analysed), highlight=False)
    rows = [{"group": group.group, **dataclasses.asdict(item)} for group in found.groups for item in group.collocates]
    if fmt != "table":
        _emit(fmt, collocates_data(found), COLLOCATE_COLUMNS, rows, "")
        return
    for group in found.groups:
        where = f"{group.group}: " if group.group else ""
        title = (
            f"{where}{group.nodes:,} matches of the query in {group.articles:,} articles, {group.words:,} words; "
            f"{found.measure}, window ±{found.window}"
        )
        console.print(Text(output.terminal_safe(title)))
        console.print(_table("", COLLOCATE_COLUMNS[1:], [row for row in rows if row["group"] == group.group]))


KEY_COLUMNS = (
    "word",
    "focus_freq",
    "reference_freq",
    "focus_per_million",
    "reference_per_million",
    "focus_docs",
    "reference_docs",
    "log_likelihood",
    "percent_diff",
)
KEY_LABELS = {
    "focus_freq": "focus",
    "reference_freq": "ref",
    "focus_per_million": "focus/M",
    "reference_per_million": "ref/M",
    "focus_docs": "docs",
    "reference_docs": "ref docs",
    "log_likelihood": "LL",
    "percent_diff": "%DIFF",
}
"""Short column names for the table (CSV and JSON keep the long ones)."""


@app.command("keyness", context_settings=QUERY_CONTEXT)
def keyness_command(
    focus: QueryArg,
    reference: Annotated[str, typer.Option("--reference", help="the query of the reference set")],
    min_freq: MinFreqOpt = 3,
    limit: LimitOpt = 30,
    max_articles: MaxArticlesOpt = MAX_ARTICLES,
    seed: SeedOpt = 0,
    stop_words: StopWordsOpt = None,
    keep_stop_words: KeepStopOpt = False,
    keep_numbers: KeepNumbersOpt = False,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
    provenance: ProvenanceOpt = None,
) -> None:
    """The words over-represented in the articles matching FOCUS against those matching --reference: the
    log-likelihood, %DIFF, frequency per million words in both sets and the articles holding them (so one long
    article can't pass unnoticed). --outlet/--from/--to narrow both sets.

    Example: `indexer keyness 疫苗 outlet:rfi --reference "疫苗 outlet:dw"`.
    """
    from indexer.collocation import keyness

    searcher = open_searcher(index)
    text = " ".join(focus)
    focus_query = searcher.parse(text, outlet or (), date_from, date_to)
    reference_query = searcher.parse(reference, outlet or (), date_from, date_to)
    fmt = one_format(json=json_output, csv=csv_output)
    words, shared = _text_options(stop_words, keep_stop_words, keep_numbers, max_articles, seed)
    found: Keyness = keyness(searcher, focus_query, reference_query, min_freq, limit, max_articles, seed, words)
    parameters = {"reference": reference, "min_freq": min_freq, "limit": limit}
    save_provenance(provenance, searcher, text, filters(outlet, date_from, date_to), parameters | shared)
    err_console.print(_analysed_line("focus", found.focus), highlight=False)
    err_console.print(_analysed_line("reference", found.reference), highlight=False)
    rows = [dataclasses.asdict(key) for key in found.keys]
    title = f"focus {found.focus_words:,} words, reference {found.reference_words:,} words"
    _emit(fmt, dataclasses.asdict(found), KEY_COLUMNS, rows, title, KEY_LABELS)
