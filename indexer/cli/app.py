"""The app every command registers on, the options and helpers commands share, and the entry point."""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from indexer.config import Settings, load_settings
from indexer.errors import IndexerError, clip

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from typer.models import CommandInfo

    from indexer.counting import AliasReader, LightCounter
    from indexer.query import Query
    from indexer.search import Searcher

    Reader = TypeVar("Reader", bound=AliasReader)

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


class LazyConsole:
    """A rich Console made on first use: a command that prints only plain text (``search --count``, JSON)
    doesn't load rich. Attributes and ``with`` (rich's Live and Progress use it) go to the real one."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> Console:
        return self.real.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.real.__exit__(*exc)


console = LazyConsole(emoji=False)
err_console = LazyConsole(stderr=True, emoji=False)


def warn(message: str) -> None:
    """One yellow ``warning:`` line on stderr."""
    from rich.markup import escape

    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


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
        warn(warning)


IndexOpt = Annotated[str | None, typer.Option("--index", help="index alias (env: INDEXER_INDEX; default news)")]
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
ProvenanceOpt = Annotated[
    Path | None,
    typer.Option(
        "--provenance",
        help="also write where the result came from (command, query, filters, index and its mapping and analysis "
        "versions, article count, time) as JSON to this file",
        dir_okay=False,
    ),
]
UniqueOpt = Annotated[
    bool, typer.Option("--unique", help="count stories (near-duplicate copies once), exactly, instead of articles")
]
QUERY_CONTEXT = {"ignore_unknown_options": True}
"""A query may start with an excluded term (-广告 …): not an option."""


def open_searcher(index: str | None) -> Searcher:
    from indexer.search import Searcher

    return _warned(Searcher(state.settings.with_overrides(index=index)))


def open_counter(index: str | None) -> LightCounter:
    """A reader for `search --count`: no elasticsearch-py to import (see indexer.counting)."""
    from indexer.counting import LightCounter

    return _warned(LightCounter(state.settings.with_overrides(index=index)))


def _warned(reader: Reader) -> Reader:
    warning = reader.version_warning()
    if warning:
        warn(warning)
    return reader


def note_spellings(spellings: Mapping[str, Sequence[str]]) -> None:
    """Say on stderr which spellings the ``~`` terms searched (for output that has no place for it)."""
    from indexer.query import spellings_note

    note = spellings_note(spellings)
    if note:
        from rich.markup import escape

        err_console.print(f"[cyan]note:[/] {escape(note)}", highlight=False, soft_wrap=True)


def one_format(**flags: bool) -> str:
    chosen = [name for name, given in flags.items() if given]
    if len(chosen) > 1:
        raise typer.BadParameter(f"choose one of {', '.join('--' + name for name in chosen)}")
    return chosen[0] if chosen else "table"


def to_stdout(write: Callable[[IO[str]], object]) -> None:
    """Write to stdout; a reader that goes away (`| head`) ends the command quietly."""
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def count_query(
    index: str | None, query: list[str] | None, outlet: list[str] | None, date_from: str | None, date_to: str | None
) -> tuple[Searcher, Query]:
    """The searcher and parsed query of `histogram` and `terms` (an empty query counts every article)."""
    from indexer.query import searched_spellings

    searcher = open_searcher(index)
    parsed = searcher.parse(" ".join(query or ()), outlet or (), date_from, date_to, allow_empty=True)
    note_spellings(searched_spellings(parsed))
    return searcher, parsed


def save_provenance(
    path: Path | None,
    searcher: Searcher,
    query: str,
    filters: dict[str, object],
    parameters: dict[str, object] | None = None,
) -> None:
    """With --provenance FILE: write the provenance record of this command line (secrets removed) to FILE."""
    if path is None:
        return
    from rich.markup import escape

    from indexer.provenance import provenance, write_provenance

    command = state.settings.scrub(shlex.join(["indexer", *sys.argv[1:]]))
    write_provenance(provenance(searcher, command, query, filters, parameters), path)
    err_console.print(f"provenance written to {escape(str(path))}", highlight=False, soft_wrap=True)


def filters(outlet: list[str] | None, date_from: str | None, date_to: str | None) -> dict[str, object]:
    """The --outlet/--from/--to filters, as a provenance record names them."""
    return {"outlet": list(outlet or ()), "from": date_from, "to": date_to}


def emit_counts(
    fmt: str, as_json: Callable[[], str], as_csv: Callable[[IO[str]], object], as_table: Callable[[], RenderableType]
) -> None:
    if fmt == "json":
        typer.echo(as_json())
    elif fmt == "csv":
        to_stdout(as_csv)
    else:
        console.print(as_table())


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


def _explained(exc: Exception) -> IndexerError | None:
    from indexer.client import explain

    return explain(exc, state.settings)


@contextmanager
def _only_named(args: Sequence[str]) -> Iterator[None]:
    """Only the commands and command groups whose names are among `args` stay registered meanwhile (all of them
    when none is): typer builds every registered command at each start, evaluating the type hints of its
    signature, which took more time than the whole of a `search --count` besides. The command the arguments run
    is always among them (its name is one of the arguments); another word of them that happens to name a command
    only keeps that one too."""
    words = set(args)
    commands = [info for info in app.registered_commands if _command_name(info) in words]
    groups = [info for info in app.registered_groups if info.name in words]
    if not commands and not groups:
        yield
        return
    every = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = commands, groups
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = every


def _command_name(info: CommandInfo) -> str:
    if info.name:
        return info.name
    assert info.callback is not None
    return info.callback.__name__.lower().replace("_", "-")  # typer's default name


def main() -> None:
    """Console entry point: expected failures print one line with a fix and exit 1; --debug shows tracebacks.

    Error lines and tracebacks pass through Settings.scrub: no secret, and no credentials in a URL, are shown.
    """
    try:
        with _only_named(sys.argv[1:]):
            app()
    except Exception as exc:
        from rich.markup import escape

        error = exc if isinstance(exc, IndexerError) else _explained(exc)
        if error is None or state.debug:
            trace = "".join(traceback.format_exception(exc))
            err_console.print(escape(state.settings.scrub(trace)), highlight=False, soft_wrap=True, end="")
            sys.exit(1)
        message = clip(state.settings.scrub(str(_in_cli_terms(error))))
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
