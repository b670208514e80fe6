"""`indexer kwic`: reading the evidence, each occurrence of a query in its context."""

from __future__ import annotations

from typing import Annotated

import typer

from indexer.choices import KWIC_WIDTH, KwicSort
from indexer.cli.app import (
    QUERY_CONTEXT,
    CsvOpt,
    FromOpt,
    IndexOpt,
    OutletsOpt,
    ProvenanceOpt,
    QueryArg,
    ToOpt,
    app,
    console,
    filters,
    note_spellings,
    one_format,
    open_searcher,
    save_provenance,
    to_stdout,
)


@app.command("kwic", context_settings=QUERY_CONTEXT)
def kwic_command(
    query: QueryArg,
    width: Annotated[int, typer.Option(min=0, help="characters of context on each side")] = KWIC_WIDTH,
    sort: Annotated[
        KwicSort, typer.Option(help="date (oldest first), left / right (characters nearest the match), outlet")
    ] = "date",
    limit: Annotated[int, typer.Option(min=0, help="at most this many lines (after sorting)")] = 100,
    all_lines: Annotated[bool, typer.Option("--all", help="every line (no --limit)")] = False,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    csv_output: CsvOpt = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="print one JSON object per line")] = False,
    bom: Annotated[
        bool, typer.Option(help="with --csv: start with a UTF-8 byte order mark, so Excel shows the Chinese")
    ] = True,
    provenance: ProvenanceOpt = None,
) -> None:
    """A concordance: one line per occurrence of the query's terms and phrases in the matching articles.

    The query is written as for `indexer search` (see its --help: phrases, fields, OR, parentheses, NEAR/n, ~).

    Each line shows the original text around the match (--width characters each side, within the paragraph,
    title or caption), and where it is from: id, url, title, outlet, published_at, field, entry (paragraph
    number), offset, and the file's path. Occurrences are found as search finds them (width, case, script
    folded; every spelling of a ~term); NEAR terms give lines only where the partner is near. The CSV starts
    with a byte order mark by default (Excel needs it to read UTF-8; LibreOffice reads it either way): --no-bom
    leaves it out.
    """
    from indexer import output
    from indexer.kwic import concordance
    from indexer.query import searched_spellings

    searcher = open_searcher(index)
    parsed = searcher.parse(" ".join(query), outlet or (), date_from, date_to)
    fmt = one_format(csv=csv_output, jsonl=jsonl)
    spellings = searched_spellings(parsed)
    lines = concordance(searcher, parsed, width, sort, None if all_lines else limit)
    if fmt == "csv":
        note_spellings(spellings)
        to_stdout(lambda out: output.write_kwic_csv(lines, out, bom))
    elif fmt == "jsonl":
        note_spellings(spellings)
        to_stdout(lambda out: output.write_kwic_jsonl(lines, out))
    else:
        console.print(output.kwic_table(list(lines), width, searcher.settings.timezone, spellings))
    parameters: dict[str, object] = {"width": width, "sort": sort, "limit": None if all_lines else limit}
    save_provenance(provenance, searcher, " ".join(query), filters(outlet, date_from, date_to), parameters)
