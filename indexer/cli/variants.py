"""`indexer variants`: the regional spellings a ``~TERM`` search looks for, with a count each."""

from __future__ import annotations

from typing import Annotated

import typer

from indexer.cli.app import IndexOpt, JsonOpt, app, console, open_searcher


@app.command("variants")
def variants_command(
    term: Annotated[str, typer.Argument(help="a word or name, e.g. 川普")],
    index: IndexOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The regional spellings ~TERM searches (特朗普/川普 …), where each comes from, and the articles holding it.

    A wrong one (约翰逊 → 詹森 is Lyndon Johnson, not Boris) can be dropped in the variants file (variants_file in
    the config, or INDEXER_VARIANTS_FILE): a line `约翰逊 != 詹森`. Needs the optional extra: pip install
    'news-indexer[variants]'.
    """
    from indexer import output

    spellings = open_searcher(index).spelling_counts(term)
    if json_output:
        typer.echo(output.variants_json(spellings))
    else:
        console.print(output.variants_table(spellings))
