"""`indexer index`, `reindex`, `stats` and `doctor`: loading the archive and the state of the index."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from indexer.cli.app import IndexOpt, app, console, err_console, state
from indexer.errors import ForeignIndex, IndexMissing

if TYPE_CHECKING:
    from indexer.config import Settings
    from indexer.ingest import IngestOptions


@app.command()
def doctor(index: IndexOpt = None) -> None:
    """Show the settings in use, what they connect to, the server version and health, and the index state.

    Exit status 1 when the alias points to an index this tool did not create.
    """
    from rich.markup import escape

    from indexer import status
    from indexer.client import connect, server_info
    from indexer.lifecycle import index_stats

    settings = state.settings.with_overrides(index=index)
    console.print(status.settings_table(settings))
    es = connect(settings)
    console.print(status.server_line(server_info(es), settings))
    try:
        stats = index_stats(es, settings.index)
    except IndexMissing as missing:
        console.print(f"index: {escape(str(missing))}", highlight=False)
        return
    except ForeignIndex as foreign:
        console.print(f"[bold red]index:[/] {escape(str(foreign))}", highlight=False)
        raise typer.Exit(1) from None
    console.print(status.index_line(stats), highlight=False)
    for line in status.warning_lines(status.index_warnings(stats, _analysis_version(settings))):
        console.print(line, highlight=False)


def _analysis_version(settings: Settings) -> str:
    from indexer.segment import get_segmenter

    return get_segmenter(settings.user_dict, settings.cache_dir).version


def _ingest_options(
    workers: int | None, partition: str | None, shards: int | None, replicas: int | None, max_mb: float
) -> IngestOptions:
    from indexer.ingest import IngestOptions
    from indexer.walk import Partition

    return IngestOptions(
        workers=workers or os.cpu_count() or 1,
        partition=Partition.parse(partition) if partition else None,
        shards=shards,
        replicas=replicas,
        max_bytes=int(max_mb * 1024 * 1024),
    )


WorkersOpt = Annotated[int | None, typer.Option(min=1, help="parser/segmenter processes [default: all cores]")]
ShardsOpt = Annotated[int | None, typer.Option(min=1, help="primary shards when a new index is created")]
ReplicasOpt = Annotated[int | None, typer.Option(min=0, help="replicas when a new index is created")]
MaxSizeOpt = Annotated[float, typer.Option("--max-file-mb", help="reject article files larger than this")]


@app.command("index")
def index_command(
    paths: Annotated[list[Path], typer.Argument(help="article files and folders (walked for *.md)")],
    index: IndexOpt = None,
    workers: WorkersOpt = None,
    partition: Annotated[
        str | None, typer.Option(help="K/N: take a stable 1/N share of the files (one machine of N)")
    ] = None,
    shards: ShardsOpt = None,
    replicas: ReplicasOpt = None,
    max_file_mb: MaxSizeOpt = 20.0,
    allow_rejected: Annotated[bool, typer.Option(help="exit 0 even when files were rejected")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    retry_for: Annotated[
        float, typer.Option(min=0, help="seconds to retry a failing bulk request (with backoff) before giving up")
    ] = 120.0,
    bulk_timeout: Annotated[float, typer.Option(min=0.1, help="seconds one bulk request may take")] = 120.0,
    verify: Annotated[
        bool, typer.Option(help="read and hash every file, also those whose path, size and mtime are unchanged")
    ] = False,
) -> None:
    """Parse, segment and index article files. Re-runs skip unchanged files, so an interrupted run resumes.

    A file whose path, size and modification time equal the stored ones is unchanged without being read;
    the others are read and hashed (all of them with --verify). Every file ends as indexed, unchanged or
    rejected; rejected files and warnings are listed in a JSONL report. Exit status 1 when anything was
    rejected (unless --allow-rejected) or the run did not finish (an error, Ctrl-C or SIGTERM).
    """
    from rich.markup import escape

    from indexer import output
    from indexer.cli.progress import RichProgress
    from indexer.client import connect
    from indexer.ingest import ingest

    settings = state.settings.with_overrides(index=index)
    options = dataclasses.replace(
        _ingest_options(workers, partition, shards, replicas, max_file_mb),
        retry_seconds=retry_for,
        bulk_timeout=bulk_timeout,
        verify=verify,
    )
    progress = RichProgress("indexing")
    try:
        summary = ingest(
            settings, paths, options, progress=progress, on_start=lambda name: err_console.print(f"index: {name}")
        )
    finally:
        progress.stop()
    documents = connect(settings).count(index=settings.index)["count"]
    if json_output:
        typer.echo(json.dumps({**output.summary_dict(summary), "documents_in_index": documents}))
    else:
        console.print(output.summary_table(f"Indexed into {settings.index} ({summary.index})", summary))
        console.print(f"articles in {settings.index}: {documents:,}")
        if summary.report:
            console.print(f"report of rejected files and warnings: {summary.report}")
    if not summary.complete:
        accounted = summary.indexed + summary.unchanged + summary.rejected
        why = summary.aborted or f"only {accounted:,} of the {summary.seen:,} files seen are accounted for"
        err_console.print(f"[bold red]error:[/] {escape(why)}", highlight=False, soft_wrap=True)
    if not summary.complete or (summary.rejected and not allow_rejected):
        raise typer.Exit(1)


@app.command("reindex")
def reindex_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="source files/folders; without them, rebuild from the current index")
    ] = None,
    index: IndexOpt = None,
    delete_old: Annotated[bool, typer.Option(help="delete the previous index after the swap")] = False,
    workers: WorkersOpt = None,
    shards: ShardsOpt = None,
    replicas: ReplicasOpt = None,
    max_file_mb: MaxSizeOpt = 20.0,
) -> None:
    """Rebuild the index (new mapping or dictionary) into a new generation, then swap the alias atomically.

    Articles come from the given files, and from the current index for any the files don't provide, so nothing is
    lost when files are gone. Searches through the alias keep working throughout. The rebuild holds the alias
    alone: an `indexer index` run or a second rebuild started meanwhile stops at once, naming it. Only indices this
    tool created are rebuilt or deleted.
    """
    from indexer import output
    from indexer.cli.progress import RichProgress
    from indexer.reindex import reindex

    settings = state.settings.with_overrides(index=index)
    options = _ingest_options(workers, None, shards, replicas, max_file_mb)
    progress = RichProgress("rebuilding")
    try:
        result = reindex(settings, paths or [], delete_old=delete_old, options=options, progress=progress)
    finally:
        progress.stop()
    for label, items, summary in (
        ("from files", "files", result.from_files),
        ("from the old index", "articles", result.from_index),
    ):
        if summary:
            console.print(output.summary_table(f"Rebuilt {label}", summary, items))
    console.print(
        f"{result.alias} now points to {result.new} ({result.documents:,} articles; "
        f"previously {result.old or 'nothing'} with {result.old_documents:,})"
        + ("; old index deleted" if result.deleted_old else "")
    )
    if result.stories:
        console.print(f"stories: {output.story_pass_line(result.stories)}")


@app.command("stats")
def stats_command(
    index: IndexOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Document count, size, mapping and analysis versions of the index behind the alias, and what holds it.

    Warns when the index needs a rebuild, or was left in bulk-load settings by an interrupted load.
    """
    from indexer import status
    from indexer.client import connect
    from indexer.lifecycle import index_stats

    settings = state.settings.with_overrides(index=index)
    rows = status.stats_rows(index_stats(connect(settings), settings.index), _analysis_version(settings))
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    console.print(status.stats_table(rows))
    for line in status.warning_lines(rows["warnings"]):
        console.print(line, highlight=False)
