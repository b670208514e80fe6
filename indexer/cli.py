"""The `indexer` command line: a thin layer that wires options to the library modules."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from indexer import kibana, node
from indexer.client import connect, explain, redact_url, server_info
from indexer.config import Settings, load_settings
from indexer.errors import IndexerError

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

console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    """What the top-level options resolve to, shared by every command."""

    settings: Settings = field(default_factory=Settings)
    debug: bool = False


state = State()


@app.callback()
def main_options(
    es_url: Annotated[
        list[str] | None, typer.Option("--es-url", help="Elasticsearch URL; repeat for several hosts [env: ES_URL]")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="API key [env: ES_API_KEY]", show_default=False)] = None,
    username: Annotated[str | None, typer.Option(help="user for basic auth [env: ES_USERNAME]")] = None,
    password: Annotated[str | None, typer.Option(help="password (prefer the env var) [env: ES_PASSWORD]")] = None,
    ca_certs: Annotated[Path | None, typer.Option(help="CA certificate file [env: ES_CA_CERTS]")] = None,
    ca_fingerprint: Annotated[
        str | None, typer.Option(help="SHA-256 fingerprint of the CA [env: ES_CA_FINGERPRINT]")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="request timeout in seconds [env: ES_TIMEOUT]")] = None,
    config: Annotated[
        Path | None, typer.Option(help="config file [env: INDEXER_CONFIG; default ~/.config/news-indexer/config.toml]")
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


PortOpt = Annotated[int | None, typer.Option(help="HTTP port of the first node [env: INDEXER_NODE_PORT; 9200]")]
CacheOpt = Annotated[Path | None, typer.Option(help="download and data dir [env: INDEXER_CACHE_DIR]")]
NodeOpt = Annotated[int | None, typer.Option("--node", help="only this node (0, 1, ...) of a multi-node cluster")]


@node_app.command("start")
def node_start(
    port: PortOpt = None,
    heap: Annotated[str | None, typer.Option(help="JVM heap per node, e.g. 512m [env: INDEXER_NODE_HEAP; 1g]")] = None,
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
    log_file = node.status(spec).nodes[only or 0].log_file
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
def doctor() -> None:
    """Show the settings in use, what they connect to, the server version and health."""
    settings = state.settings
    table = Table("setting", "value", "from", title="Settings")
    for name, value, source in settings.describe():
        table.add_row(name, redact_url(value) if name == "hosts" else value, source)
    console.print(table)
    es = connect(settings)
    info = server_info(es)
    console.print(
        f"Elasticsearch {info.version} at {', '.join(redact_url(h) for h in settings.hosts)}: "
        f"cluster {info.cluster_name!r}, {info.nodes} node(s), health {info.health}"
    )


KibanaUrlOpt = Annotated[str | None, typer.Option(help="Kibana URL [env: KIBANA_URL; default http://127.0.0.1:5601]")]
KibanaUserOpt = Annotated[
    str | None, typer.Option(help="Kibana user [env: KIBANA_USERNAME; default: the Elasticsearch credentials]")
]
KibanaPasswordOpt = Annotated[str | None, typer.Option(help="Kibana password (prefer the env var KIBANA_PASSWORD)")]
KibanaVerifyOpt = Annotated[
    bool | None, typer.Option("--kibana-verify/--no-kibana-verify", help="check Kibana's TLS certificate [default: on]")
]
ObjectsFileOpt = Annotated[Path, typer.Option("--file", help="saved objects file (NDJSON)")]


def _kibana_settings(url: str | None, username: str | None, password: str | None, verify: bool | None) -> Settings:
    """The top-level settings with the Kibana options given to a `kibana` command."""
    return state.settings.with_overrides(
        kibana_url=url, kibana_username=username, kibana_password=password, kibana_verify=verify
    )


@kibana_app.command("setup")
def kibana_setup(
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    index: Annotated[str | None, typer.Option(help="alias the data view points at [env: INDEXER_INDEX; news]")] = None,
    file: ObjectsFileOpt = kibana.OBJECTS_FILE,
) -> None:
    """Import the data view (on the index alias), saved search and "News archive" dashboard, overwriting them."""
    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify).with_overrides(index=index)
    report = kibana.setup(settings, file)
    console.print(
        f"Kibana {report.version}: imported {report.imported} saved objects, data view on {settings.index!r}",
        highlight=False,
    )
    for title, url in report.dashboards:
        console.print(f"{title}: {url}", soft_wrap=True, highlight=False)


@kibana_app.command("export")
def kibana_export(
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    file: ObjectsFileOpt = kibana.OBJECTS_FILE,
) -> None:
    """Write Kibana's current version of the file's objects back to it (normalized), e.g. after UI edits."""
    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify)
    report = kibana.export(settings, file)
    console.print(f"Kibana {report.version}: wrote {len(report.objects)} objects to {report.path}", highlight=False)


def main() -> None:
    """Console entry point: expected failures print one line with a fix and exit 1; --debug shows tracebacks."""
    try:
        app()
    except Exception as exc:
        error = explain(exc, state.settings)
        if error is None or state.debug:
            raise
        message = str(error)
        for secret in state.settings.secrets():
            message = message.replace(secret, "***")
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
