"""The `indexer` command line: a thin layer that wires options to the library modules."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated

import rich.progress
import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from indexer import kibana, node, output, status
from indexer.client import connect, explain, server_info
from indexer.config import Settings, load_settings
from indexer.errors import ForeignIndex, IndexerError, IndexMissing, clip
from indexer.ingest import IngestOptions, Progress, ingest
from indexer.lifecycle import index_stats
from indexer.paging import KEEP_ALIVE, PagingCut
from indexer.query import Query
from indexer.reindex import reindex
from indexer.search import Interval, Searcher, Sort, TermField
from indexer.segment import get_segmenter
from indexer.walk import Partition

app = typer.Typer(
    help="Index and search archives of Chinese-language news articles with Elasticsearch.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
node_app = typer.Typer(help="Run a local Elasticsearch node (for machines without Docker).", no_args_is_help=True)
app.add_typer(node_app, name="node")
kibana_app = typer.Typer(help="Set up Kibana (data view, dashboard) and export it back.", no_args_is_help=True)
app.add_typer(kibana_app, name="kibana")

console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


@dataclass
class State:
    """What the top-level options resolve to, shared by every command."""

    settings: Settings = field(default_factory=Settings)
    debug: bool = False


state = State()


@app.callback()
def main_options(
    es_url: Annotated[
        list[str] | None, typer.Option("--es-url", help="Elasticsearch URL; repeat for several hosts (env: ES_URL)")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (env: ES_API_KEY)", show_default=False)] = None,
    username: Annotated[str | None, typer.Option(help="user for basic auth (env: ES_USERNAME)")] = None,
    password: Annotated[str | None, typer.Option(help="password (prefer the env var) (env: ES_PASSWORD)")] = None,
    ca_certs: Annotated[Path | None, typer.Option(help="CA certificate file (env: ES_CA_CERTS)")] = None,
    ca_fingerprint: Annotated[
        str | None, typer.Option(help="SHA-256 fingerprint of the CA (env: ES_CA_FINGERPRINT)")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="request timeout in seconds (env: ES_TIMEOUT)")] = None,
    config: Annotated[
        Path | None, typer.Option(help="config file (env: INDEXER_CONFIG; default ~/.config/news-indexer/config.toml)")
    ] = None,
    debug: Annotated[bool, typer.Option(help="show tracebacks")] = False,
) -> None:
    """Settings come from CLI options, then environment variables, then the config file, then defaults."""
    settings = load_settings(config).with_overrides(
        hosts=es_url or None,
        api_key=api_key,
        username=username,
        password=password,
        ca_certs=ca_certs,
        ca_fingerprint=ca_fingerprint,
        timeout=timeout,
    )
    state.settings = settings
    state.debug = debug
    for warning in settings.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _node_spec(
    port: int | None, heap: str | None, nodes: int | None, cache_dir: Path | None, secure: bool | None = None
) -> node.NodeSpec:
    settings = state.settings.with_overrides(node_port=port, node_heap=heap, cache_dir=cache_dir)
    return node.NodeSpec.saved(
        settings.cache_dir, settings.node_port, settings.node_heap, settings.node_user, nodes=nodes, secure=secure
    )


PortOpt = Annotated[int | None, typer.Option(help="HTTP port of the first node (env: INDEXER_NODE_PORT; 9200)")]
CacheOpt = Annotated[Path | None, typer.Option(help="download and data dir (env: INDEXER_CACHE_DIR)")]
IndexOpt = Annotated[str | None, typer.Option("--index", help="index alias (env: INDEXER_INDEX; default news)")]
NodeOpt = Annotated[int | None, typer.Option("--node", help="only this node (0, 1, ...) of a multi-node cluster")]


@node_app.command("start")
def node_start(
    port: PortOpt = None,
    heap: Annotated[str | None, typer.Option(help="JVM heap per node, e.g. 512m (env: INDEXER_NODE_HEAP; 1g)")] = None,
    nodes: Annotated[int | None, typer.Option(min=1, max=9, help="number of nodes in the local cluster")] = None,
    cache_dir: CacheOpt = None,
    only: NodeOpt = None,
    secure: Annotated[
        bool | None,
        typer.Option(
            "--secure/--insecure",
            help="TLS with a generated CA, a user and an API key (saved in a 0600 file) [default: as last started]",
        ),
    ] = None,
) -> None:
    """Download (once), configure and start a local Elasticsearch; waits until it is healthy. Idempotent."""
    spec = _node_spec(port, heap, nodes, cache_dir, secure)
    started = time.monotonic()
    status = node.start(spec, log=lambda line: err_console.print(f"[dim]{line}[/]"), only=only)
    console.print(
        f"Elasticsearch {status.version} is running at [bold]{status.url}[/] "
        f"({len([n for n in status.nodes if n.running])} node(s), health {status.health}, "
        f"{time.monotonic() - started:.1f} s)"
    )
    if spec.secure:
        console.print(
            f"TLS CA certificate: {spec.ca_file}\nCA SHA-256 fingerprint: {node.ca_fingerprint(spec.ca_file)}\n"
            f"user {node.SECURE_USER!r}: password and API key are in {spec.credentials_file} (mode 0600); "
            f"connect with: indexer --config {spec.credentials_file} doctor",
            highlight=False,
            soft_wrap=True,
        )


@node_app.command("stop")
def node_stop(port: PortOpt = None, cache_dir: CacheOpt = None, only: NodeOpt = None) -> None:
    """Stop the local node(s) this tool started (only those: found by their pid files)."""
    spec = _node_spec(port, None, None, cache_dir)
    stopped = node.stop(spec, only=only)
    console.print(f"stopped {len(stopped)} node(s)" if stopped else "no local node was running")


@node_app.command("status")
def node_status(port: PortOpt = None, cache_dir: CacheOpt = None) -> None:
    """Say whether the local node(s) run, with version and cluster health. Exit status 1 when none runs."""
    spec = _node_spec(port, None, None, cache_dir)
    status = node.status(spec)
    table = Table("node", "port", "pid", "state")
    for item in status.nodes:
        table.add_row(f"node-{item.index}", str(item.http_port), str(item.pid or "-"), _running(item.running))
    console.print(table)
    if status.running:
        console.print(f"{status.url}: Elasticsearch {status.version}, health {status.health}")
    else:
        console.print(f"not running (start it with `indexer node start`); data in {spec.cluster_dir}")
        raise typer.Exit(1)


def _running(running: bool) -> str:
    return "[green]running[/]" if running else "[red]stopped[/]"


@node_app.command("logs")
def node_logs(
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many lines")] = 40,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    port: PortOpt = None,
    cache_dir: CacheOpt = None,
    only: NodeOpt = None,
) -> None:
    """Print the end of the server log."""
    spec = _node_spec(port, None, None, cache_dir)
    (index,) = spec.indices(only or 0)
    log_file = node.log_file(spec.node_dir(index))
    if not log_file.exists():
        raise IndexerError(f"no log yet at {log_file}", "start the node first: `indexer node start`")
    for line in node.tail(log_file, lines):
        typer.echo(line)
    if follow:
        with log_file.open(errors="replace") as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    typer.echo(line, nl=False)
                else:
                    time.sleep(0.5)


@app.command()
def doctor(index: IndexOpt = None) -> None:
    """Show the settings in use, what they connect to, the server version and health, and the index state.

    Exit status 1 when the alias points to an index this tool did not create.
    """
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
    return get_segmenter(settings.user_dict, settings.cache_dir).version


class RichProgress(Progress):
    """A progress bar with files/s and documents/s for ingest runs."""

    def __init__(self, label: str) -> None:
        self._bar = rich.progress.Progress(
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TextColumn("{task.fields[rates]}"),
            rich.progress.TimeElapsedColumn(),
            rich.progress.TimeRemainingColumn(),
            console=err_console,
            transient=False,
        )
        self._label = label
        self._task: rich.progress.TaskID | None = None
        self._counts = {"indexed": 0, "unchanged": 0, "rejected": 0}
        self._started = time.monotonic()

    def start(self, total: int | None) -> None:
        if self._task is None:
            self._bar.start()
        else:
            self._bar.remove_task(self._task)
        self._counts = dict.fromkeys(self._counts, 0)
        self._started = time.monotonic()
        self._task = self._bar.add_task(self._label, total=total, rates="")

    def expect(self, total: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, total=total)

    def advance(self, status: str) -> None:
        self._counts[status] += 1
        elapsed = max(time.monotonic() - self._started, 1e-6)
        done = sum(self._counts.values())
        rates = (
            f"{done / elapsed:,.0f} files/s · {self._counts['indexed'] / elapsed:,.0f} docs/s · "
            f"{self._counts['unchanged']:,} unchanged · {self._counts['rejected']:,} rejected"
        )
        assert self._task is not None
        self._bar.update(self._task, advance=1, rates=rates)

    def stop(self) -> None:
        if self._task is not None:  # a bar never started would still print an empty line
            self._bar.stop()


def _ingest_options(
    workers: int | None, partition: str | None, shards: int | None, replicas: int | None, max_mb: float
) -> IngestOptions:
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


@app.command("stats")
def stats_command(
    index: IndexOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Document count, size, mapping and analysis versions of the index behind the alias, what holds it, and
    warnings: a rebuild needed, bulk-load settings an interrupted load left."""
    settings = state.settings.with_overrides(index=index)
    rows = status.stats_rows(index_stats(connect(settings), settings.index), _analysis_version(settings))
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    console.print(status.stats_table(rows))
    for line in status.warning_lines(rows["warnings"]):
        console.print(line, highlight=False)


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
    '  "B-52 轰炸机"               one exact phrase\n'
    "  title:普京 body:… caption:…  only in the title / body and subheadings / captions and galleries\n"
    "  links:普京                   only in link text (related-reading lists too), never searched without links:\n"
    "  outlet:dw person:习近平 place:… org:… keyword:…  exact values, as `indexer terms` lists them\n"
    "  date:2020-10..2020-12 date:2020 date:2020-07-01..  publish dates (YYYY, YYYY-MM or YYYY-MM-DD, "
    "ends included, configured time zone); --from/--to do the same\n"
    "  date:none                    articles without a publish time (undated); 疫情 -date:none: dated ones only\n\n"
    "Only a known field name before a colon is field syntax: 12:30, B-52: or https://… are searched as text, and "
    "an unknown name: is an error (quote it to search it). Parentheses don't group; quote text that holds ( ) or "
    "starts with -."
)

QueryArg = Annotated[list[str], typer.Argument(help="the query (see above); several words are joined by spaces")]
CountQueryArg = Annotated[
    list[str] | None, typer.Argument(help="the query, as for `indexer search`; none: every article")
]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="published on or after this day/month/year (YYYY[-MM[-DD]])")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="published on or before this day/month/year (YYYY[-MM[-DD]])")]
OutletsOpt = Annotated[list[str] | None, typer.Option("--outlet", help="only this outlet; repeat for several")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="print CSV")]
QUERY_CONTEXT = {"ignore_unknown_options": True}
"""A query may start with an excluded term (-广告 …): not an option."""


def _searcher(index: str | None) -> Searcher:
    searcher = Searcher(state.settings.with_overrides(index=index))
    warning = searcher.version_warning()
    if warning:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    return searcher


def _one_format(**flags: bool) -> str:
    chosen = [name for name, given in flags.items() if given]
    if len(chosen) > 1:
        raise typer.BadParameter(f"choose one of {', '.join('--' + name for name in chosen)}")
    return chosen[0] if chosen else "table"


def _to_stdout(write: Callable[[IO[str]], object]) -> None:
    """Write to stdout; a reader that goes away (`| head`) ends the command quietly."""
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
) -> None:
    searcher = _searcher(index)
    parsed = searcher.parse(" ".join(query), outlet or (), date_from, date_to)
    fmt = _one_format(json=json_output, jsonl=jsonl, csv=csv_output)
    if count:
        typer.echo(searcher.count(parsed))
        return
    if all_hits:
        _export(searcher, parsed, sort, fmt, _keep_alive(keep_alive))
        return
    page = searcher.search(parsed, sort, limit, offset)
    if fmt == "table":
        console.print(output.hits_table(page, searcher.settings.timezone, offset))
    else:
        writers = {
            "json": lambda out: output.write_json(page.total, page.hits, out),
            "jsonl": lambda out: output.write_jsonl(page.hits, out),
            "csv": lambda out: output.write_csv(page.hits, out),
        }
        _to_stdout(writers[fmt])


def _keep_alive(text: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*(ms|s|m|h|d)", text):
        raise typer.BadParameter(f"{text!r} is not a time like 30s, 5m or 1h", param_hint="--keep-alive")
    return text


def _export(searcher: Searcher, query: Query, sort: Sort, fmt: str, keep_alive: str) -> None:
    """Every hit to stdout (`search --all`); a cut-off export says how far it got and what to do."""
    try:
        with searcher.stream(query, sort, keep_alive=keep_alive) as stream:
            writers: dict[str, Callable[[IO[str]], object]] = {
                "json": lambda out: output.write_json(stream.total, stream, out),
                "csv": lambda out: output.write_csv(stream, out),
            }
            _to_stdout(writers.get(fmt, lambda out: output.write_jsonl(stream, out)))
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
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
) -> None:
    """Matching articles per day, week (from Monday), month or year, with a bar chart; empty periods included.

    Periods are in the configured time zone (INDEXER_TIMEZONE, default UTC).
    """
    searcher, parsed = _count_query(index, query, outlet, date_from, date_to)
    histogram = searcher.histogram(parsed, interval)
    _emit_counts(
        _one_format(json=json_output, csv=csv_output),
        lambda: output.histogram_json(histogram),
        lambda out: output.write_histogram_csv(histogram, out),
        lambda: output.histogram_table(histogram),
    )


@app.command("terms", context_settings=QUERY_CONTEXT)
def terms_command(
    query: CountQueryArg = None,
    field_name: Annotated[TermField, typer.Option("--field", help="what to count")] = "person",
    limit: Annotated[int, typer.Option(min=1, help="how many values")] = 20,
    index: IndexOpt = None,
    outlet: OutletsOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    json_output: JsonOpt = False,
    csv_output: CsvOpt = False,
) -> None:
    """The most frequent persons, places, organisations, outlets or keywords among the matching articles."""
    searcher, parsed = _count_query(index, query, outlet, date_from, date_to)
    counts = searcher.terms(parsed, field_name, limit)
    _emit_counts(
        _one_format(json=json_output, csv=csv_output),
        lambda: output.terms_json(counts),
        lambda out: output.write_terms_csv(counts, out),
        lambda: output.terms_table(counts),
    )


def _count_query(
    index: str | None, query: list[str] | None, outlet: list[str] | None, date_from: str | None, date_to: str | None
) -> tuple[Searcher, Query]:
    """The searcher and parsed query of `histogram` and `terms` (an empty query counts every article)."""
    searcher = _searcher(index)
    return searcher, searcher.parse(" ".join(query or ()), outlet or (), date_from, date_to, allow_empty=True)


def _emit_counts(
    fmt: str, as_json: Callable[[], str], as_csv: Callable[[IO[str]], object], as_table: Callable[[], RenderableType]
) -> None:
    if fmt == "json":
        typer.echo(as_json())
    elif fmt == "csv":
        _to_stdout(as_csv)
    else:
        console.print(as_table())


@app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="outlet:id as search prints it, the outlet's article id, or the URL")],
    index: IndexOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the stored document as JSON")] = False,
) -> None:
    """One article as stored: metadata, entities, keywords, text, captions and links."""
    searcher = _searcher(index)
    article = searcher.show(ref)
    if json_output:
        typer.echo(output.article_json(article))
    else:
        console.print(output.article_view(article, searcher.settings.timezone))


KibanaUrlOpt = Annotated[str | None, typer.Option(help="Kibana URL (env: KIBANA_URL; default http://127.0.0.1:5601)")]
KibanaUserOpt = Annotated[
    str | None, typer.Option(help="Kibana user (env: KIBANA_USERNAME; default: the Elasticsearch credentials)")
]
KibanaPasswordOpt = Annotated[str | None, typer.Option(help="Kibana password (prefer the env var KIBANA_PASSWORD)")]
KibanaVerifyOpt = Annotated[
    bool | None, typer.Option("--kibana-verify/--no-kibana-verify", help="check Kibana's TLS certificate [default: on]")
]
KibanaSpaceOpt = Annotated[
    str | None, typer.Option("--space", help="Kibana space id (env: KIBANA_SPACE; default: the default space)")
]
ObjectsFileOpt = Annotated[
    Path | None, typer.Option("--file", help="saved objects file (NDJSON) [default: the objects shipped with indexer]")
]
ExportFileOpt = Annotated[
    Path,
    typer.Option(
        "--file",
        help="file to write (NDJSON); if it exists, the objects it holds are exported, else the shipped ones",
    ),
]


def _kibana_settings(
    url: str | None, username: str | None, password: str | None, verify: bool | None, space: str | None
) -> Settings:
    """The top-level settings with the Kibana options given to a `kibana` command."""
    return state.settings.with_overrides(
        kibana_url=url, kibana_username=username, kibana_password=password, kibana_verify=verify, kibana_space=space
    )


@kibana_app.command("setup")
def kibana_setup(
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    space: KibanaSpaceOpt = None,
    index: Annotated[str | None, typer.Option(help="alias the data view points at (env: INDEXER_INDEX; news)")] = None,
    file: ObjectsFileOpt = None,
) -> None:
    """Import the data view (on the index alias), saved search and "News archive" dashboard, overwriting them."""
    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify, space)
    settings = settings.with_overrides(index=index)
    report = kibana.setup(settings, file)
    console.print(
        f"Kibana {report.version}: imported {report.imported} saved objects into space {report.space!r}, "
        f"data view on {settings.index!r}",
        highlight=False,
        soft_wrap=True,
    )
    for title, url in report.dashboards:
        console.print(f"{title}: {url}", soft_wrap=True, highlight=False)


@kibana_app.command("export")
def kibana_export(
    file: ExportFileOpt,
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    space: KibanaSpaceOpt = None,
) -> None:
    """Write Kibana's current version of the objects to a file (normalized), e.g. after editing them in Kibana."""
    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify, space)
    report = kibana.export(settings, file)
    console.print(f"Kibana {report.version}: wrote {len(report.objects)} objects to {report.path}", highlight=False)


OPTION_NAMES: dict[str, tuple[str, str | None]] = {
    "partition": ("--partition", None),
    "outlet": ("--outlet", None),
    "date_from/date_to": ("--from/--to", None),
    "offset + limit": ("--offset + --limit", "use --all to get every hit"),
    "offset and limit": ("--offset and --limit", None),
}
"""The CLI's names (and hints) for the library parameters that errors name (IndexerError.param)."""


def _in_cli_terms(error: IndexerError) -> IndexerError:
    if error.param not in OPTION_NAMES:
        return error
    return error.renamed(*OPTION_NAMES[error.param])


def main() -> None:
    """Console entry point: expected failures print one line with a fix and exit 1; --debug shows tracebacks.

    Error lines and tracebacks pass through Settings.scrub: no secret, and no credentials in a URL, are shown.
    """
    try:
        app()
    except Exception as exc:
        error = explain(exc, state.settings)
        if error is None or state.debug:
            trace = "".join(traceback.format_exception(exc))
            err_console.print(escape(state.settings.scrub(trace)), highlight=False, soft_wrap=True, end="")
            sys.exit(1)
        message = clip(state.settings.scrub(str(_in_cli_terms(error))))
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
